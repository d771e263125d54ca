"""`courier jobs list|show|wait|retry|cancel|submit`: the jobs API from a terminal."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any
from urllib.parse import quote

from courier_cli.api import Api
from courier_cli.output import OK, TIMED_OUT, UNSUCCESSFUL, USAGE, CliError, Output, instant, local_time

FINISHED = {"succeeded", "failed", "dead", "cancelled"}
STATUSES = ("queued", "running", "retrying", "waiting", *sorted(FINISHED))


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    jobs = commands.add_parser("jobs", help="list, show, wait for, retry, cancel and submit jobs")
    actions = jobs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", parents=[common], help="your jobs, newest first")
    listing.add_argument("--status", choices=STATUSES, help="only jobs in this status")
    listing.add_argument("--type", help="one job type")
    listing.add_argument("--limit", type=int, default=20, help="at most this many (default 20; pages are followed)")
    for name, text in (("show", "one job, its result, error and steps"), ("retry", "a failed or dead job, again, from its failed step"),
                       ("cancel", "a queued or waiting job")):
        actions.add_parser(name, parents=[common], help=text).add_argument("job_id", help="the job's id (job_...)")
    actions.choices["retry"].add_argument("--from-start", action="store_true", help="run every step anew, not from the failed one")
    wait = actions.add_parser("wait", parents=[common], help="until the job ends (exit 0 if it succeeded, 3 if not, 4 on timeout)")
    wait.add_argument("job_id", help="the job's id (job_...)")
    wait.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    wait.add_argument("--interval", type=float, default=1.0, help="seconds between looks (default 1)")
    submit = actions.add_parser("submit", parents=[common], help="enqueue a job")
    submit.add_argument("type", help="the job type (text.hash, video.analyze, ...)")
    submit.add_argument("--input", default="{}", help="the job's input as JSON (default {})")
    submit.add_argument("--idempotency-key", help="the same key (per tenant) with the same request returns the same job, not a second one")
    submit.add_argument("--delay", type=int, default=0, help="seconds before it may run")
    submit.add_argument("--wait", action="store_true", help="then wait for it, as `jobs wait` does")


def run(api: Api, out: Output, args: argparse.Namespace) -> int:
    if args.action == "list":
        jobs = list_jobs(api, status=args.status, job_type=args.type, limit=args.limit)
        out.table({"jobs": jobs}, [row(job) for job in jobs], ("job", "type", "status", "attempts", "transport", "created", "took", "error"),
                  empty=f"no jobs for {api.acting_as()}", title=f"tenant {api.tenant}")
        return OK
    if args.action == "submit":
        try:
            data = json.loads(args.input)
        except ValueError as error:
            raise CliError("invalid_input", f"--input is not JSON: {error}", USAGE) from None
        accepted = api.post("/v1/jobs", {"type": args.type, "input": data, "idempotencyKey": args.idempotency_key, "delaySeconds": args.delay})
        if args.wait:
            return wait(api, out, accepted["jobId"], timeout=600.0, interval=1.0)
        out.data(accepted, f"{accepted['jobId']} {accepted['status']} ({accepted['transport']})")
        return OK
    path = f"/v1/jobs/{quote(args.job_id, safe='')}"
    if args.action == "show":
        show(out, api.get(path))
    elif args.action == "wait":
        return wait(api, out, args.job_id, timeout=args.timeout, interval=args.interval)
    elif args.action == "retry":
        accepted = api.post(path + "/retry" + ("?fromStart=true" if args.from_start else ""))
        out.data(accepted, f"{accepted['jobId']} {accepted['status']} again ({accepted['transport']})")
    else:
        job = api.delete(path)
        out.data(job, f"{job['jobId']} {job['status']}")
    return OK


def list_jobs(api: Api, *, status: str | None, job_type: str | None, limit: int) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    cursor = None
    while len(jobs) < limit:
        page = api.get("/v1/jobs", status=status, type=job_type, cursor=cursor, limit=min(100, limit - len(jobs)))
        jobs += page["jobs"]
        cursor = page.get("cursor")
        if not cursor:
            break
    return jobs


def took(job: dict[str, Any]) -> str:
    if not job.get("startedAt") or not job.get("finishedAt"):
        return ""
    return f"{(instant(job['finishedAt']) - instant(job['startedAt'])).total_seconds():.1f} s"


def error_text(job: dict[str, Any]) -> str:
    error = job.get("error")
    return f"{error['code']}: {error['message']}"[:80] if error else ""


def row(job: dict[str, Any]) -> list[Any]:
    return [job["jobId"], job["type"], job["status"], job["attempts"], job.get("transport"), local_time(job["createdAt"]), took(job), error_text(job)]


def show(out: Output, job: dict[str, Any]) -> None:
    progress = job.get("progress")
    out.fields(job, [
        ("job", job["jobId"]), ("type", job["type"]), ("status", job["status"]), ("attempts", str(job["attempts"])),
        ("transport", job.get("transport")), ("created", local_time(job["createdAt"])), ("started", local_time(job.get("startedAt"))),
        ("finished", local_time(job.get("finishedAt"))), ("took", took(job)),
        ("progress", f"{progress['stage']} {progress['fraction']:.0%}" if progress else None),
        ("error", error_text(job)), ("input", job.get("input")), ("result", job.get("result")), ("result URL", job.get("resultUrl")),
        ("children", job.get("children")), ("waiting for", waiting_text(job.get("waitingFor"))),
        ("steps", "\n".join(step_text(s) for s in job.get("steps") or ()) or None),
    ])


def waiting_text(waiting: dict[str, Any] | None) -> str | None:
    if not waiting:
        return None
    what = {"sleep": "sleeping", "retry": "retrying", "event": f"event {waiting.get('key')}", "call": "calling"}.get(waiting["kind"], waiting["kind"])
    return f"{what} in step {waiting['step']} until {local_time(waiting['until'])}"


def step_text(step: dict[str, Any]) -> str:
    """One line a step: its name, kind, status and attempts, and why it failed."""
    error = step.get("error")
    why = f" ({error['code']}: {error['message']})" if error and step["status"] != "done" else ""
    until = f" until {local_time(step['until'])}" if step.get("until") else ""
    return f"{step['name']} [{step['kind']}] {step['status']}, {step['attempts']} attempt(s){until}{why}"


def follow(api: Api, out: Output, job_id: str, *, timeout: float, interval: float) -> dict[str, Any]:
    """Poll until the job ends or `timeout` passes, a bar following its progress; the job as last seen."""
    path = f"/v1/jobs/{quote(job_id, safe='')}"
    deadline = time.monotonic() + timeout
    with out.progress(f"{job_id} queued") as bar:
        while True:
            job: dict[str, Any] = api.get(path)
            stage = job.get("progress") or {}
            bar.update(bar.task_ids[0], completed=1.0 if job["status"] in FINISHED else stage.get("fraction", 0.0),
                       description=f"{job_id} {job['status']}" + (f" · {stage['stage']}" if stage else ""))
            if job["status"] in FINISHED or time.monotonic() >= deadline:
                return job
            time.sleep(interval)


def ending(job: dict[str, Any]) -> int:
    """The exit code a followed job ends the command with."""
    if job["status"] not in FINISHED:
        return TIMED_OUT
    return OK if job["status"] == "succeeded" else UNSUCCESSFUL


def wait(api: Api, out: Output, job_id: str, *, timeout: float, interval: float) -> int:
    job = follow(api, out, job_id, timeout=timeout, interval=interval)
    if job["status"] not in FINISHED:
        out.data(job, f"{job_id} still {job['status']} after {timeout:g} s")
    elif out.as_json:
        out.data(job)
    else:
        show(out, job)
    return ending(job)
