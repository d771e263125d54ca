"""The whole analysis of one local video file: probe, cuts, keyframes, metrics.

Where keyframe JPEGs go is the caller's business (a folder for the command line, S3
for the worker): `save` takes a file name and the bytes and returns where it put them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from courier.video.analysis import Frame, skipped
from courier.video.cuts import detect
from courier.video.fades import detect_fades
from courier.video.keyframes import Shot, choose, encode
from courier.video.metrics import hook_score, motion_near, video_metrics
from courier.video.packets import PacketIndex, index
from courier.video.probe import open_video, probe
from courier.video.refine import cut_times as refined_cut_times
from courier.video.result import VideoResult, shot_dict
from courier.video.scan import scan

DEFAULT_MAX_KEYFRAMES = 24
DEFAULT_SAMPLE_EVERY = 5.0

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
) -> VideoResult:
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
            keyframe.metrics["motion"] = motion_near(result, keyframe.time)
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
    return VideoResult(
        video=info.to_dict(),
        cuts=[{"time": t, "frame": round(t * info.fps)} for t in cut_times],
        fades=[f.to_dict() for f in fades],
        shots=[shot_dict(s) for s in shots],
        keyframes=stored,
        metrics=video_metrics(info, shots, cut_times, hook=hook_score(cut_times, result, keyframes)),
        analysis=analysis,
        processing={"seconds": round(time.monotonic() - started, 3), "framesDecoded": len(result.samples), "packets": packets.packets},
    )
