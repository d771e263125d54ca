"""`courier video analyze FILE [--json] [--out DIR] [--remote]`: the worker's pipeline on a
local file, here and without AWS; or, with `--remote`, on a deployment (the local stack by
default): the file uploaded through a presigned URL, a `video.analyze` job followed. The
keyframe images are written only to `--out DIR`, never unasked where the user stands."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from courier.ai.document import could_serve
from courier.errors import CourierError
from courier.video.analysis import NO_VISION_MODEL, Frame, skipped
from courier.video.pipeline import Describe, Options, analyze
from courier_cli.output import OK, USAGE, CliError, Output

if TYPE_CHECKING:
    from courier_cli.api import Api


def run(file: str, *, as_json: bool, out: str | None, max_keyframes: int, sample_every: float, analyze_frames: bool | None = None) -> int:
    source = Path(file)
    if not source.is_file():
        raise CliError("no_such_file", f"no such file: {file}", USAGE)
    folder = Path(out) if out else None  # keyframe images are written only where asked
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)

    def save(name: str, data: bytes) -> str:
        if folder is None:
            return name
        target = folder / name
        target.write_bytes(data)
        return str(target)

    output = Output(as_json)
    with output.progress(source.name) as bar:
        def progress(stage: str, fraction: float) -> None:
            bar.update(bar.task_ids[0], completed=fraction, description=f"{source.name} · {stage}")

        try:
            result = analyze(str(source), Options(max_keyframes, sample_every), save, progress, _describer(analyze_frames)).to_dict()
        except CourierError as error:
            raise CliError(error.code, f"{error.code}: {error.message}") from None
    if as_json:
        output.data(result)
        return OK
    video, metrics = result["video"], result["metrics"]
    output.data(result, "\n".join((
        f"{source.name}: {video['width']}x{video['height']} {video['codec']} {video['fps']:g} fps, {video['duration']:.1f} s"
        f"{', audio' if video['hasAudio'] else ''}",
        f"shots {metrics['shots']}, cuts/min {metrics['cutsPerMinute']}, first cut {metrics['firstCut']}, hook {metrics['hookScore']}/100",
        "cuts: " + (", ".join(f"{c['time']:.2f}s" for c in result["cuts"]) or "none"),
        f"{len(result['keyframes'])} keyframes {_where(folder)} ({result['processing']['seconds']} s)",
        _analysis_line(result["analysis"]),
    )))
    return OK


#: Upload chunks: a bar that moves, and memory that stays flat for a 1 GB file.
CHUNK = 1 << 20
UPLOAD_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}


def run_remote(api: Api, file: str, *, as_json: bool, out: str | None, max_keyframes: int, sample_every: float,
               analyze_frames: bool | None = None, timeout: float = 1800) -> int:
    import httpx  # here only: a local analysis starts without it

    from courier_cli.jobs import FINISHED, ending, error_text, follow

    source = Path(file)
    if not source.is_file():
        raise CliError("no_such_file", f"no such file: {file}", USAGE)
    content_type = UPLOAD_TYPES.get(source.suffix.lower())
    if content_type is None:
        raise CliError("unsupported_media_type", f"{source.name}: give an {', '.join(UPLOAD_TYPES)} file", USAGE)
    output = Output(as_json)
    size = source.stat().st_size
    ticket = api.post("/v1/uploads", {"contentType": content_type, "sizeBytes": size, "filename": source.name})
    with output.progress(f"uploading {source.name}", total=size) as bar, source.open("rb") as body:
        def chunks() -> Iterator[bytes]:
            while chunk := body.read(CHUNK):
                bar.update(bar.task_ids[0], advance=len(chunk))
                yield chunk

        try:
            uploaded = httpx.put(ticket["uploadUrl"], content=chunks(), headers=ticket["headers"], timeout=None)
        except httpx.HTTPError as error:
            raise CliError("upload_failed", f"the upload did not go through: {error}") from None
    if not uploaded.is_success:
        raise CliError("upload_failed", f"the bucket refused the upload ({uploaded.status_code}): {uploaded.text[:200]}")
    options: dict[str, Any] = {"maxKeyframes": max_keyframes, "sampleEverySeconds": sample_every}
    if analyze_frames is not None:
        options["analyze"] = analyze_frames
    accepted = api.post("/v1/jobs", {"type": "video.analyze", "input": {"videoKey": ticket["key"], "options": options}})
    job = follow(api, output, accepted["jobId"], timeout=timeout, interval=1.0)
    if job["status"] != "succeeded":
        output.data(job, f"{job['jobId']} ended {job['status']}: {error_text(job)}" if job["status"] in FINISHED else f"{job['jobId']} still {job['status']}")
        return ending(job)
    folder, saved = Path(out) if out else None, []
    files = api.get(f"/v1/jobs/{job['jobId']}/files")["files"] if folder is not None else []
    for stored in files:
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / stored["key"].rsplit("/", 1)[-1]
        target.write_bytes(httpx.get(stored["url"], timeout=60).raise_for_status().content)
        saved.append(str(target))
    result = job["result"]
    output.data({**job, "saved": saved}, "\n".join((
        f"{source.name}: job {job['jobId']} ({job['transport']}, {job['attempts']} attempt(s))",
        "cuts: " + (", ".join(f"{c['time']:.2f}s" for c in result["cuts"]) or "none"),
        f"{len(result['keyframes'])} keyframes {_where(folder)}",
    )))
    return OK


def _where(folder: Path | None) -> str:
    return f"in {folder}/" if folder is not None else "(--out DIR keeps their images)"


def _describer(requested: bool | None) -> Describe | None:
    """Captions through the AI router when a vision model is configured (the catalog's
    environment: AZURE_AI_FOUNDRY_ENDPOINT, COURIER_AI_CATALOG); never a failure."""
    if requested is False:
        return None
    if not could_serve("vision", os.environ):  # nothing to ask: the router is never loaded
        return lambda frames: skipped(NO_VISION_MODEL)
    # The router and its catalogue (pydantic) load while the video decodes, instead of
    # before or after it.
    loading = threading.Thread(target=importlib.import_module, args=("courier.ai.client",), daemon=True)
    loading.start()

    def describe(frames: list[Frame]) -> dict[str, Any]:
        loading.join()
        from courier.ai.client import RouterClient
        from courier.video.analysis import analyze_frames

        return analyze_frames(frames, RouterClient(), requested=requested)

    return describe


def _analysis_line(analysis: dict[str, Any]) -> str:
    if analysis["status"] == "skipped":
        return f"analysis: skipped ({analysis['reason']})"
    summary = analysis.get("summary", {})
    text = summary.get("text") or summary.get("reason") or summary.get("error", {}).get("message", "")
    return f"analysis: {analysis['status']}, {len(analysis['captions'])} captions, ${analysis['costUsd']:.4f}; summary: {text}"
