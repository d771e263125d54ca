"""video.analyze end to end: upload through a presigned URL, enqueue, keyframes in S3."""

from __future__ import annotations

from pathlib import Path

import boto3
import httpx
import pytest

from courier.ai.router import reset_shared_router
from courier.video.pipeline import Options, analyze
from devstack.model_server import ModelServer, Step
from devstack.sample_video import render
from tests.integration.jobs.conftest import Stack
from tests.integration.jobs.test_steps import TRANSPORTS, on
from tests.support.models import catalog_override
from tests.support.videos import make_clip


def test_video_job_from_upload_to_keyframes_and_captions(stack: Stack, models: ModelServer, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", shots=[1.5, 2.0, 1.5], flashes=[2.5])
    data = clip.path.read_bytes()
    upload = stack.api.post("/v1/uploads", json={"contentType": "video/mp4", "sizeBytes": len(data), "filename": "clip.mp4"}, headers=stack.headers()).json()
    assert httpx.put(upload["uploadUrl"], content=data, headers=upload["headers"]).status_code == 200
    accepted = stack.submit({"type": "video.analyze", "input": {"videoKey": upload["key"], "options": {"maxKeyframes": 5, "analyze": True}}})
    job = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead", timeout=60)
    assert job["status"] == "succeeded", job
    assert job["progress"]["stage"] == "done" and job["progress"]["fraction"] == 1.0  # the worker reported its stages
    result = job["result"]
    assert [c["time"] for c in result["cuts"]] == clip.cuts
    analysis = result["analysis"]
    assert analysis["status"] == "done" and [c["time"] for c in analysis["captions"]] == [k["time"] for k in result["keyframes"]]
    assert len(models.calls("Phi-4-multimodal-instruct")) == len(result["keyframes"]) and analysis["summary"]["text"]
    s3 = boto3.client("s3")
    prefix = f"results/acme/{accepted['jobId']}/"
    for keyframe in result["keyframes"]:
        assert keyframe["image"].startswith(prefix)
        assert s3.get_object(Bucket=stack.resources.bucket_name, Key=keyframe["image"])["Body"].read()[:2] == b"\xff\xd8"
    assert len(result["keyframes"]) == 3
    # Their short-lived links, in the result's order, for the owner only (the console's thumbnails).
    files = stack.api.get(f"/v1/jobs/{accepted['jobId']}/files", headers=stack.headers()).json()
    assert [f["key"] for f in files["files"]] == [k["image"] for k in result["keyframes"]] and files["expiresAt"]
    for linked in files["files"]:
        assert "X-Amz-Expires=300" in linked["url"] and httpx.get(linked["url"]).content[:2] == b"\xff\xd8"
    assert stack.api.get(f"/v1/jobs/{accepted['jobId']}/files", headers=stack.headers("globex")).status_code == 404


def _upload(stack: Stack, path: Path) -> str:
    data = path.read_bytes()
    upload = stack.api.post("/v1/uploads", json={"contentType": "video/mp4", "sizeBytes": len(data), "filename": path.name}, headers=stack.headers()).json()
    assert httpx.put(upload["uploadUrl"], content=data, headers=upload["headers"]).status_code == 200
    return str(upload["key"])


def test_a_long_video_runs_as_parts_in_parallel_and_merges_to_the_single_run(stack: Stack, tmp_path: Path) -> None:
    """Two minutes of 1-6 s shots (keyframes on cuts only, so part boundaries fall on cuts),
    in four video.part children: the merged result is the single run's, cut for cut."""
    path = tmp_path / "long.mp4"
    pattern = [2.5, 1.2, 4.0, 1.8, 3.2, 5.5, 1.0, 2.2, 3.8, 1.5, 6.0, 2.8]
    shots = (pattern * 4)[:41]
    shots[-1] = round(120 - sum(shots[:-1]), 3)
    truth = render(path, shots, width=180, height=320, keyframes_at_cuts=True, preset="veryfast")
    single = analyze(str(path), Options(), lambda name, data: name).to_dict()
    accepted = stack.submit({"type": "video.analyze", "input": {"videoKey": _upload(stack, path), "options": {"fanOutSeconds": 30, "analyze": False}}})
    job = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead", timeout=120)
    assert job["status"] == "succeeded", job
    children = job["children"]
    assert len(children) == 4 and {c["type"] for c in children} == {"video.part"} and all(c["status"] == "succeeded" for c in children)
    result = job["result"]
    fanned, whole = [c["time"] for c in result["cuts"]], [c["time"] for c in single["cuts"]]
    assert len(fanned) == len(whole) == len(truth)
    assert all(abs(a - b) <= 1 / 30 + 1e-3 for a, b in zip(fanned, whole, strict=True)), (fanned, whole)
    assert [s["length"] for s in result["shots"]] == [s["length"] for s in single["shots"]]
    assert result["metrics"] == single["metrics"]
    bounds = [p["start"] for p in result["processing"]["parts"]]
    assert len(bounds) == 4 and all(any(abs(b - t) < 1e-3 for t in truth) for b in bounds[1:])  # boundaries on cuts, each found once
    # Keyframes renumbered onto the whole video's shots, stored next to the merged result.
    prefix = f"results/acme/{accepted['jobId']}/"
    assert len(result["keyframes"]) == 24 and all(k["image"].startswith(prefix) for k in result["keyframes"])
    shots_of = result["shots"]
    assert all(shots_of[k["shot"]]["start"] <= k["time"] < shots_of[k["shot"]]["end"] for k in result["keyframes"])
    s3 = boto3.client("s3")
    assert s3.get_object(Bucket=stack.resources.bucket_name, Key=result["keyframes"][0]["image"])["Body"].read()[:2] == b"\xff\xd8"
    files = stack.api.get(f"/v1/jobs/{accepted['jobId']}/files", headers=stack.headers()).json()
    assert [f["key"] for f in files["files"]] == [k["image"] for k in result["keyframes"]]


def test_a_model_that_fails_retries_the_analysis_step_alone(stack: Stack, models: ModelServer, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The vision model answers 503 to the first attempt's captions: the analysis step runs
    again after its backoff, the scan (the decode) does not."""
    monkeypatch.setenv("COURIER_AI_CATALOG", catalog_override(models.url, retry={"attemptsPerDeployment": 1}))
    reset_shared_router()
    clip = make_clip(tmp_path / "clip.mp4", shots=[1.5, 2.0, 1.5])
    models.script("Phi-4-multimodal-instruct", *[Step(503, body={"error": {"code": "overloaded", "message": "busy"}})] * 3)
    accepted = stack.submit({"type": "video.analyze", "input": {"videoKey": _upload(stack, clip.path), "options": {"maxKeyframes": 5}}})
    job = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead", timeout=60)
    assert job["status"] == "succeeded", job
    assert [(s["name"], s["attempts"]) for s in job["steps"]] == [("scan", 1), ("analysis", 2)]
    assert job["result"]["analysis"]["status"] == "done" and len(job["result"]["keyframes"]) == 3
    assert len(models.calls("Phi-4-multimodal-instruct")) == 3 + 3  # three refused, then three captions


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_offloaded_captions_are_durable_calls_and_a_refusal_retries_that_call_alone(
    stack: Stack, models: ModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transport: str,
) -> None:
    """Every deployment says `offload`: each caption and the summary is a call that QStash
    makes while no Lambda waits (in process without QStash, the same steps). The first
    caption's 503 is waited out by the router and asked again; the scan and the other
    captions run once."""
    on(stack, transport)
    monkeypatch.setenv("COURIER_AI_CATALOG", catalog_override(models.url, offload=True, retry={"attemptsPerDeployment": 2}))
    reset_shared_router()
    clip = make_clip(tmp_path / "clip.mp4", shots=[1.5, 2.0, 1.5])
    models.script("Phi-4-multimodal-instruct", Step(503, body={"error": {"code": "overloaded", "message": "busy"}}))
    accepted = stack.submit({"type": "video.analyze", "input": {"videoKey": _upload(stack, clip.path), "options": {"maxKeyframes": 5}}})
    job = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead", timeout=60)
    assert job["status"] == "succeeded", job
    analysis = job["result"]["analysis"]
    assert analysis["status"] == "done" and len(analysis["captions"]) == 3 and analysis["summary"]["text"]
    assert all(c["deployment"] == "Phi-4-multimodal-instruct" for c in analysis["captions"]) and analysis["costUsd"] > 0
    assert [(s["name"], s["kind"], s["status"]) for s in job["steps"]] == [
        ("scan", "run", "done"),
        ("caption-1:call:1", "call", "done"), ("caption-1:wait:1", "sleep", "done"), ("caption-1:call:2", "call", "done"),
        ("caption-2:call:1", "call", "done"), ("caption-3:call:1", "call", "done"),
        ("summary:call:1", "call", "done"),
    ]
    assert len(models.calls("Phi-4-multimodal-instruct")) == 1 + 3  # the refusal, then each caption once
    assert len(models.calls("DeepSeek-V3-0324")) == 1  # the summary, once
