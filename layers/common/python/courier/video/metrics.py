"""The numbers a content team reads about a video: its shot rhythm and how its opening
holds a viewer. Computed from one run's scan, or from the parts' merged shots."""

from __future__ import annotations

import statistics
from typing import Any

from courier.video.keyframes import Keyframe, Shot
from courier.video.probe import VideoInfo
from courier.video.samples import Scan

HOOK_SECONDS = 3.0


def motion_near(result: Scan, moment: float, window: float = 0.5) -> float:
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
