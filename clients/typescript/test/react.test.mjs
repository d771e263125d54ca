// useJob in Node with React's own act() and react-dom, in a jsdom document, against a local
// stack: it follows a real job to its end, and does not poll while the tab is hidden.
import assert from "node:assert/strict";
import { test } from "node:test";

import { JSDOM } from "jsdom";

import { connect } from "./support/stack.mjs";

const dom = new JSDOM("<!doctype html><div id=root></div>");
let visibility = "visible";
Object.defineProperty(dom.window.document, "visibilityState", { get: () => visibility });
Object.assign(globalThis, { window: dom.window, document: dom.window.document, IS_REACT_ACT_ENVIRONMENT: true });
if (!("navigator" in globalThis)) Object.defineProperty(globalThis, "navigator", { value: dom.window.navigator, configurable: true });

const { createElement, act } = await import("react");
const { createRoot } = await import("react-dom/client");
const { useJob } = await import("../dist/react.js");

const { stack, courier } = await connect();

function render(jobId, fetcher) {
  const seen = [];
  function Status() {
    const state = useJob(jobId, { fetcher, intervalMs: 100, maxIntervalMs: 200 });
    seen.push(state);
    return createElement("p", null, `${state.status ?? "loading"} ${state.progress?.stage ?? ""}`);
  }
  const root = createRoot(document.getElementById("root"));
  act(() => root.render(createElement(Status)));
  return { seen, root };
}

async function until(predicate, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await act(() => new Promise((done) => setTimeout(done, 50)));
  }
}

test("useJob follows a job through its progress to its result", async () => {
  const { jobId } = await courier.jobs.enqueue({ type: "demo.sleep", input: { seconds: 1.5 } });
  const { seen, root } = render(jobId, (id) => courier.jobs.get(id));
  await until(() => seen.at(-1)?.done);
  const last = seen.at(-1);
  assert.equal(last.status, "succeeded");
  assert.equal(last.result?.slept, 1.5);
  assert.ok(seen.some((s) => s.status === "running" && s.progress?.stage === "sleeping"), "saw it running, with progress");
  assert.match(document.getElementById("root").textContent, /^succeeded/);
  act(() => root.unmount());
});

test("useJob does not poll while the tab is hidden, and polls again when it is back", async () => {
  const { jobId } = await courier.jobs.enqueue({ type: "demo.sleep", input: { seconds: 3 } });
  let calls = 0;
  const fetcher = (id) => { calls += 1; return courier.jobs.get(id); };
  const { seen, root } = render(jobId, fetcher);
  await until(() => calls >= 2);
  visibility = "hidden";
  act(() => document.dispatchEvent(new dom.window.Event("visibilitychange")));
  await act(() => new Promise((done) => setTimeout(done, 150)));
  const whileHidden = calls;
  await act(() => new Promise((done) => setTimeout(done, 1000)));
  assert.ok(calls <= whileHidden + 1, `polled ${calls - whileHidden} times while hidden`);
  visibility = "visible";
  act(() => document.dispatchEvent(new dom.window.Event("visibilitychange")));
  await until(() => seen.at(-1)?.done);
  assert.equal(seen.at(-1).status, "succeeded");
  assert.ok(calls > whileHidden + 1);
  act(() => root.unmount());
});

test("useJob stops on a job that does not exist", async () => {
  let calls = 0;
  const { seen, root } = render("job_none", (id) => { calls += 1; return courier.jobs.get(id); });
  await until(() => seen.at(-1)?.done);
  assert.equal(seen.at(-1).error?.status, 404);
  const after = calls;
  await act(() => new Promise((done) => setTimeout(done, 400)));
  assert.equal(calls, after);
  act(() => root.unmount());
});

test("an inline fetcher (a new function each render) does not restart the polling", { timeout: 20_000 }, async () => {
  const { jobId } = await courier.jobs.enqueue({ type: "demo.sleep", input: { seconds: 1 } });
  let calls = 0;
  const seen = [];
  function Status() {
    const state = useJob(jobId, { fetcher: (id) => { calls += 1; return courier.jobs.get(id); }, intervalMs: 100, maxIntervalMs: 200 });
    seen.push(state);
    return createElement("p", null, state.status ?? "loading");
  }
  const root = createRoot(document.getElementById("root"));
  act(() => root.render(createElement(Status)));
  const started = Date.now();
  await until(() => seen.at(-1)?.done);
  assert.equal(seen.at(-1).status, "succeeded");
  const expected = Math.ceil((Date.now() - started) / 100) + 2; // one poll per interval at most
  assert.ok(calls <= expected, `${calls} polls in ${Date.now() - started} ms`);
  act(() => root.unmount());
});
