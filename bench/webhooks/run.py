"""Inbound webhooks on the local stack, as a provider sends them.

    python -m bench.webhooks.run [--samples 100] [--deliveries 500] [--threads 8] [--redeliver 0.1]

One stack (`courier dev up` on free ports), one tenant with a Meta source and a Stripe
source whose deliveries become `text.hash` jobs:
- answer: `--samples` deliveries each of a 2 KB and a 200 KB body (distinct bodies, signed
  as the provider signs), one at a time: POST to 200 p50 / p99, and each job's start after
  its delivery was received (the job's startedAt - the delivery's receivedAt);
- burst: `--deliveries` from `--threads` threads, `--redeliver` of them a second sending of
  an earlier body (the provider's retry), shuffled: every answer, the jobs made (0 duplicate
  jobs, 0 lost: every distinct delivery a job that succeeded);
- cold start: the jobs API handler's import in a fresh interpreter (`python -X importtime`,
  `--imports` times), and what of it the inbound modules (sources, verifiers, sealing) take.
Goal: p99 at most 150 ms to the 200; the jobs API's cold start not 5% more for the verifiers.
Writes bench/results/webhooks.json and bench/results/webhooks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
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

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
SECRET = "bench-app-secret"
TARGET = {"type": "text.hash", "input": {"text": "{{webhook.deliveryId}}"}}
WARM_UP = 10


def instagram_body(n: int, size: int, rng: random.Random) -> bytes:
    """A Graph API change notification of about `size` bytes, its comment text varied."""
    words = ["nice", "love", "wow", "🔥", "when?", "link", "price", "ship", "é"]
    text = " ".join(rng.choice(words) for _ in range(size // 5))[: max(0, size - 160)]
    change = {"field": "comments", "value": {"id": str(n), "text": text}}
    return json.dumps({"object": "instagram", "entry": [{"id": f"1784{n:011d}", "time": 1733500000 + n, "changes": [change]}]},
                      ensure_ascii=False).encode()


def signed(raw: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()}


def answers(client: httpx.Client, path: str, bodies: list[bytes]) -> tuple[list[float], list[str]]:
    took, ids = [], []
    for raw in bodies:
        began = time.perf_counter()
        response = client.post(path, content=raw, headers=signed(raw))
        took.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.text
        ids.append(response.json()["jobId"])
    return took, ids


def latency(api: httpx.Client, public: httpx.Client, path: str, samples: int, size: int, rng: random.Random, timeout: float) -> dict[str, Any]:
    bodies = [instagram_body(size * 1000 + n, size, rng) for n in range(samples)]
    took, ids = answers(public, path, bodies)
    jobs = wait_all(api, ids, timeout)
    start = [(_epoch(j["startedAt"]) - _epoch(j["createdAt"])) * 1000 for j in jobs.values() if j.get("startedAt")]
    return {"bodyBytes": size, "samples": samples,
            "to200Ms": {"p50": round(percentile(took, 0.5), 1), "p99": round(percentile(took, 0.99), 1)},
            "toJobStartMs": {"p50": round(percentile(start, 0.5), 1), "p99": round(percentile(start, 0.99), 1)},
            "succeeded": sum(1 for j in jobs.values() if j["status"] == "succeeded")}


def burst(api: httpx.Client, public: httpx.Client, path: str, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    distinct = int(args.deliveries * (1 - args.redeliver))
    bodies = [instagram_body(900_000 + n, 2000, rng) for n in range(distinct)]
    sends = bodies + [rng.choice(bodies) for _ in range(args.deliveries - distinct)]
    rng.shuffle(sends)

    def send(raw: bytes) -> tuple[int, str | None, bool]:
        response = public.post(path, content=raw, headers=signed(raw))
        body = response.json() if response.status_code == 200 else {}
        return response.status_code, body.get("jobId"), bool(body.get("duplicate"))

    began = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        answered = list(pool.map(send, sends))
    seconds = time.perf_counter() - began
    ids = {job_id for status, job_id, _ in answered if status == 200 and job_id}
    jobs = wait_all(api, sorted(ids), args.timeout)
    by_body: dict[bytes, set[str]] = {}
    for raw, (_, job_id, _) in zip(sends, answered, strict=True):
        by_body.setdefault(raw, set()).add(job_id or "")
    return {"deliveries": len(sends), "distinct": distinct, "threads": args.threads, "seconds": round(seconds, 2),
            "answers": {str(status): sum(1 for s, _, _ in answered if s == status) for status in sorted({s for s, _, _ in answered})},
            "answeredDuplicate": sum(1 for _, _, duplicate in answered if duplicate),
            "jobs": len(ids), "duplicateJobs": sum(len(found) - 1 for found in by_body.values()),
            "lost": distinct - sum(1 for j in jobs.values() if j["status"] in FINISHED),
            "succeeded": sum(1 for j in jobs.values() if j["status"] == "succeeded")}


def cold_start(times: int) -> dict[str, Any]:
    """The jobs API handler's import in a fresh interpreter, and the inbound modules' part."""
    env = {**os.environ, "TABLE_NAME": "t", "BUCKET_NAME": "b", "PUBLIC_API_URL": "https://api.example.com", "COURIER_JOB_TYPES": "{}",
           "QSTASH_URL": "https://qstash.example.com", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_METRICS_NAMESPACE": "Courier"}
    totals, inbound = [], []
    for _ in range(times):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import functions.jobs_api.handler"], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
        rows = [re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line) for line in done.stderr.splitlines()]
        found = [(int(m.group(1)), int(m.group(2)), m.group(4)) for m in rows if m]
        totals.append(next(cumulative for _, cumulative, name in found if name == "functions.jobs_api.handler") / 1000)
        inbound.append(sum(own for own, _, name in found if name.startswith(("courier.inbound", "standardwebhooks"))) / 1000)
    total, part = statistics.median(totals), statistics.median(inbound)
    return {"imports": times, "handlerImportMs": round(total, 1), "inboundModulesMs": round(part, 2), "inboundShare": round(part / total, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks.run")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--redeliver", type=float, default=0.1)
    parser.add_argument("--imports", type=int, default=9)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    for name, value in LOCAL_AWS.items():
        os.environ.setdefault(name, value)
    rng = random.Random(args.seed)
    settings = DevSettings(directory=Path(tempfile.mkdtemp(prefix="courier-hooks-")), port_base=free_port_base())
    state = up(settings, quiet=True)
    try:
        key = ApiKeyStore(state["resources"]["table"], client=boto3.client("dynamodb", endpoint_url=settings.aws_url)).create("hooks", "bench")[1]
        with httpx.Client(base_url=state["urls"]["api"], headers={"Authorization": f"Bearer {key}"}, timeout=60) as api, \
                httpx.Client(base_url=state["urls"]["api"], timeout=60) as public:
            created = api.post("/v1/sources", json={"name": "bench", "provider": "meta", "secret": SECRET, "verifyToken": "v", "target": TARGET})
            created.raise_for_status()
            path = f"/v1/inbound/{created.json()['sourceId']}"
            # Steady state: the first requests pay the functions' cold starts (reported below, as
            # imports), and the stack's own start-up work settles before anything is timed.
            _, warm = answers(public, path, [instagram_body(-1 - n, 2000, rng) for n in range(WARM_UP)])
            wait_all(api, warm, args.timeout)
            time.sleep(1)
            runs = [latency(api, public, path, args.samples, size, rng, args.timeout) for size in (2_000, 200_000)]
            flood = burst(api, public, path, args, rng)
    finally:
        down(settings)
    report = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "latency": runs, "burst": flood, "coldStart": cold_start(args.imports)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "webhooks.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "webhooks.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict[str, Any]) -> str:
    burst, cold = report["burst"], report["coldStart"]
    lines = [
        "# Inbound webhooks on the local stack",
        "",
        f"`python -m bench.webhooks.run` (`make bench-webhooks`) on {report['machine']['cores']} cores, Python {report['machine']['python']}:"
        " Instagram (Meta) deliveries signed as Meta signs them, each made a `text.hash` job, through the local stack's HTTP API.",
        "",
        "| body | deliveries | POST to 200, p50 / p99 (ms) | delivery to job start, p50 / p99 (ms) | jobs succeeded |",
        "|---|---|---|---|---|",
    ]
    for run in report["latency"]:
        lines.append(f"| {run['bodyBytes'] // 1000} KB | {run['samples']} | {run['to200Ms']['p50']} / {run['to200Ms']['p99']}"
                     f" | {run['toJobStartMs']['p50']} / {run['toJobStartMs']['p99']} | {run['succeeded']} |")
    lines += [
        "",
        f"Burst: {burst['deliveries']} deliveries from {burst['threads']} threads in {burst['seconds']} s, {burst['deliveries'] - burst['distinct']}"
        f" of them redeliveries: answers {burst['answers']}, {burst['answeredDuplicate']} answered as duplicates, {burst['jobs']} jobs for"
        f" {burst['distinct']} distinct deliveries: **{burst['duplicateJobs']} duplicate jobs, {burst['lost']} lost**, {burst['succeeded']} succeeded.",
        "",
        f"Cold start: the jobs API handler's import, median of {cold['imports']} fresh interpreters, {cold['handlerImportMs']} ms; the inbound"
        f" modules (sources, verifiers, sealing; `standardwebhooks` loads on a Standard Webhooks delivery only) {cold['inboundModulesMs']} ms of it,"
        f" **{cold['inboundShare'] * 100:.1f}%**.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
