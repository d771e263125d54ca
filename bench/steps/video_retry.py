"""`video.analyze` with a vision model that refuses once: the decode work of a retry.

The same clips, the same scripted refusal (one 503 from the vision deployment, with the
router's retries at one attempt per deployment, so the refusal reaches the job), two ways:
- as one function retried whole (Courier's job before steps, and what any queue's retry
  does): decode, keyframes, captions; a refused caption runs it all again. Run here in
  process with the pipeline and router the worker uses, frames decoded counted from each
  run's `processing.framesDecoded`;
- as Courier's steps, on the local stack through the HTTP API: the `scan` step's result is
  kept and the `analysis` step alone is tried again. Frames decoded are the result's
  `processing.framesDecoded` times the scan step's recorded attempts.
The clips are rendered from seeds (shot lengths 0.6 to 6 s, 10 to 60 s long), so no figure
comes from one tuned video.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import httpx

from courier.ai.client import RouterClient
from courier.ai.router import Router
from courier.video.analysis import Frame, analyze_frames
from courier.video.job import ANALYSIS_ATTEMPTS, RETRYABLE_CAPTION_ERRORS
from courier.video.pipeline import Options, analyze
from devstack.model_server import ModelServer, Step
from devstack.sample_video import render

#: The deployments the analysis asks, pointed at a model server that answers at once.
VISION, SUMMARY = "Phi-4-multimodal-instruct", "DeepSeek-V3-0324"
REFUSAL = Step(503, body={"error": {"code": "overloaded", "message": "busy"}})
LENGTHS = (10.0, 20.0, 40.0, 60.0)
#: A job that has not ended by then is a fault of the run, not a figure.
JOB_TIMEOUT_SECONDS = 300.0


def catalog_override(url: str) -> dict[str, Any]:
    """The bench catalogue's additions: the analysis's deployments at `url`, one attempt each."""
    return {"deployments": [{"name": VISION, "baseUrl": url, "keySecret": None}, {"name": SUMMARY, "baseUrl": url, "keySecret": None}],
            "retry": {"attemptsPerDeployment": 1}}


def clips(folder: Path, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    made = []
    for n, length in enumerate(LENGTHS):
        shots: list[float] = []
        while sum(shots) < length - 0.6:
            shots.append(round(min(rng.uniform(0.6, 6.0), length - sum(shots)), 3))
        path = folder / f"clip-{n}-{length:.0f}s.mp4"
        render(path, shots, width=180, height=320, flashes=[round(rng.uniform(1, length - 1), 2)])
        made.append(path)
    return made


def whole_job_retried(path: Path, router: RouterClient, models: ModelServer) -> dict[str, Any]:
    """The job as one function: every try decodes the video again."""
    models.script(VISION, REFUSAL)
    started, decoded, tries = time.monotonic(), 0, 0
    images: dict[str, bytes] = {}

    def keep(name: str, data: bytes) -> str:
        images[name] = data
        return name

    while True:
        tries += 1
        result = analyze(str(path), Options(), keep).to_dict()
        decoded += int(result["processing"]["framesDecoded"])
        frames = [Frame(k["time"], images[k["image"]]) for k in result["keyframes"]]
        analysis = analyze_frames(frames, router, requested=True)
        failed = {c.get("error", {}).get("code") for c in analysis["captions"]}
        if not failed & RETRYABLE_CAPTION_ERRORS or tries >= ANALYSIS_ATTEMPTS:
            break
    return {"framesDecoded": decoded, "tries": tries, "analysis": analysis["status"], "seconds": round(time.monotonic() - started, 2)}


def with_steps(api: httpx.Client, path: Path, transport: str, models: ModelServer) -> dict[str, Any]:
    """The job on the local stack, from the upload to its result."""
    models.script(VISION, REFUSAL)
    started = time.monotonic()
    data = path.read_bytes()
    upload = api.post("/v1/uploads", json={"contentType": "video/mp4", "sizeBytes": len(data), "filename": path.name})
    upload.raise_for_status()
    httpx.put(upload.json()["uploadUrl"], content=data, headers=upload.json()["headers"]).raise_for_status()
    accepted = api.post("/v1/jobs", json={"type": "video.analyze", "input": {"videoKey": upload.json()["key"]}, "transport": transport})
    accepted.raise_for_status()
    job_id = accepted.json()["jobId"]
    while (job := api.get(f"/v1/jobs/{job_id}").json())["status"] not in {"succeeded", "failed", "dead", "cancelled"}:
        if time.monotonic() - started > JOB_TIMEOUT_SECONDS:
            raise TimeoutError(f"{job_id} still {job['status']} after {JOB_TIMEOUT_SECONDS} s: {job.get('error')}")
        time.sleep(0.1)
    steps = {s["name"]: s["attempts"] for s in job.get("steps", [])}
    result = job.get("result") or {}
    per_scan = int(result.get("processing", {}).get("framesDecoded", 0))
    return {"status": job["status"], "framesDecoded": per_scan * steps.get("scan", 0), "scanAttempts": steps.get("scan", 0),
            "analysisAttempts": steps.get("analysis", 0), "analysis": (result.get("analysis") or {}).get("status"),
            "seconds": round(time.monotonic() - started, 2)}


def decode_work(api: httpx.Client, folder: Path, models: ModelServer, router: Router, transports: tuple[str, ...]) -> dict[str, Any]:
    client = RouterClient(router=router)
    rows = []
    for path in clips(folder):
        row: dict[str, Any] = {"clip": path.name, "whole": whole_job_retried(path, client, models)}
        for transport in transports:
            row[transport] = with_steps(api, path, transport, models)
        rows.append(row)
    whole = sum(r["whole"]["framesDecoded"] for r in rows)
    steps = {t: sum(r[t]["framesDecoded"] for r in rows) for t in transports}
    return {"clips": rows, "framesDecoded": {"wholeJobRetried": whole, **steps},
            "ratio": {t: round(whole / max(1, steps[t]), 2) for t in transports}}


def markdown(report: dict[str, Any], transports: tuple[str, ...]) -> list[str]:
    lines = ["", "video.analyze with a vision model that refuses once (the router's retries at one attempt, so the job sees it):"
             " frames decoded by the job as one function retried whole, and by its steps on the local stack"
             " (upload to result):", "",
             "| clip | whole job retried (in process): tries / frames decoded / seconds | " + " | ".join(
                 f"steps on {t}: analysis attempts / frames decoded / seconds" for t in transports) + " |",
             "|---|---|" + "---|" * len(transports)]
    for row in report["clips"]:
        cells = [f"{row[t]['analysisAttempts']} / {row[t]['framesDecoded']} / {row[t]['seconds']}" for t in transports]
        lines.append(f"| {row['clip']} | {row['whole']['tries']} / {row['whole']['framesDecoded']} / {row['whole']['seconds']} | " + " | ".join(cells) + " |")
    total = report["framesDecoded"]
    lines += ["", f"All clips: {total['wholeJobRetried']} frames decoded retried whole; "
              + "; ".join(f"{total[t]} with steps on {t} ({report['ratio'][t]}x less)" for t in transports) + "."]
    return lines
