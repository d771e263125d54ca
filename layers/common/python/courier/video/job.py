"""The `video.analyze` job: fetch, analyze, keyframes to results/{tenant}/{jobId}/, and
captions plus a summary through the AI router when a vision model is configured."""

from __future__ import annotations

import tempfile
from pathlib import Path

from courier.ai.router import shared_router
from courier.errors import CourierError, Misconfigured
from courier.jobs.inputs import VideoAnalyzeInput
from courier.jobs.payloads import results_prefix
from courier.jobs.registry import JobContext, JobResult
from courier.video.analysis import analyze_frames
from courier.video.fetch import fetch_s3, fetch_url
from courier.video.pipeline import DEFAULT_MAX_KEYFRAMES, DEFAULT_SAMPLE_EVERY, Options, analyze

#: Lambda's writable disk; the temporary folder always goes, whatever happens.
SCRATCH = "/tmp"


def analyze_job(context: JobContext) -> JobResult:
    spec = context.input
    assert isinstance(spec, VideoAnalyzeInput)
    if not context.bucket:
        raise Misconfigured("no bucket configured for results")
    job = context.job
    prefix = results_prefix(job.tenant_id, job.job_id)
    options = Options(
        max_keyframes=spec.options.max_keyframes or DEFAULT_MAX_KEYFRAMES,
        sample_every_seconds=spec.options.sample_every_seconds or DEFAULT_SAMPLE_EVERY,
    )
    with tempfile.TemporaryDirectory(prefix="courier-video-", dir=SCRATCH if Path(SCRATCH).is_dir() else None) as scratch:
        path = Path(scratch) / "input"
        context.progress("fetch", 0.0)
        if spec.video_key is not None:
            fetch_s3(context.bucket, spec.video_key, job.tenant_id, path)
        else:
            assert spec.video_url is not None
            fetch_url(spec.video_url, path)
        result = analyze(
            str(path),
            options,
            lambda name, data: _put(context.bucket, prefix + name, data),
            progress=lambda stage, fraction: context.progress(stage, fraction),
            describe=lambda frames: analyze_frames(frames, shared_router(), requested=spec.options.analyze),
        )
    result["source"] = {"videoKey": spec.video_key} if spec.video_key else {"videoUrl": spec.video_url}
    return result


def _put(bucket: str | None, key: str, data: bytes) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    from courier.aws import client

    try:
        client("s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")
    except (ClientError, BotoCoreError) as error:
        raise CourierError(f"storing a keyframe failed: {type(error).__name__}; will retry", code="s3_unavailable", status=503) from None
    return key
