"""video.analyze end to end: upload through a presigned URL, enqueue, keyframes in S3."""

from __future__ import annotations

from pathlib import Path

import boto3
import httpx

from devstack.model_server import ModelServer
from tests.integration.jobs.conftest import Stack
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
