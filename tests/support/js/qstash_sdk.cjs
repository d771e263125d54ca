// Drives the local QStash server with the official JS SDK (@upstash/qstash).
// usage: node qstash_sdk.cjs publish <baseUrl> <token> <url> <json>
//        node qstash_sdk.cjs verify <current> <next> <signature> <url>   (body on stdin)
const { Client, Receiver } = require("@upstash/qstash");

async function main() {
  const [command, ...args] = process.argv.slice(2);
  if (command === "publish") {
    const [baseUrl, token, url, json] = args;
    const client = new Client({ baseUrl, token, retry: false });
    const result = await client.publishJSON({ url, body: JSON.parse(json), headers: { "X-From": "js" } });
    process.stdout.write(JSON.stringify(result));
  } else if (command === "verify") {
    const [currentSigningKey, nextSigningKey, signature, url] = args;
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString("utf8");
    const receiver = new Receiver({ currentSigningKey, nextSigningKey });
    const valid = await receiver.verify({ signature, body, url });
    process.stdout.write(JSON.stringify({ valid }));
  } else {
    throw new Error(`unknown command ${command}`);
  }
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
