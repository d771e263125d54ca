// Drives the local QStash server with the official JS SDK (@upstash/qstash).
// usage: node qstash_sdk.cjs publish <baseUrl> <token> <url> <json>
//        node qstash_sdk.cjs verify <current> <next> <signature> <url>   (body on stdin)
//        node qstash_sdk.cjs llm <baseUrl> <token> <providerBaseUrl> <callbackUrl> <json>
//        node qstash_sdk.cjs flow <baseUrl> <token> <key> <action>[,<action>...]   (get, pause, resume,
//             pin, unpin, resetRate, global: each one's answer, in order)
const { Client, Receiver, custom } = require("@upstash/qstash");

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
  } else if (command === "llm") {
    const [baseUrl, token, providerBaseUrl, callback, json] = args;
    const client = new Client({ baseUrl, token, retry: false });
    const provider = custom({ baseUrl: providerBaseUrl, token: "sk-local" });
    process.stdout.write(JSON.stringify(await client.publishJSON({ api: { name: "llm", provider }, body: JSON.parse(json), callback })));
  } else if (command === "flow") {
    const [baseUrl, token, key, actions] = args;
    const { flowControl } = new Client({ baseUrl, token, retry: false });
    const answers = [];
    for (const action of actions.split(",")) {
      if (action === "get") answers.push(await flowControl.get(key));
      else if (action === "global") answers.push(await flowControl.getGlobalParallelism());
      else if (action === "pin") answers.push((await flowControl.pin(key, { parallelism: 4, rate: 10, period: 60 })) ?? null);
      else if (action === "unpin") answers.push((await flowControl.unpin(key, { parallelism: true, rate: true })) ?? null);
      else answers.push((await flowControl[action](key)) ?? null);
    }
    process.stdout.write(JSON.stringify(answers));
  } else {
    throw new Error(`unknown command ${command}`);
  }
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
