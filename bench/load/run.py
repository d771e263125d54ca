"""Load and burst on the local stack, as an app uses it: HTTP enqueues, workers behind
QStash and SQS, results read back through the API.

    python -m bench.load.run [--jobs 1000] [--threads 16]

Two runs, one stack (`courier dev up` on free ports):
- load: `--jobs` short jobs (demo.sleep 50 ms, each run leaving one S3 object), half
  forced onto QStash and half onto SQS (`transport` on POST /v1/jobs);
- burst: `--jobs` text.hash jobs, the way the issue measured it (enqueued as fast as
  `--threads` threads can).
For each: throughput, enqueue-to-start and enqueue-to-done percentiles, lost jobs (not
finished), duplicated runs (more than one S3 object), dead jobs, throttled worker
invocations (the local runtime's 429s), and the worker's drain time at its concurrency.
Writes bench/results/load.json and bench/results/load.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx

from bench.measure import percentile
from courier.auth.api_keys import ApiKeyStore
from devstack.cli import down, up
from devstack.environment import LOCAL_AWS, DevSettings, free_port_base
from infra.config import CourierConfig

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
FINISHED = {"succeeded", "failed", "dead", "cancelled"}


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def wait_all(api: httpx.Client, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Read every job back through the API (the tenant's list, newest first, paged) until all end."""
    wanted, jobs = set(ids), {}
    deadline = time.time() + timeout
    while time.time() < deadline:
        cursor: str | None = None
        while True:
            page = api.get("/v1/jobs", params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
            jobs.update({job["jobId"]: job for job in page["jobs"] if job["jobId"] in wanted})
            cursor = page.get("cursor")
            if not cursor:
                break
        if all(jobs.get(i, {}).get("status") in FINISHED for i in ids):
            break
        time.sleep(1.0)
    return jobs


class Run:
    def __init__(self, api: httpx.Client, s3: Any, bucket: str, logs: Path) -> None:
        self.api, self.s3, self.bucket, self.logs = api, s3, bucket, logs

    def go(self, name: str, bodies: list[dict[str, Any]], threads: int, timeout: float) -> dict[str, Any]:
        throttled_before = self._throttles()
        began = time.time()

        def submit(body: dict[str, Any]) -> tuple[int, str | None]:
            response = self.api.post("/v1/jobs", json=body)
            return response.status_code, response.json().get("jobId")

        with ThreadPoolExecutor(threads) as pool:
            answers = list(pool.map(submit, bodies))
        enqueued = time.time() - began
        ids = [job_id for status, job_id in answers if status == 202 and job_id]
        jobs = self._wait(ids, timeout)
        finished_at = max((_epoch(j["finishedAt"]) for j in jobs.values() if j.get("finishedAt")), default=time.time())
        runs = self._runs() if any(b["input"].get("markRuns") for b in bodies) else None
        to_start = [_epoch(j["startedAt"]) - _epoch(j["createdAt"]) for j in jobs.values() if j.get("startedAt")]
        to_done = [_epoch(j["finishedAt"]) - _epoch(j["createdAt"]) for j in jobs.values() if j.get("finishedAt")]
        first_start = min((_epoch(j["startedAt"]) for j in jobs.values() if j.get("startedAt")), default=began)
        statuses = Counter(j["status"] for j in jobs.values())
        return {
            "name": name, "jobs": len(bodies), "threads": threads,
            "enqueueAnswers": dict(Counter(str(status) for status, _ in answers)),
            "enqueueSeconds": round(enqueued, 2),
            "wallSeconds": round(finished_at - began, 2),
            "drainSeconds": round(finished_at - first_start, 2),
            "jobsPerSecond": round(len(to_done) / max(0.001, finished_at - began), 1),
            "enqueueToStart": {"p50": round(percentile(to_start, 0.5), 2), "p99": round(percentile(to_start, 0.99), 2)},
            "enqueueToDone": {"p50": round(percentile(to_done, 0.5), 2), "p99": round(percentile(to_done, 0.99), 2)},
            "statuses": dict(statuses),
            "transports": dict(Counter(str(j.get("transport")) for j in jobs.values())),
            "lost": len(ids) - sum(statuses[s] for s in FINISHED),
            "dead": statuses["dead"],
            "duplicatedRuns": None if runs is None else sum(1 for i in ids if runs.get(i, 0) > 1),
            "missingRuns": None if runs is None else sum(1 for i, j in jobs.items() if j["status"] == "succeeded" and runs.get(i, 0) == 0),
            "attemptsOverOne": sum(1 for j in jobs.values() if j["attempts"] > 1),
            "throttledInvocations": self._throttles() - throttled_before,
        }

    def _wait(self, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
        return wait_all(self.api, ids, timeout)

    def _runs(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="results/bench/"):
            for item in page.get("Contents", []):
                if "/runs/" in item["Key"]:
                    counts[item["Key"].split("/")[2]] += 1
        return counts

    def _throttles(self) -> int:
        return sum(len(re.findall(r"^THROTTLED", p.read_text(errors="replace"), re.M)) for p in self.logs.glob("*.log"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.run")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    for name, value in LOCAL_AWS.items():
        os.environ.setdefault(name, value)
    settings = DevSettings(directory=Path(tempfile.mkdtemp(prefix="courier-load-")), port_base=free_port_base())
    state = up(settings, quiet=True)
    try:
        table, bucket = state["resources"]["table"], state["resources"]["bucket"]
        key = ApiKeyStore(table, client=boto3.client("dynamodb", endpoint_url=settings.aws_url)).create("bench", "load")[1]
        s3 = boto3.client("s3", endpoint_url=settings.aws_url)
        with httpx.Client(base_url=state["urls"]["api"], headers={"Authorization": f"Bearer {key}"}, timeout=60) as api:
            run = Run(api, s3, bucket, settings.logs)
            load = [{"type": "demo.sleep", "input": {"seconds": 0.05, "markRuns": True}, "transport": "qstash" if n % 2 else "sqs"}
                    for n in range(args.jobs)]
            results = [run.go("load: half QStash, half SQS", load, args.threads, args.timeout)]
            burst = [{"type": "text.hash", "input": {"text": f"burst {n}"}} for n in range(args.jobs)]
            results.append(run.go("burst: text.hash", burst, args.threads, args.timeout))
    finally:
        down(settings)
    worker = CourierConfig().worker("ai_router")
    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "workerConcurrency": worker.max_concurrency,
        "runs": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "load.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Load and burst on the local stack",
        "",
        f"`python -m bench.load.run` (`make bench-load`) on {report['machine']['cores']} cores, Python {report['machine']['python']}:"
        f" one local stack (moto, the QStash server, one process per function); the ai_router worker's concurrency is"
        f" {report['workerConcurrency']} (QStash flow-control parallelism and the SQS event source's maximum concurrency).",
        "",
        "| run | jobs | enqueue answers | throughput (jobs/s) | enqueue→start p50 / p99 (s) | enqueue→done p50 / p99 (s) | drain (s) | lost | duplicated runs | dead | throttled deliveries | transports |",  # noqa: E501 - one table header
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['name']} | {r['jobs']} | {r['enqueueAnswers']} | {r['jobsPerSecond']} | {r['enqueueToStart']['p50']} / {r['enqueueToStart']['p99']}"
            f" | {r['enqueueToDone']['p50']} / {r['enqueueToDone']['p99']} | {r['drainSeconds']} | {r['lost']}"
            f" | {'n/a' if r['duplicatedRuns'] is None else r['duplicatedRuns']} | {r['dead']} | {r['throttledInvocations']} | {r['transports']} |"
        )
    lines += ["", "Duplicated runs are counted by side effect (one S3 object per run of a demo.sleep job), not by status.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
