// 429 and 503 are tried again after the API's Retry-After, within the caller's budget; a
// server on loopback plays API Gateway throttling, which the local stack does not.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";

import { Courier, CourierError } from "../dist/index.js";

async function serve(answers) {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(Date.now());
    const [status, headers, body] = answers[Math.min(seen.length - 1, answers.length - 1)];
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() };
}

const throttled = [429, { "retry-after": "1" }, { error: { code: "throttled", message: "slow down" } }];
const listed = [200, {}, { jobs: [], cursor: null }];

test("a 429 is tried again after its Retry-After", async () => {
  const api = await serve([throttled, listed]);
  try {
    const courier = new Courier({ baseUrl: api.url, apiKey: "ck_test" });
    assert.deepEqual(await courier.jobs.list(), { jobs: [], cursor: null });
    assert.equal(api.seen.length, 2);
    assert.ok(api.seen[1] - api.seen[0] >= 950, `waited ${api.seen[1] - api.seen[0]} ms`);
  } finally {
    api.close();
  }
});

test("never past the budget: a wait that would overrun it is not taken", async () => {
  const api = await serve([[503, { "retry-after": "2" }, { error: { code: "queues_unavailable", message: "both queues down" } }]]);
  try {
    const courier = new Courier({ baseUrl: api.url, apiKey: "ck_test", retryBudgetMs: 1500 });
    const started = Date.now();
    await assert.rejects(courier.jobs.list(), (e) => e instanceof CourierError && e.status === 503 && e.code === "queues_unavailable" && e.retryAfter === 2);
    assert.equal(api.seen.length, 1);
    assert.ok(Date.now() - started < 1000);
  } finally {
    api.close();
  }
});

test("retries are counted, and other errors are not retried", async () => {
  const api = await serve([[503, {}, { error: { code: "unavailable", message: "later" } }]]);
  const refusing = await serve([[422, {}, { error: { code: "invalid_input", message: "bad" } }]]);
  try {
    await assert.rejects(new Courier({ baseUrl: api.url, apiKey: "k", retries: 2 }).jobs.list(), (e) => e.status === 503);
    assert.equal(api.seen.length, 3);
    await assert.rejects(new Courier({ baseUrl: refusing.url, apiKey: "k" }).jobs.list(), (e) => e.code === "invalid_input");
    assert.equal(refusing.seen.length, 1);
  } finally {
    api.close();
    refusing.close();
  }
});

test("a network failure is a CourierError too", async () => {
  const api = await serve([listed]);
  api.close();
  await new Promise((done) => setTimeout(done, 50));
  await assert.rejects(new Courier({ baseUrl: api.url, apiKey: "k", retries: 1 }).jobs.list(), (e) => e instanceof CourierError && e.code === "network_error" && e.status === 0
    && e.message.startsWith(`GET ${api.url}/v1/jobs did not answer (`) && e.message.includes("ECONNREFUSED"));
});

test("without a URL and key it says what is missing", () => {
  assert.throws(() => new Courier({}), (e) => e instanceof CourierError && e.code === "misconfigured");
});
