"""`courier video analyze FILE [--json] [--out DIR]`: the worker's pipeline on a local file, no AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from courier.errors import CourierError
from courier.video.pipeline import Describe, Options, analyze
from courier_cli.output import OK, USAGE, CliError, Output


def run(file: str, *, as_json: bool, out: str | None, max_keyframes: int, sample_every: float, analyze_frames: bool | None = None) -> int:
    source = Path(file)
    if not source.is_file():
        raise CliError("no_such_file", f"no such file: {file}", USAGE)
    folder = Path(out) if out else Path(f"{source.stem}-keyframes")
    folder.mkdir(parents=True, exist_ok=True)

    def save(name: str, data: bytes) -> str:
        target = folder / name
        target.write_bytes(data)
        return str(target)

    output = Output(as_json)
    with output.progress(source.name) as bar:
        def progress(stage: str, fraction: float) -> None:
            bar.update(bar.task_ids[0], completed=fraction, description=f"{source.name} · {stage}")

        try:
            result = analyze(str(source), Options(max_keyframes, sample_every), save, progress, _describer(analyze_frames))
        except CourierError as error:
            raise CliError(error.code, f"{error.code}: {error.message}") from None
    if as_json:
        output.data(result)
        return OK
    video, metrics = result["video"], result["metrics"]
    output.data(result, "\n".join((
        f"{source.name}: {video['width']}x{video['height']} {video['codec']} {video['fps']:g} fps, {video['duration']:.1f} s"
        f"{', audio' if video['has_audio'] else ''}",
        f"shots {metrics['shots']}, cuts/min {metrics['cutsPerMinute']}, first cut {metrics['firstCut']}, hook {metrics['hookScore']}/100",
        "cuts: " + (", ".join(f"{c['time']:.2f}s" for c in result["cuts"]) or "none"),
        f"{len(result['keyframes'])} keyframes in {folder}/ ({result['processing']['seconds']} s)",
        _analysis_line(result["analysis"]),
    )))
    return OK


def _describer(requested: bool | None) -> Describe | None:
    """Captions through the AI router when a vision model is configured (the catalog's
    environment: AZURE_AI_FOUNDRY_ENDPOINT, COURIER_AI_CATALOG); never a failure."""
    if requested is False:
        return None
    from courier.ai.router import shared_router
    from courier.video.analysis import analyze_frames

    return lambda frames: analyze_frames(frames, shared_router(), requested=requested)


def _analysis_line(analysis: dict[str, Any]) -> str:
    if analysis["status"] == "skipped":
        return f"analysis: skipped ({analysis['reason']})"
    summary = analysis.get("summary", {})
    text = summary.get("text") or summary.get("reason") or summary.get("error", {}).get("message", "")
    return f"analysis: {analysis['status']}, {len(analysis['captions'])} captions, ${analysis['costUsd']:.4f}; summary: {text}"
