// verifyCallback on the outcome POSTs Courier really sends: through QStash, and directly
// (Courier's own signing code, as it signs when QStash is down); forged ones are refused.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { after, before, test } from "node:test";

import { verifyCallback } from "../dist/callbacks.js";
import { connect, PYTHON } from "./support/stack.mjs";

const { stack, courier } = await connect();
let receiver;

/** The app's callback route: verifies each POST and keeps the outcome or the refusal. */
async function callbackReceiver(keys) {
  const outcomes = [];
  const refusals = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const request = new Request(`http://127.0.0.1:${server.address().port}${req.url}`, { method: req.method, headers: req.headers, body: Buffer.concat(chunks) });
    try {
      outcomes.push(await verifyCallback(request, keys));
      res.writeHead(204).end();
    } catch (error) {
      refusals.push(error);
      res.writeHead(error.status ?? 500).end();
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return { url: (path) => `http://127.0.0.1:${server.address().port}${path}`, outcomes, refusals, close: () => server.close() };
}

/** A body signed by Courier's own code for the direct path (courier.signatures.sign). */
function signedDirectly(key, url, body) {
  const script = "import sys; from courier.signatures import sign; print(sign(sys.argv[1], url=sys.argv[2], body=sys.argv[3].encode()))";
  const root = resolve(import.meta.dirname, "..", "..", "..");
  return execFileSync(PYTHON, ["-c", script, key, url, body], { cwd: root, encoding: "utf8" }).trim();
}

before(async () => {
  receiver = await callbackReceiver(stack.signingKeys);
});
after(() => receiver?.close());

test("a job's outcome through QStash is verified and typed", async () => {
  const callbackUrl = receiver.url("/courier/callback");
  const { jobId } = await courier.jobs.enqueue({ type: "text.hash", input: { text: "call me" }, callbackUrl });
  await courier.jobs.wait(jobId);
  for (let i = 0; i < 100 && !receiver.outcomes.some((o) => o.jobId === jobId); i++) await new Promise((done) => setTimeout(done, 100));
  const outcome = receiver.outcomes.find((o) => o.jobId === jobId);
  assert.equal(outcome?.status, "succeeded");
  assert.equal(outcome?.type, "text.hash");
  assert.equal(typeof outcome?.result?.digest, "string");
});

test("a direct POST signed the way Courier signs it when QStash is down verifies too", async () => {
  const url = receiver.url("/courier/callback");
  const body = JSON.stringify({ jobId: "job_direct", type: "text.hash", status: "failed", error: { code: "x", message: "y", retryable: false }, finishedAt: new Date().toISOString() });
  for (const key of [stack.signingKeys.currentSigningKey, stack.signingKeys.nextSigningKey]) {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "upstash-signature": signedDirectly(key, url, body) }, body });
    assert.equal(response.status, 204);
  }
  assert.equal(receiver.outcomes.filter((o) => o.jobId === "job_direct").length, 2);
});

test("forged, altered and misdirected callbacks are refused", async () => {
  const url = receiver.url("/courier/callback");
  const body = JSON.stringify({ jobId: "job_forged", type: "text.hash", status: "succeeded", finishedAt: new Date().toISOString() });
  const attempts = [
    ["no signature", undefined, body],
    ["a made-up token", "eyJhbGciOiJIUzI1NiJ9.e30.forged", body],
    ["another key", signedDirectly("sig_not_the_key", url, body), body],
    ["another body", signedDirectly(stack.signingKeys.currentSigningKey, url, body), body.replace("succeeded", "failed")],
    ["another URL", signedDirectly(stack.signingKeys.currentSigningKey, receiver.url("/elsewhere"), body), body],
  ];
  for (const [what, signature, sent] of attempts) {
    const headers = { "content-type": "application/json", ...(signature ? { "upstash-signature": signature } : {}) };
    const response = await fetch(url, { method: "POST", headers, body: sent });
    assert.equal(response.status, 401, what);
    assert.equal(receiver.refusals.at(-1)?.code, "invalid_signature", what);
  }
  assert.ok(!receiver.outcomes.some((o) => o.jobId === "job_forged"));
});
