"""Durable steps on the local stack: what a sleep costs, and what a step adds.

    python -m bench.steps.run [--jobs 30] [--steps 10] [--sleep 60]   (make bench-steps)

One local stack (`courier dev up` on free ports); every job is a `demo.steps` job sent
through the HTTP API, each figure once per transport (`transport` on POST /v1/jobs; a job
sent to SQS is woken by SQS too):
- billed compute while a job sleeps: a three-step job with a `--sleep` s sleep between its
  second and third steps; the worker's REPORT lines (the local runtime logs them as Lambda
  does) during the sleep, billed as Lambda bills: each invocation's duration rounded up to
  the millisecond, times the function's memory;
- added latency per step: `--jobs` jobs of `--steps` no-op steps and as many of one, one
  job at a time, each long job's run time (startedAt to finishedAt) less the short jobs'
  median, divided by the steps added;
- compute billed per `ai.route` job while the model takes `--model-seconds` to answer (the
  fake OpenAI-compatible server): the same deployment in process, and with `offload: true`
  (each attempt a call QStash makes); a job sent by SQS calls in process either way;
- a wake-up's round trip: a job that sleeps 2 s between two steps, its whole time less the
  2 s: the suspend, the delayed message's lateness and the second run's claim;
- the decode work of a `video.analyze` whose vision model refuses once, retried whole and
  as steps (bench.steps.video_retry; its models at a second server that answers at once).
Writes bench/results/steps.json and bench/results/steps.md.
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
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx

from bench.measure import percentile
from bench.steps import video_retry
from courier.ai.catalog import load_catalog, merge
from courier.ai.router import Router
from courier.auth.api_keys import ApiKeyStore
from devstack.cli import down, up
from devstack.environment import LOCAL_AWS, DevSettings, free_port_base
from devstack.model_server import ModelServer
from infra.config import CourierConfig

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
FINISHED = {"succeeded", "failed", "dead", "cancelled"}
TRANSPORTS = ("qstash", "sqs")
#: Phi-4 twice at the fake model server: as shipped (called in process), and offloaded.
_PHI = {"provider": "azure-foundry", "baseUrl": "${AZURE_AI_FOUNDRY_ENDPOINT}", "model": "Phi-4", "keySecret": None,
        "pricePer1MInput": 0.125, "pricePer1MOutput": 0.5, "timeoutSeconds": 60}
BENCH_CATALOG = {
    "deployments": [{"name": "Phi-4", **_PHI}, {"name": "Phi-4-offloaded", **_PHI, "offload": True}],
    "routes": {"bench-in-process": ["Phi-4"], "bench-offloaded": ["Phi-4-offloaded"]},
}
REPORT = re.compile(r"^REPORT RequestId: \S+\tDuration: ([0-9.]+) ms", re.M)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class Bench:
    def __init__(self, api: httpx.Client, worker_log: Path, memory_mb: int) -> None:
        self.api, self.worker_log, self.memory_mb = api, worker_log, memory_mb

    def submit(self, steps: list[dict[str, Any]], transport: str) -> str:
        response = self.api.post("/v1/jobs", json={"type": "demo.steps", "input": {"steps": steps}, "transport": transport})
        response.raise_for_status()
        return str(response.json()["jobId"])

    def wait(self, job_id: str, statuses: set[str], timeout: float = 300) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.api.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in statuses:
                return dict(job)
            time.sleep(0.05)
        raise TimeoutError(f"{job_id} never reached {statuses}")

    def billed_while_sleeping(self, transport: str, seconds: float) -> dict[str, Any]:
        job_id = self.submit([{"name": "one"}, {"name": "two"}, {"name": "nap", "kind": "sleep", "seconds": seconds}, {"name": "three"}],
                             transport)
        waiting = self.wait(job_id, {"waiting"} | FINISHED)
        time.sleep(0.5)  # the suspending invocation's REPORT line is written
        before = self.worker_log.stat().st_size
        wake = _epoch(waiting["waitingFor"]["until"])
        time.sleep(max(0.0, wake - 0.5 - time.time()))  # to just before the wake-up, whose run is not the sleep's
        during = self._reports(before)
        job = self.wait(job_id, FINISHED, timeout=120)
        gb_seconds = sum(math.ceil(ms) for ms in during) / 1000 * self.memory_mb / 1024
        return {"transport": transport, "sleepSeconds": seconds, "status": job["status"], "invocationsDuringSleep": len(during),
                "billedGbSecondsDuringSleep": round(gb_seconds, 6), "wokeAfterSeconds": round(_epoch(job["finishedAt"]) - _epoch(job["startedAt"]), 2)}

    def per_step(self, transport: str, jobs: int, steps: int) -> dict[str, Any]:
        """One job at a time, alternating long and short: latency, not the worker's throughput."""
        many, one, runs = [], [], {}
        for _ in range(jobs):
            for shape, into in (([{"name": f"s{n}"} for n in range(steps)], many), ([{"name": "s0"}], one)):
                job_id = self.submit(shape, transport)
                runs[job_id] = self.wait(job_id, FINISHED)
                into.append(job_id)
        took = {i: _epoch(j["finishedAt"]) - _epoch(j["startedAt"]) for i, j in runs.items()}
        base = sorted(took[i] for i in one)
        added = sorted(max(0.0, took[i] - percentile(base, 0.5)) / (steps - 1) * 1000 for i in many)
        return {"transport": transport, "jobs": jobs, "steps": steps, "statuses": sorted({j["status"] for j in runs.values()}),
                "addedPerStepMs": {"p50": round(percentile(added, 0.5), 2), "p99": round(percentile(added, 0.99), 2)},
                "oneStepJobMs": {"p50": round(percentile(base, 0.5) * 1000, 1)}}

    def wake_round_trip(self, transport: str, jobs: int) -> dict[str, Any]:
        """A 2 s sleep between two steps (long enough to suspend): the job's time past the 2 s."""
        runs = [self.wait(self.submit([{"name": "a"}, {"name": "nap", "kind": "sleep", "seconds": 2}, {"name": "b"}], transport),
                          FINISHED) for _ in range(jobs)]
        trips = sorted((_epoch(j["finishedAt"]) - _epoch(j["startedAt"]) - 2) * 1000 for j in runs)
        return {"transport": transport, "jobs": jobs, "statuses": sorted({j["status"] for j in runs}),
                "sleepAndWakeMs": {"p50": round(percentile(trips, 0.5), 1), "p99": round(percentile(trips, 0.99), 1)}}

    def model_compute(self, transport: str, route: str, jobs: int, model_seconds: float) -> dict[str, Any]:
        """`jobs` ai.route jobs at once on `route`; the worker's billed compute between their start and end, per job."""
        before = self.worker_log.stat().st_size
        ids = []
        for _ in range(jobs):
            response = self.api.post("/v1/jobs", json={"type": "ai.route", "input": {"type": route, "prompt": "Name three rivers."},
                                                       "transport": transport})
            response.raise_for_status()
            ids.append(str(response.json()["jobId"]))
        runs = [self.wait(i, FINISHED, timeout=model_seconds * 3 + 120) for i in ids]
        time.sleep(1.0)  # the last invocation's REPORT line
        durations = self._reports(before)
        gb_seconds = sum(math.ceil(ms) for ms in durations) / 1000 * self.memory_mb / 1024
        return {"transport": transport, "route": route, "jobs": jobs, "modelSeconds": model_seconds,
                "statuses": sorted({j["status"] for j in runs}), "invocations": len(durations),
                "billedGbSecondsPerJob": round(gb_seconds / jobs, 4),
                "deployment": sorted({str((j.get("result") or {}).get("deployment")) for j in runs})}

    def _reports(self, offset: int) -> list[float]:
        with self.worker_log.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return [float(ms) for ms in REPORT.findall(text)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.steps.run")
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--sleep", type=float, default=60.0)
    parser.add_argument("--model-seconds", type=float, default=20.0)
    args = parser.parse_args()
    for name, value in LOCAL_AWS.items():
        os.environ.setdefault(name, value)
    models = ModelServer(latency=args.model_seconds).start()
    quick = ModelServer().start()
    os.environ["AZURE_AI_FOUNDRY_ENDPOINT"] = models.url
    os.environ["COURIER_AI_CATALOG"] = json.dumps(merge(BENCH_CATALOG, video_retry.catalog_override(quick.url)))
    settings = DevSettings(directory=Path(tempfile.mkdtemp(prefix="courier-steps-")), port_base=free_port_base())
    state = up(settings, quiet=True)
    catalog = load_catalog()
    worker = CourierConfig().worker("ai_router")
    try:
        table = state["resources"]["table"]
        key = ApiKeyStore(table, client=boto3.client("dynamodb", endpoint_url=settings.aws_url)).create("bench", "steps")[1]
        with httpx.Client(base_url=state["urls"]["api"], headers={"Authorization": f"Bearer {key}"}, timeout=60) as api:
            bench = Bench(api, settings.logs / "ai_router.log", worker.memory_mb)
            report = {
                "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
                "workerMemoryMb": worker.memory_mb,
                "sleep": [bench.billed_while_sleeping(t, args.sleep) for t in TRANSPORTS],
                "perStep": [bench.per_step(t, args.jobs, args.steps) for t in TRANSPORTS],
                "wake": [bench.wake_round_trip(t, args.jobs) for t in TRANSPORTS],
                "models": [bench.model_compute(t, route, 3, args.model_seconds)
                           for t, route in (("qstash", "bench-in-process"), ("qstash", "bench-offloaded"), ("sqs", "bench-offloaded"))],
                "video": video_retry.decode_work(api, settings.directory, quick, Router(lambda: catalog), TRANSPORTS),
            }
    finally:
        down(settings)
        models.stop()
        quick.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "steps.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "steps.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Durable steps on the local stack",
        "",
        f"`python -m bench.steps.run` (`make bench-steps`) on {report['machine']['cores']} cores, Python {report['machine']['python']}:"
        " one local stack (moto, the QStash server, one process per function), `demo.steps` jobs through the HTTP API.",
        "",
        "| transport | sleep (s) | worker invocations during the sleep | compute billed during the sleep (GB-s) | job's run to end (s) |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r['transport']} | {r['sleepSeconds']:g} | {r['invocationsDuringSleep']} | {r['billedGbSecondsDuringSleep']} | {r['wokeAfterSeconds']} |"
              for r in report["sleep"]]
    lines += ["", "| transport | jobs | steps | added per step p50 / p99 (ms) | one-step job p50 (ms) |", "|---|---|---|---|---|"]
    lines += [f"| {r['transport']} | {r['jobs']} | {r['steps']} | {r['addedPerStepMs']['p50']} / {r['addedPerStepMs']['p99']} | {r['oneStepJobMs']['p50']} |"
              for r in report["perStep"]]
    lines += ["", "| transport | jobs | a 2 s sleep between two steps: time past the 2 s, p50 / p99 (ms) |", "|---|---|---|"]
    lines += [f"| {r['transport']} | {r['jobs']} | {r['sleepAndWakeMs']['p50']} / {r['sleepAndWakeMs']['p99']} |" for r in report["wake"]]
    lines += ["", f"ai.route jobs while the model takes {report['models'][0]['modelSeconds']:g} s to answer, 3 at once:", "",
              "| transport | deployment | worker invocations | compute billed per job (GB-s) | vs in process |", "|---|---|---|---|---|"]
    base = report["models"][0]["billedGbSecondsPerJob"] or 1e-9
    lines += [f"| {r['transport']} | {r['route'].removeprefix('bench-')} | {r['invocations']} | {r['billedGbSecondsPerJob']} |"
              f" {base / max(r['billedGbSecondsPerJob'], 1e-9):.1f}x less |" for r in report["models"]]
    lines += video_retry.markdown(report["video"], TRANSPORTS)
    lines += ["", "A step records its result in one DynamoDB transaction (the step's item, and a check that the run still holds the"
              " job's lease); a sleep ends the invocation, so nothing runs, and nothing is billed, until the delayed message"
              " (QStash's delay, or SQS's) wakes the job.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
