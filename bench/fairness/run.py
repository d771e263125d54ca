"""Fair share between tenants on the local stack, on each transport, fairness on and off.

    python -m bench.fairness.run [--backlog 1000] [--quiet 20] [--seconds 2] [--enqueue-rate 6]

Two local stacks, one after the other (`courier dev up` on free ports): one as deployed
(`fairShare` on: a QStash flow-control key and an SQS message group per tenant), one with
`-c fairShare=false` (one line per worker). On each, for each transport (forced with
`transport` on POST /v1/jobs): tenant A enqueues `--backlog` demo.sleep jobs of `--seconds`
each through the HTTP API, every one due at the same instant (each sent with the delay left
until then: this 2-core machine's API takes fewer jobs a second than the worker ends, so
without it no backlog would form), then, once A's backlog is due, tenant B enqueues `--quiet`. Reported: B's enqueue-to-start
p50 / p99 (what a quiet tenant waits while a noisy one drains), A's drain time (its first
start to its last end), lost jobs, and the worker's throttled invocations (Lambda's 429s).
Writes bench/results/fairness.json and bench/results/fairness.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx

from bench.load.run import FINISHED, _epoch, wait_all
from bench.measure import percentile
from courier.auth.api_keys import ApiKeyStore
from devstack.cli import down, up
from devstack.environment import LOCAL_AWS, DevSettings, free_port_base
from infra.config import CourierConfig

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
THREADS = 16


def enqueue(api: httpx.Client, bodies: list[dict[str, Any]], due: float | None = None) -> list[str]:
    """`due`: a monotonic instant every job falls due at (each sent with the delay left), so
    the whole backlog is there at once however slowly this machine's API takes it."""
    def submit(body: dict[str, Any]) -> str | None:
        if due is not None:
            body = {**body, "delaySeconds": max(0, math.ceil(due - time.monotonic()))}
        response = api.post("/v1/jobs", json=body)
        return response.json().get("jobId") if response.status_code == 202 else None

    with ThreadPoolExecutor(THREADS) as pool:
        return [job_id for job_id in pool.map(submit, bodies) if job_id]


def one_run(apis: dict[str, httpx.Client], transport: str, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    throttled = throttles(logs)
    body = {"type": "demo.sleep", "input": {"seconds": args.seconds}, "transport": transport}
    began = time.monotonic()
    due = began + args.backlog / args.enqueue_rate
    noisy = enqueue(apis["a"], [body] * args.backlog, due)
    enqueued = time.monotonic() - began
    time.sleep(max(0.0, due + 1 - time.monotonic()))  # B comes when A's whole backlog has fallen due
    quiet = enqueue(apis["b"], [body] * args.quiet)
    # B's jobs are read back first, and A's only then: reading A's thousand jobs every second
    # would load the 2-core machine in the very seconds B's wait is measured.
    b = wait_all(apis["b"], quiet, args.timeout)
    a = wait_all(apis["a"], noisy, args.timeout)
    waits = [_epoch(j["startedAt"]) - _epoch(j["createdAt"]) for j in b.values() if j.get("startedAt")]
    b_first = min((_epoch(j["createdAt"]) for j in b.values()), default=0)
    starts = [_epoch(j["startedAt"]) for j in a.values() if j.get("startedAt")]
    ends = [_epoch(j["finishedAt"]) for j in a.values() if j.get("finishedAt")]
    return {
        "transport": transport,
        "quietWait": {"p50": round(percentile(waits, 0.5), 2), "p99": round(percentile(waits, 0.99), 2), "max": round(max(waits, default=0), 2)},
        "noisyDrainSeconds": round(max(ends, default=0) - min(starts, default=0), 2),
        "noisyEnqueueSeconds": round(enqueued, 2),
        # The line B meets: A's jobs not started yet when B's first job was accepted.
        "backlogAtQuiet": sum(1 for j in a.values() if not j.get("startedAt") or _epoch(j["startedAt"]) > b_first),
        "lost": len(noisy) + len(quiet) - sum(1 for j in (*a.values(), *b.values()) if j["status"] in FINISHED),
        "notSucceeded": sum(1 for j in (*a.values(), *b.values()) if j["status"] != "succeeded"),
        "throttledInvocations": throttles(logs) - throttled,
    }


def throttles(logs: Path) -> int:
    return sum(len(re.findall(r"^THROTTLED", p.read_text(errors="replace"), re.M)) for p in logs.glob("*.log"))


def stack_runs(fair: bool, args: argparse.Namespace) -> list[dict[str, Any]]:
    settings = DevSettings.with_context(*(() if fair else ("fairShare=false",)),
                                        directory=Path(tempfile.mkdtemp(prefix="courier-fair-")), port_base=free_port_base())
    state = up(settings, quiet=True)
    try:
        keys = ApiKeyStore(state["resources"]["table"], client=boto3.client("dynamodb", endpoint_url=settings.aws_url))
        apis = {t: httpx.Client(base_url=state["urls"]["api"], headers={"Authorization": f"Bearer {keys.create(f'tenant-{t}', 'bench')[1]}"},
                                timeout=60) for t in ("a", "b")}
        return [{"fairShare": fair, **one_run(apis, transport, args, settings.logs)} for transport in ("qstash", "sqs")]
    finally:
        down(settings)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fairness.run")
    parser.add_argument("--backlog", type=int, default=1000, help="tenant A's jobs")
    parser.add_argument("--quiet", type=int, default=20, help="tenant B's jobs, enqueued after A's")
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="each job's length: long enough that A's jobs arrive faster than the worker ends them (a backlog builds)")
    parser.add_argument("--enqueue-rate", type=float, default=6.0,
                        help="A's jobs a second the API is expected to take at least: they all fall due after backlog / rate seconds")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    for name, value in LOCAL_AWS.items():
        os.environ.setdefault(name, value)
    runs = stack_runs(True, args) + stack_runs(False, args)
    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "workerConcurrency": CourierConfig().worker("ai_router").max_concurrency,
        "backlog": args.backlog, "quiet": args.quiet, "seconds": args.seconds, "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fairness.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "fairness.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict[str, Any]) -> str:
    by = {(r["transport"], r["fairShare"]): r for r in report["runs"]}
    lines = [
        "# Fair share between tenants on the local stack",
        "",
        f"`python -m bench.fairness.run` (`make bench-fairness`) on {report['machine']['cores']} cores, Python {report['machine']['python']}:"
        f" tenant A enqueues {report['backlog']} demo.sleep jobs of {report['seconds']:g} s through the HTTP API, then tenant B"
        f" enqueues {report['quiet']}; the ai_router worker's concurrency is {report['workerConcurrency']}. Each transport forced"
        " per job; fairness on (a flow-control key and an SQS message group per tenant) and off (`-c fairShare=false`), in one run.",
        "",
        "| transport | fair share | A's jobs waiting when B enqueues | B's enqueue→start p50 / p99 / max (s) | A's drain (s)"
        " | A's drain, on ÷ off | A's enqueue (s) | lost | not succeeded | throttled invocations |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (transport, fair), r in sorted(by.items(), key=lambda item: (item[0][0], not item[0][1])):
        off = by.get((transport, False))
        ratio = f"{r['noisyDrainSeconds'] / off['noisyDrainSeconds']:.2f}" if fair and off and off["noisyDrainSeconds"] else ""
        w = r["quietWait"]
        lines.append(f"| {transport} | {'on' if fair else 'off'} | {r.get('backlogAtQuiet', '')} | {w['p50']} / {w['p99']} / {w['max']}"
                     f" | {r['noisyDrainSeconds']} | {ratio} | {r.get('noisyEnqueueSeconds', '')} | {r['lost']} | {r['notSucceeded']}"
                     f" | {r['throttledInvocations']} |")
    lines += ["", "B's wait is its jobs' `startedAt - createdAt` as the API reports them; A's drain is its first start to its last end.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
