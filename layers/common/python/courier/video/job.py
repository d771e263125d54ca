"""The `video.analyze` job, in durable steps: the scan (fetch, cuts, shots, keyframes to
results/{tenant}/{jobId}/), then the analysis (captions plus a summary through the AI router
when a vision model is configured). A model that fails retries the analysis step alone: the
video is never decoded twice for it. When the vision route's deployments say `offload`, the
analysis is the model calls themselves, each a durable call that QStash makes while no
Lambda waits (courier.video.analysis).

A video longer than `fanOutSeconds` is analysed in keyframe-aligned parts instead, one
`video.part` child job each (courier.video.parts), side by side in their own Lambdas;
the continuation (`merge_job`) merges them and copies the chosen keyframes next to the
result (its `merge` step), then captions them (the same `analysis` step).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from courier.errors import CourierError, Misconfigured
from courier.jobs import JobContext, JobResult
from courier.jobs.fanout import FanOut
from courier.jobs.payloads import results_prefix
from courier.s3_errors import s3_outcomes
from courier.uploads import uploads_prefix
from courier.video.analysis import Frame, analyze_frames
from courier.video.fetch import fetch_s3, fetch_url
from courier.video.inputs import VideoAnalyzeInput, VideoOptions, VideoPartInput
from courier.video.packets import index
from courier.video.parts import DEFAULT_FAN_OUT_SECONDS, Part, plan
from courier.video.pipeline import DEFAULT_MAX_KEYFRAMES, DEFAULT_SAMPLE_EVERY, Options, analyze
from courier.video.probe import open_video, probe
from courier.video.result import VideoResult, merge

#: Lambda's writable disk; the temporary folder always goes, whatever happens.
SCRATCH = "/tmp"


#: Attempts of the analysis step: a model that answers 429 or 5xx retries the captions alone
#: (the video is not decoded again); after the last, the result says which frames failed.
ANALYSIS_ATTEMPTS = 3
#: Caption errors worth another attempt of the analysis step.
RETRYABLE_CAPTION_ERRORS = frozenset({"upstream_failed", "deadline_exceeded"})


def analyze_job(context: JobContext[VideoAnalyzeInput]) -> JobResult | FanOut:
    """Steps: the scan (fetch, cuts, shots, keyframes to S3), then the analysis (captions and
    a summary from the stored keyframes). A model's failure retries the analysis only."""
    scanned = context.step("scan", _scan, context)
    if "parts" in scanned:
        return context.fan_out([("video.part", part) for part in scanned["parts"]])
    analysis = _analysis(context, scanned["keyframes"])
    context.progress("done", 1.0)
    return {**scanned, "analysis": analysis, "source": _source(context.input)}


def _scan(context: JobContext[VideoAnalyzeInput]) -> dict[str, Any]:
    """The whole video's result but its analysis, or the parts to analyse it in (`parts`)."""
    spec = context.input
    bucket = _bucket(context)
    job = context.job
    prefix = results_prefix(job.tenant_id, job.job_id)
    with _scratch() as path:
        context.progress("fetch", 0.0)
        if spec.video_key is not None:
            fetch_s3(bucket, spec.video_key, job.tenant_id, path)
        else:
            assert spec.video_url is not None
            fetch_url(spec.video_url, path)
        with open_video(str(path)) as container:
            info = probe(container)
        packets = index(str(path))
        parts = plan(packets, info.duration, spec.options.fan_out_seconds or DEFAULT_FAN_OUT_SECONDS)
        if len(parts) > 1:
            key = spec.video_key or _keep(bucket, uploads_prefix(job.tenant_id) + f"{job.job_id}/source", path)
            context.progress("parts", 0.0, f"{len(parts)} parts of about {info.duration / len(parts):.0f} s")
            options = spec.options.model_dump(by_alias=True, exclude_none=True)
            return {"parts": [{"videoKey": key, **part.to_dict(), "options": options} for part in parts]}
        result = analyze(
            str(path), _options(spec.options), lambda name, data: _put(bucket, prefix + name, data),
            progress=lambda stage, fraction: context.progress(stage, fraction), packets=packets,
        )
    return result.to_dict()


def _analysis(context: JobContext[VideoAnalyzeInput], keyframes: list[dict[str, Any]]) -> dict[str, Any]:
    """The `analysis` step, or the offloaded model calls' own steps (the router's fallbacks
    and waits deciding their retries, as for an offloaded `ai.route`)."""
    if context.steps is not None and context.input.options.analyze is not False and context.router.offloads("vision"):
        context.progress("analysis", 0.0)
        return analyze_frames(_frames(context, keyframes), context.router, requested=context.input.options.analyze, steps=context.steps)
    return context.step("analysis", _describe, context, keyframes, max_attempts=ANALYSIS_ATTEMPTS)


def _frames(context: JobContext[VideoAnalyzeInput], keyframes: list[dict[str, Any]]) -> list[Frame]:
    """The stored keyframes, read back from S3 only when a vision model could describe them."""
    if context.input.options.analyze is False or not context.router.available("vision"):
        return []
    from courier.aws import client

    s3, bucket = client("s3"), _bucket(context)
    return [Frame(k["time"], _s3_call(s3.get_object, Bucket=bucket, Key=k["image"])["Body"].read()) for k in keyframes]


def _describe(context: JobContext[VideoAnalyzeInput], keyframes: list[dict[str, Any]]) -> dict[str, Any]:
    """Captions and a summary in process; a retryable model failure tries the step again."""
    requested = context.input.options.analyze
    frames = _frames(context, keyframes)
    context.progress("analysis", 0.0)
    analysis = analyze_frames(frames, context.router, requested=requested)
    failed = {c.get("error", {}).get("code") for c in analysis.get("captions", ())} | {analysis.get("summary", {}).get("error", {}).get("code")}
    if failed & RETRYABLE_CAPTION_ERRORS and context.step_attempt < ANALYSIS_ATTEMPTS:
        raise CourierError(f"the models did not answer for every keyframe ({analysis['status']}); the analysis is tried again",
                           code="analysis_incomplete", status=503)
    return analysis


def part_job(context: JobContext[VideoPartInput]) -> JobResult:
    spec = context.input
    bucket = _bucket(context)
    job = context.job
    part = Part.of(spec.index, spec.start, spec.end)
    prefix = results_prefix(job.tenant_id, job.job_id)
    with _scratch() as path:
        context.progress("fetch", 0.0)
        fetch_s3(bucket, spec.video_key, job.tenant_id, path)
        result = analyze(
            str(path), _options(spec.options), lambda name, data: _put(bucket, prefix + name, data),
            progress=lambda stage, fraction: context.progress(stage, fraction), span=(part.start, part.decode_until),
        )
    return {**result.to_dict(), "part": part.to_dict()}


def merge_job(context: JobContext[VideoAnalyzeInput]) -> JobResult:
    """The continuation, as steps: every part's result merged and the keyframes copied next
    to it, then the same analysis step as a single run's."""
    merged = context.step("merge", _merge, context)
    analysis = _analysis(context, merged["keyframes"])
    context.progress("done", 1.0)
    return {**merged, "analysis": analysis, "source": _source(context.input)}


def _merge(context: JobContext[VideoAnalyzeInput]) -> dict[str, Any]:
    spec = context.input
    bucket = _bucket(context)
    failed = [child for child in context.children if not child.succeeded or not child.result]
    if failed:
        error = failed[0].error or {}
        raise CourierError(
            f"{len(failed)} of {len(context.children)} parts did not finish; the first ({failed[0].job_id}): "
            f"{error.get('message', failed[0].status)}",
            code=str(error.get("code") or "video_part_failed"), status=422,
        )
    results = sorted((child.result for child in context.children if child.result), key=lambda r: r["part"]["index"])
    parts = [Part.of(**r["part"]) for r in results]
    context.progress("merge", 0.0, f"{len(parts)} parts")
    merged = merge(VideoResult, parts, results, max_keyframes=_options(spec.options).max_keyframes).to_dict()
    from courier.aws import client

    s3 = client("s3")
    prefix = results_prefix(context.job.tenant_id, context.job.job_id)
    for n, keyframe in enumerate(merged["keyframes"]):
        target = f"{prefix}keyframe-{n:03d}-{keyframe['time']:09.3f}s.jpg"
        _s3_call(s3.copy_object, Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": keyframe["image"]})
        keyframe["image"] = target
    return merged


def _options(options: VideoOptions) -> Options:
    return Options(
        max_keyframes=options.max_keyframes or DEFAULT_MAX_KEYFRAMES,
        sample_every_seconds=options.sample_every_seconds or DEFAULT_SAMPLE_EVERY,
    )


def _source(spec: VideoAnalyzeInput) -> dict[str, Any]:
    return {"videoKey": spec.video_key} if spec.video_key else {"videoUrl": spec.video_url}


def _bucket(context: JobContext[Any]) -> str:
    if not context.bucket:
        raise Misconfigured("no bucket configured for results")
    return context.bucket


@contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="courier-video-", dir=SCRATCH if Path(SCRATCH).is_dir() else None) as scratch:
        yield Path(scratch) / "input"


def _s3_call(call: Any, **arguments: Any) -> Any:
    """An S3 call on the job's own objects: a failure is S3's trouble (retried) or the role's."""
    with s3_outcomes(str(arguments.get("Key", "the job's objects"))):
        return call(**arguments)


def _put(bucket: str, key: str, data: bytes) -> str:
    from courier.aws import client

    _s3_call(client("s3").put_object, Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")
    return key


def _keep(bucket: str, key: str, path: Path) -> str:
    """A fetched URL's video among the tenant's uploads, for the parts to read."""
    from courier.aws import client

    _s3_call(client("s3").upload_file, Filename=str(path), Bucket=bucket, Key=key)
    return key
