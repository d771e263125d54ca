"""A long video in parts: keyframe-aligned time ranges analysed side by side (one child
job each), whose results courier.video.result merges into the one a single run would give.

Each part decodes a little past its end (`OVERLAP_SECONDS`) and owns what starts in the
middle of its overlaps: a cut on a boundary is seen, with the frames before it, by the
part that reaches across, and counted once. The packet index decides which frames any
run decodes, so the frames a part decodes are the whole run's in that range, and its
cuts are the whole run's cuts (the detector looks back about half a second and ahead
a third of one; the owned range keeps a second from either edge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from courier.video.packets import PacketIndex

OVERLAP_SECONDS = 2.0
#: A part's share of the video by default: at the benchmark's slowest (1080x1920, about
#: 10x real time on the worker's 2 vCPU) five minutes take about 30 s, far inside the
#: worker's 900 s, and a 60-minute video runs as 12 parts side by side.
DEFAULT_FAN_OUT_SECONDS = 300.0
MAX_PARTS = 100


@dataclass(frozen=True)
class Part:
    index: int
    start: float  # on a keyframe
    end: float  # the next part's start; infinity for the last

    @property
    def decode_until(self) -> float:
        return self.end + OVERLAP_SECONDS

    def owns(self, moment: float) -> bool:
        low = self.start + OVERLAP_SECONDS / 2 if self.index else -math.inf
        return low <= moment < self.end + OVERLAP_SECONDS / 2

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "start": self.start, "end": None if math.isinf(self.end) else self.end}

    @classmethod
    def of(cls, index: int, start: float, end: float | None) -> Part:
        """From `to_dict`'s fields (a video.part job's input, or its result's `part`)."""
        return cls(int(index), float(start), math.inf if end is None else float(end))


def plan(packets: PacketIndex, duration: float, fan_out_seconds: float) -> list[Part]:
    """One part per `fan_out_seconds` (at most MAX_PARTS), split on keyframes; a single
    part means the video is analysed whole."""
    wanted = min(MAX_PARTS, max(1, math.ceil(duration / fan_out_seconds)))
    if wanted == 1:
        return [Part(0, 0.0, math.inf)]
    bounds = packets.split(0.0, duration, wanted)[:-1]
    bounds = [b for n, b in enumerate(bounds) if n == 0 or b - bounds[n - 1] >= OVERLAP_SECONDS * 2]
    return [Part(n, start, bounds[n + 1] if n + 1 < len(bounds) else math.inf) for n, start in enumerate(bounds)]
