// The client against the local stack (`courier dev up`): every call a web app makes
// (callbacks: callbacks.test.mjs; retries against a throttling server: retries.test.mjs).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { Courier, CourierError } from "../dist/index.js";
import { connect } from "./support/stack.mjs";

const { stack, courier } = await connect();

test("enqueue, wait for the result", async () => {
  const { jobId, status, statusUrl } = await courier.jobs.enqueue({ type: "text.hash", input: { text: "hello" }, idempotencyKey: "ts-hello" });
  assert.equal(status === "queued" || status === "running" || status === "succeeded", true);
  assert.ok(statusUrl.endsWith(`/v1/jobs/${jobId}`));
  const again = await courier.jobs.enqueue({ type: "text.hash", input: { text: "hello" }, idempotencyKey: "ts-hello" });
  assert.equal(again.jobId, jobId); // the same idempotent request, the same job
  const done = await courier.jobs.wait(jobId, { timeoutMs: 30_000 });
  assert.equal(done.status, "succeeded");
  assert.equal(done.result?.digest, createHash("sha256").update("hello").digest("hex"));
});

test("wait reports progress as the job makes it", async () => {
  const { jobId } = await courier.jobs.enqueue({ type: "demo.sleep", input: { seconds: 2.5 } });
  const stages = [];
  const done = await courier.jobs.wait(jobId, { intervalMs: 200, maxIntervalMs: 400, onProgress: (p) => stages.push(p) });
  assert.equal(done.status, "succeeded");
  assert.ok(stages.length >= 2, `saw ${stages.length} progress reports`);
  const last = stages.at(-1);
  assert.ok(stages.slice(0, -1).every((p) => p.stage === "sleeping" && p.fraction >= 0 && p.fraction <= 1));
  assert.ok(last.stage === "done" && last.fraction === 1, `ends ${JSON.stringify(last)}`);  // a succeeded job is done, not "sleeping 93%"
});

test("a dead job is retried and succeeds", async () => {
  const { jobId } = await courier.jobs.enqueue({ type: "demo.sleep", input: { failTimes: 4 } });
  const dead = await courier.jobs.wait(jobId, { timeoutMs: 60_000, intervalMs: 200 });
  assert.equal(dead.status, "dead");
  assert.equal(dead.error?.code, "retries_exhausted");
  assert.ok((await courier.jobs.list({ status: "dead" })).jobs.some((job) => job.jobId === jobId));
  await courier.jobs.retry(jobId);
  const done = await courier.jobs.wait(jobId, { timeoutMs: 60_000, intervalMs: 200 });
  assert.equal(done.status, "succeeded");
  assert.equal(done.attempts, 5);
});

test("an upload, then a job that reads it", async () => {
  const text = "uploaded from the TypeScript client\n".repeat(100);
  const { key } = await courier.uploads.put(new Blob([text]), { contentType: "text/plain", filename: "notes.txt" });
  assert.match(key, /^uploads\/acme\//);
  const { jobId } = await courier.jobs.enqueue({ type: "text.hash", input: { uploadKey: key } });
  const done = await courier.jobs.wait(jobId);
  assert.equal(done.result?.digest, createHash("sha256").update(text).digest("hex"));
  assert.equal(done.result?.bytes, text.length);
});

test("this month's usage counts the tenant's jobs, and a job's files are listed", async () => {
  const before = await courier.usage();
  const { jobId } = await courier.jobs.enqueue({ type: "text.hash", input: { text: "counted" } });
  await courier.jobs.wait(jobId);
  const after = await courier.usage();
  assert.match(after.month, /^\d{4}-\d{2}$/);
  assert.ok(after.jobs >= before.jobs + 1 && after.computeSeconds > before.computeSeconds);
  assert.ok(after.byType["text.hash"].jobs >= (before.byType["text.hash"]?.jobs ?? 0) + 1);
  assert.deepEqual((await courier.jobs.files(jobId)).files, []); // a hash stores no file
  await assert.rejects(courier.usage("2026-13"), (error) => error.code === "invalid_month" && error.status === 422);
});

test("a prompt routed through the fake model server", async () => {
  const answer = await courier.route({ task: "generation", prompt: "Name a river." });
  assert.equal(answer.route, "generation");
  assert.equal(answer.deployment, "DeepSeek-V3-0324");
  assert.match(String(answer.output), /Name a river/);
});

test("a schedule is created, listed, paused and deleted", async () => {
  const schedule = await courier.schedules.create({ cron: "0 2 * * *", timezone: "Europe/Berlin", type: "text.hash", input: { text: "nightly" } });
  assert.match(schedule.nextRunAt ?? "", /T0[01]:00:00Z$/); // 02:00 in Berlin
  assert.ok((await courier.schedules.list()).some((s) => s.scheduleId === schedule.scheduleId));
  assert.equal((await courier.schedules.pause(schedule.scheduleId)).paused, true);
  await courier.schedules.delete(schedule.scheduleId);
  await assert.rejects(courier.schedules.get(schedule.scheduleId), (e) => e instanceof CourierError && e.status === 404);
});

test("errors are CourierErrors with the API's status and code", async () => {
  await assert.rejects(courier.jobs.get("job_nope"), (e) => e instanceof CourierError && e.status === 404 && e.code === "not_found");
  await assert.rejects(courier.jobs.enqueue({ type: "no.such", input: {} }), (e) => e.status === 400 && e.code === "unknown_job_type");
  const stranger = new Courier({ baseUrl: stack.url, apiKey: "ck_wrong" });
  await assert.rejects(stranger.jobs.list(), (e) => e.status === 401);
});
