"""Fades to and from black, from the scan's per-sample brightness: cheap, because the
scan already measured it. Dissolves between two pictures are not detected (telling
one from camera motion needs more than brightness).

A fade is a run of samples whose brightness falls (or rises) steadily into (out of)
black; a hard cut to black is one big step, not a run, and is left to the cut detector.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from courier.video.samples import Sample

#: Mean luma (0-255, video range starts at 16) under which a picture is black.
DARK_LUMA = 24.0
MIN_DEPTH = 40.0
MIN_SECONDS = 0.2
MAX_SECONDS = 4.0
#: A fade's steps are at least this share of its steepest ones; slower drift is the shot.
KNEE = 0.3
MAX_STEP_SHARE = 0.6


@dataclass(frozen=True)
class Fade:
    kind: str  # "out" (to black) or "in" (from black)
    start: float
    end: float

    def to_dict(self) -> dict[str, float | str]:
        return {"kind": self.kind, "start": round(self.start, 3), "end": round(self.end, 3)}


def detect_fades(samples: list[Sample]) -> tuple[list[Fade], list[float]]:
    """The fades, and the times of fades *through* black (out then in): shot boundaries."""
    fades: list[Fade] = []
    through: list[float] = []
    i = 0
    while i < len(samples):
        if samples[i].luma >= DARK_LUMA:
            i += 1
            continue
        j = i
        while j + 1 < len(samples) and samples[j + 1].luma < DARK_LUMA:
            j += 1
        out = _ramp(samples, i, -1)
        into = _ramp(samples, j, +1)
        if out:
            fades.append(out)
        if into:
            fades.append(into)
        if out and into:
            through.append(round((samples[i].time + samples[j].time) / 2, 3))
        i = j + 1
    return fades, through


def _ramp(samples: list[Sample], edge: int, direction: int) -> Fade | None:
    """The steady brightness ramp leading into the dark sample `edge` (direction -1: the
    samples before it, a fade out) or out of it (+1: after it, a fade in)."""
    steps: list[float] = []
    k = edge
    while 0 <= k + direction < len(samples):
        nxt = samples[k + direction]
        step = nxt.luma - samples[k].luma
        if step <= 0 or abs(nxt.time - samples[edge].time) > MAX_SECONDS:
            break
        if len(steps) >= 3 and step < KNEE * statistics.median(steps[:5]):
            break
        steps.append(step)
        k += direction
    if len(steps) < 3:
        return None
    depth = samples[k].luma - samples[edge].luma
    seconds = abs(samples[k].time - samples[edge].time)
    if depth < MIN_DEPTH or seconds < MIN_SECONDS or max(steps) > MAX_STEP_SHARE * depth:
        return None
    if direction < 0:
        return Fade("out", samples[k].time, samples[edge].time)
    return Fade("in", samples[edge].time, samples[k].time)
