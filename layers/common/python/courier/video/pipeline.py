"""The whole analysis of one local video file: probe, cuts, keyframes, metrics.

Where keyframe JPEGs go is the caller's business (a folder for the command line, S3
for the worker): `save` takes a file name and the bytes and returns where it put them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from courier.video.analysis import Frame, skipped
from courier.video.cuts import detect
from courier.video.fades import detect_fades
from courier.video.keyframes import Keyframe, Shot, choose, encode
from courier.video.packets import PacketIndex, index
from courier.video.probe import VideoInfo, open_video, probe
from courier.video.refine import cut_times as refined_cut_times
from courier.video.samples import Scan
from courier.video.scan import scan

DEFAULT_MAX_KEYFRAMES = 24
DEFAULT_SAMPLE_EVERY = 5.0
HOOK_SECONDS = 3.0

Save = Callable[[str, bytes], str]
Progress = Callable[[str, float], None]
#: Captions and a summary for the stored keyframes (courier.video.analysis), or None.
Describe = Callable[[list[Frame]], dict[str, Any]]


@dataclass(frozen=True)
class Options:
    max_keyframes: int = DEFAULT_MAX_KEYFRAMES
    sample_every_seconds: float = DEFAULT_SAMPLE_EVERY


def analyze(
    path: str, options: Options, save: Save, progress: Progress | None = None, describe: Describe | None = None,
    *, span: tuple[float, float] | None = None, packets: PacketIndex | None = None,
) -> dict[str, Any]:
    """The whole video, or with `span` the seconds [start, end) of it (a fanned-out part,
    `start` on a keyframe): its cuts, shots and keyframes in that range. `packets`: the
    file's index, when the caller has read it already."""
    started = time.monotonic()
    report = progress or (lambda stage, fraction: None)
    with open_video(path) as container:
        info = probe(container)
    packets = packets or index(path)
    start, stop = span or (0.0, float("inf"))
    result = scan(path, packets, start, stop, lambda fraction: report("scan", fraction))
    cut_times = [round(t, 3) for t in refined_cut_times(path, result, detect(result), info.fps)]
    fades, through_black = detect_fades(result.samples)
    end = min(stop, max(info.duration, result.samples[-1].time + 1 / max(info.fps, 1)))
    bounds = [start, *sorted({*cut_times, *through_black}), end]
    shots = [Shot(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    report("keyframes", 0.0)
    keyframes = choose(result.stills, shots, max_keyframes=options.max_keyframes, sample_every=options.sample_every_seconds)
    encode(keyframes)
    for keyframe in keyframes:
        if keyframe.metrics is not None:
            keyframe.metrics["motion"] = _motion_near(result, keyframe.time)
    stored = [
        {
            "time": round(k.time, 3),
            "shot": k.shot,
            "reason": k.reason,
            "image": save(f"keyframe-{n:03d}-{k.time:09.3f}s.jpg", k.jpeg),
            "metrics": k.metrics,
        }
        for n, k in enumerate(keyframes)
        if k.jpeg
    ]
    report("analysis", 0.0)
    analysis = describe([Frame(round(k.time, 3), k.jpeg) for k in keyframes if k.jpeg]) if describe else skipped("not requested")
    report("done", 1.0)
    return {
        "video": info.to_dict(),
        "cuts": [{"time": t, "frame": round(t * info.fps)} for t in cut_times],
        "fades": [f.to_dict() for f in fades],
        "shots": [{"start": round(s.start, 3), "end": round(s.end, 3), "length": round(s.length, 3)} for s in shots],
        "keyframes": stored,
        "metrics": video_metrics(info, shots, cut_times, hook=hook_score(cut_times, result, keyframes)),
        "analysis": analysis,
        "processing": {"seconds": round(time.monotonic() - started, 3), "framesDecoded": len(result.samples), "packets": packets.packets},
    }


def _motion_near(result: Scan, moment: float, window: float = 0.5) -> float:
    near = [s.motion for s in result.samples if abs(s.time - moment) <= window]
    return round(statistics.fmean(near), 3) if near else 0.0


def video_metrics(info: VideoInfo, shots: list[Shot], cuts: list[float], *, hook: float) -> dict[str, Any]:
    lengths = [s.length for s in shots]
    minutes = info.duration / 60 if info.duration else 0
    return {
        "duration": info.duration,
        "shots": len(shots),
        "cutsPerMinute": round(len(cuts) / minutes, 2) if minutes else 0.0,
        "firstCut": cuts[0] if cuts else None,
        "shotLength": {
            "mean": round(statistics.fmean(lengths), 3),
            "median": round(statistics.median(lengths), 3),
            "min": round(min(lengths), 3),
            "max": round(max(lengths), 3),
        },
        "hookScore": hook,
    }


def hook_score(cuts: list[float], result: Scan, keyframes: list[Keyframe]) -> float:
    """0-100: how much happens in the first 3 seconds, where viewers decide to stay.

    40 points for cuts (3 or more is full marks), 35 for motion (a mean change of 12 on
    the 0-255 scale is full marks), 25 for a bright, contrasted, colourful opening frame.
    A heuristic that ranks openings; not a prediction of retention.
    """
    early_cuts = sum(1 for t in cuts if t <= HOOK_SECONDS)
    motion = [s.motion for s in result.samples if s.time <= HOOK_SECONDS]
    first = next((k.metrics for k in keyframes if k.metrics), None)
    look = 0.0
    if first:
        look = (min(first["brightness"] / 0.5, 1) + min(first["contrast"] / 0.5, 1) + min(first["colorfulness"] / 60, 1)) / 3
    score = 40 * min(early_cuts / 3, 1) + 35 * min((statistics.fmean(motion) if motion else 0) / 12, 1) + 25 * look
    return round(score, 1)
