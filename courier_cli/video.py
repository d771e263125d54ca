"""`courier video analyze FILE [--json] [--out DIR]`: the worker's pipeline on a local file, no AWS."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from courier.errors import CourierError
from courier.video.pipeline import Describe, Options, analyze


def run(file: str, *, as_json: bool, out: str | None, max_keyframes: int, sample_every: float, analyze_frames: bool | None = None) -> int:
    source = Path(file)
    if not source.is_file():
        print(f"courier: no such file: {file}", file=sys.stderr)
        return 2
    folder = Path(out) if out else Path(f"{source.stem}-keyframes")
    folder.mkdir(parents=True, exist_ok=True)

    def save(name: str, data: bytes) -> str:
        target = folder / name
        target.write_bytes(data)
        return str(target)

    bar = _Bar() if sys.stderr.isatty() else None
    try:
        result = analyze(str(source), Options(max_keyframes, sample_every), save, bar.update if bar else None, _describer(analyze_frames))
    except CourierError as error:
        if bar:
            bar.close()
        print(f"courier: {error.code}: {error.message}", file=sys.stderr)
        return 1
    if bar:
        bar.close()
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        video, metrics = result["video"], result["metrics"]
        print(f"{source.name}: {video['width']}x{video['height']} {video['codec']} {video['fps']:g} fps, {video['duration']:.1f} s"
              f"{', audio' if video['has_audio'] else ''}")
        print(f"shots {metrics['shots']}, cuts/min {metrics['cutsPerMinute']}, first cut {metrics['firstCut']}, hook {metrics['hookScore']}/100")
        print("cuts: " + (", ".join(f"{c['time']:.2f}s" for c in result["cuts"]) or "none"))
        print(f"{len(result['keyframes'])} keyframes in {folder}/ ({result['processing']['seconds']} s)")
        print(_analysis_line(result["analysis"]))
    return 0


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


class _Bar:
    """A one-line progress bar on stderr (terminals only)."""

    def __init__(self) -> None:
        self.last = -1

    def update(self, stage: str, fraction: float) -> None:
        percent = int(fraction * 100)
        if percent != self.last:
            self.last = percent
            filled = percent // 4
            sys.stderr.write(f"\r{stage:<9} [{'#' * filled}{'.' * (25 - filled)}] {percent:3d}%")
            sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\r" + " " * 50 + "\r")
        sys.stderr.flush()

