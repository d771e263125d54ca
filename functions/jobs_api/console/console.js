// The Courier console: the jobs API as a page. Plain DOM (text only, never HTML from data),
// one origin, the API key in this tab's sessionStorage and the Authorization header only.
"use strict";

const KEY = "courier.apiKey";
const REFRESH_MS = 2000;
const STATUSES = ["all", "queued", "running", "retrying", "waiting", "succeeded", "failed", "dead", "cancelled"];
const state = { filter: "all", selected: null, source: null, timer: null, busy: false, tenant: null, session: 0 };
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}`, ...(options.headers || {}) },
    cache: "no-store",
    credentials: "omit",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error || { code: "http_error", message: response.statusText };
    throw new ApiError(response.status, error.code, error.message);
  }
  return body;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "onclick") node.addEventListener("click", value);
    else if (name === "width") node.style.width = value; // CSSOM, which the CSP allows (a style attribute it would not)
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  return node;
}

// Dates as people read them anywhere (2026-12-04 13:05:09, this browser's time zone).
const pad = (n) => String(n).padStart(2, "0");
function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function took(job) {
  if (!job.startedAt || !job.finishedAt) return "";
  const seconds = (new Date(job.finishedAt) - new Date(job.startedAt)) / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
}
const badge = (status) => el("span", { class: `status status-${status}` }, status);
function progress(job) {
  if (!job.progress) return "";
  const percent = Math.round(job.progress.fraction * 100);
  return el("span", { title: job.progress.message || job.progress.stage },
    el("span", { class: "bar" }, el("span", { width: `${percent}%` })), ` ${job.progress.stage} ${percent}%`);
}
const errorText = (job) => (job.error ? `${job.error.code}: ${job.error.message}` : "");

function fill(table, emptyId, rows) {
  // A cell takes its column's class (`wide`: hidden on a narrow screen).
  const classes = [...$(table).querySelectorAll("thead th")].map((th) => th.className);
  for (const row of rows) [...row.children].forEach((cell, i) => { if (classes[i]) cell.className = classes[i]; });
  $(table).querySelector("tbody").replaceChildren(...rows);
  $(table).hidden = rows.length === 0;
  $(emptyId).hidden = rows.length > 0;
}

// Job ids begin with their time, so their ends tell them apart; the whole id is the title.
const shortId = (id) => el("code", { title: id }, `…${id.slice(-10)}`);

function retryButton(job) {
  return el("button", {
    class: "primary retry", dataset: { jobId: job.jobId },
    onclick: async (event) => {
      event.stopPropagation();
      event.target.disabled = true;
      try {
        await api(`/v1/jobs/${encodeURIComponent(job.jobId)}/retry`, { method: "POST" });
        notice("");
        info(`Job …${job.jobId.slice(-10)} (${job.type}) is queued again: it leaves this list and runs under Jobs.`);
      } catch (error) {
        notice(`retry failed: ${error.message}`);
      }
      refresh();
    },
  }, "Retry");
}

function jobRow(job, cells) {
  return el("tr", { class: "job", dataset: { jobId: job.jobId, status: job.status }, onclick: () => select(job.jobId) }, ...cells.map((c) => el("td", {}, c)));
}

function renderJobs(jobs) {
  const none = jobs.length === 0 && state.filter === "all";
  $("first-job").hidden = !none;
  if (none) {
    $("first-job-command").textContent = `curl -X POST ${location.origin}/v1/jobs -H "Authorization: Bearer $COURIER_API_KEY" \\\n`
      + `  -H 'content-type: application/json' -d '{"type": "text.hash", "input": {"text": "hello"}}'`;
  }
  fill("jobs", "jobs-empty", jobs.map((job) => jobRow(job, [
    shortId(job.jobId), job.type, badge(job.status), String(job.attempts), job.transport || "",
    progress(job), when(job.createdAt), took(job), errorText(job),
  ])));
  if (none) $("jobs-empty").hidden = true;
}

function renderDead(jobs) {
  fill("dead-jobs", "dead-empty", jobs.map((job) => jobRow(job, [
    shortId(job.jobId), job.type, badge(job.status), String(job.attempts), errorText(job),
    when(job.finishedAt || job.updatedAt), retryButton(job),
  ])));
}

function scheduleAction(schedule, label, method, path) {
  return el("button", {
    type: "button", class: `schedule-${label.toLowerCase()}`,
    onclick: async () => {
      try {
        await api(`/v1/schedules/${encodeURIComponent(schedule.scheduleId)}${path}`, { method });
        info(`Schedule ${schedule.scheduleId} (${schedule.cron}): ${label.toLowerCase()}${label.endsWith("e") ? "d" : "ed"}.`);
      } catch (error) {
        notice(`${label.toLowerCase()} failed: ${error.message}`);
      }
      refresh();
    },
  }, label);
}

function renderSchedules(schedules) {
  fill("schedules", "schedules-empty", schedules.map((s) => el("tr", { dataset: { scheduleId: s.scheduleId, paused: String(s.paused) } },
    ...[el("code", {}, s.scheduleId), s.cron + (s.timezone ? ` (${s.timezone})` : ""), s.type, s.paused ? "paused" : "active",
      when(s.nextRunAt), String(s.runs),
      el("span", { class: "actions" }, s.paused ? scheduleAction(s, "Resume", "POST", "/resume") : scheduleAction(s, "Pause", "POST", "/pause"),
        scheduleAction(s, "Delete", "DELETE", ""))].map((c) => el("td", {}, c)))));
}

function renderSources(sources) {
  fill("sources", "sources-empty", sources.map((s) => el("tr", { dataset: { sourceId: s.sourceId } },
    ...[el("code", {}, s.sourceId), s.name, s.provider, s.target.type, el("code", {}, s.url),
      el("button", { type: "button", class: "show-deliveries", onclick: () => { state.source = s.sourceId; renderDeliveries(); } }, "Deliveries"),
    ].map((c) => el("td", {}, c)))));
}

async function renderDeliveries() {
  if (!state.source) return;
  const { deliveries } = await api(`/v1/sources/${encodeURIComponent(state.source)}/deliveries`);
  $("deliveries-panel").hidden = false;
  $("deliveries-source").textContent = state.source;
  fill("deliveries", "deliveries-empty", deliveries.map((d) => el("tr", { dataset: { verdict: d.verdict } }, ...[
    when(d.receivedAt), el("span", { class: `status status-${{ accepted: "succeeded", duplicate: "queued", refused: "failed" }[d.verdict]}` }, d.verdict),
    d.eventType || "", d.deliveryId ? shortId(d.deliveryId) : "",
    d.jobId ? el("button", { type: "button", class: "link", onclick: () => select(d.jobId) }, shortId(d.jobId)) : `${d.status} ${d.error?.code || ""}`,
  ].map((c) => el("td", {}, c)))));
}

// What a person looks for first in a result: a video's cuts, shots and hook, else its plain fields.
function summary(job) {
  const r = job.result;
  if (!r || typeof r !== "object") return job.error ? [["error", errorText(job)]] : [];
  if (r.video && Array.isArray(r.cuts)) {
    const v = r.video, m = r.metrics || {};
    const rows = [
      ["video", `${v.width}x${v.height} ${v.codec || ""} ${v.fps ? `${Number(v.fps).toFixed(0)} fps` : ""}, ${Number(v.duration).toFixed(1)} s${v.hasAudio ? ", audio" : ""}`],
      ["cuts", r.cuts.length ? `${r.cuts.length}: ${r.cuts.map((c) => `${Number(c.time).toFixed(2)} s`).join(", ")}` : "none"],
      ["shots", `${(r.shots || []).length}${m.shotLength ? `, median ${m.shotLength.median} s` : ""}${m.cutsPerMinute != null ? `, ${m.cutsPerMinute} cuts/min` : ""}`],
    ];
    if (m.hookScore != null) rows.push(["hook score", `${m.hookScore}/100 (first 3 s)`]);
    rows.push(["keyframes", String((r.keyframes || []).length)]);
    if (r.analysis) rows.push(["analysis", r.analysis.status + (r.analysis.reason ? ` (${r.analysis.reason})` : "")]);
    if (r.analysis?.summary?.text) rows.push(["summary", r.analysis.summary.text]);
    return rows;
  }
  return Object.entries(r).filter(([, value]) => value === null || typeof value !== "object").map(([name, value]) => [name, String(value)]);
}

async function renderDetail() {
  if (!state.selected) return;
  const job = await api(`/v1/jobs/${encodeURIComponent(state.selected)}`);
  $("detail").hidden = false;
  $("detail-id").textContent = job.jobId;
  $("detail-json").textContent = JSON.stringify(job, null, 2);
  const facts = [["type", job.type], ["created", when(job.createdAt)], ["took", took(job)], ...summary(job)].filter(([, v]) => v);
  $("detail-summary").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  $("detail-children").replaceChildren(...(job.children || []).map((child) => el("li", {},
    el("button", { type: "button", class: "link", onclick: () => select(child.jobId) }, `…${child.jobId.slice(-10)}`), ` ${child.type} `, badge(child.status))));
  const actions = [badge(job.status)];
  if (job.status === "dead" || job.status === "failed") actions.push(" ", retryButton(job));
  $("detail-actions").replaceChildren(...actions);
  $("detail-steps").replaceChildren(...(job.steps || []).map((s) => el("li", {},
    el("code", {}, s.name), ` ${s.kind} `, el("span", { class: `status status-${{ done: "succeeded", failed: "failed" }[s.status] || "waiting"}` }, s.status),
    ` ${s.attempts} attempt${s.attempts === 1 ? "" : "s"}`, s.until ? ` until ${when(s.until)}` : "",
    s.error && s.status !== "done" ? ` (${s.error.code}: ${s.error.message})` : "")));
  const frames = $("keyframes");
  if (job.status !== "succeeded" || frames.dataset.jobId === job.jobId) return;
  const { files } = await api(`/v1/jobs/${encodeURIComponent(job.jobId)}/files`);
  const times = new Map((job.result?.keyframes || []).map((k) => [k.image, k.time]));
  frames.dataset.jobId = job.jobId;
  frames.replaceChildren(...files.filter((f) => /\.jpe?g$/i.test(f.key)).map((f) => el("figure", {},
    el("img", { src: f.url, alt: `keyframe at ${times.get(f.key) ?? "?"} s`, class: "keyframe", loading: "lazy" }),
    el("figcaption", {}, times.has(f.key) ? `${Number(times.get(f.key)).toFixed(2)} s` : f.key.split("/").pop()))));
}

function select(jobId) {
  state.selected = jobId;
  $("keyframes").replaceChildren();
  delete $("keyframes").dataset.jobId;
  renderDetail().catch((error) => notice(error.message));
  $("detail").hidden = false;
  $("detail").scrollIntoView({ block: "start" });
}

const notice = (text) => { $("notice").textContent = text; };
const info = (text) => { $("info").textContent = text; };

async function refresh() {
  if (state.busy || !sessionStorage.getItem(KEY)) return;
  state.busy = true;
  const session = state.session; // a refresh begun under another key shows nothing of it
  try {
    const filter = state.filter === "all" ? "" : `&status=${state.filter}`;
    const [jobs, dead, failed, schedules, usage, sources] = await Promise.all([
      api(`/v1/jobs?limit=50${filter}`), api("/v1/jobs?status=dead&limit=20"), api("/v1/jobs?status=failed&limit=20"),
      api("/v1/schedules"), api("/v1/usage"), api("/v1/sources"),
    ]);
    const tenant = state.tenant || (await api("/v1/me")).tenantId;
    if (session !== state.session) return;
    state.tenant = tenant;
    $("tenant").textContent = `tenant ${tenant}`;
    $("tenant").hidden = false;
    renderJobs(jobs.jobs);
    renderDead([...dead.jobs, ...failed.jobs]);
    renderSchedules(schedules.schedules);
    renderSources(sources.sources);
    await renderDeliveries();
    $("usage").textContent = `${usage.month}: ${usage.jobs} jobs, ${usage.computeSeconds.toFixed(1)} compute s`;
    await renderDetail();
    $("refreshed").textContent = `updated ${when(new Date().toISOString()).slice(11)}`;
  } catch (error) {
    if (session !== state.session) return;
    if (error.status === 401) signOut("That key was refused (unknown or revoked).");
    else notice(error.message);
  } finally {
    state.busy = false;
  }
}

function showSignedIn(signedIn) {
  $("sign-in").hidden = signedIn;
  $("signed-in").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  $("refresh-control").hidden = !signedIn;
  clearInterval(state.timer);
  if (signedIn) {
    state.timer = setInterval(() => { if ($("auto-refresh").checked && !document.hidden) refresh(); }, REFRESH_MS);
    refresh();
  }
}

function signOut(message = "") {
  sessionStorage.removeItem(KEY);
  state.session += 1;
  state.selected = null;
  state.source = null;
  $("deliveries-panel").hidden = true;
  state.tenant = null;
  $("tenant").hidden = true;
  $("sign-in-error").textContent = message;
  showSignedIn(false);
}

async function signIn(event) {
  event.preventDefault();
  const input = $("api-key");
  sessionStorage.setItem(KEY, input.value.trim());
  state.session += 1;
  input.value = "";
  try {
    await api("/v1/jobs?limit=1");
    $("sign-in-error").textContent = "";
    showSignedIn(true);
  } catch (error) {
    signOut(error.status === 401 ? "That key was refused (unknown or revoked)." : error.message);
  }
}

function buildFilter() {
  $("status-filter").replaceChildren(...STATUSES.map((status) => el("button", {
    type: "button", "aria-pressed": String(status === state.filter), dataset: { status },
    onclick: () => { state.filter = status; buildFilter(); refresh(); },
  }, status)));
}

document.addEventListener("DOMContentLoaded", () => {
  buildFilter();
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("detail-close").addEventListener("click", () => { state.selected = null; $("detail").hidden = true; });
  showSignedIn(Boolean(sessionStorage.getItem(KEY)));
});
