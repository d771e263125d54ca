"""Keyframe candidates kept while the scan decodes: the sharpest frame of every
second, scaled down to the keyframe size as soon as its second ends.

Keyframes used to be chosen after the scan and decoded again, a seek and most of a GOP
each: half the whole analysis on a dense-cut clip. Keeping one small picture per
second costs a scale per second instead, and a bucket never straddles a possible cut
(the scan closes it early there), so every shot has a candidate of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
from av.video.reformatter import VideoReformatter

#: Keyframe JPEGs' longest side, in pixels.
JPEG_LONG_SIDE = 720
BUCKET_SECONDS = 1.0


@dataclass(frozen=True)
class Still:
    time: float
    sharpness: float
    picture: av.VideoFrame  # yuvj420p, at most JPEG_LONG_SIDE on its longest side


def fit(width: int, height: int, long_side: int = JPEG_LONG_SIDE) -> tuple[int, int]:
    scale = min(1.0, long_side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


class StillKeeper:
    """The sharpest frame offered in each bucket; `break_here` ends a bucket early."""

    def __init__(self) -> None:
        self.stills: list[Still] = []
        self._scaler = VideoReformatter()  # one scaling context for every still: half the cost of one each
        self._best: tuple[float, float, av.VideoFrame] | None = None
        self._bucket = -1

    def offer(self, moment: float, sharpness: float, frame: av.VideoFrame, *, break_here: bool = False) -> None:
        bucket = int(moment // BUCKET_SECONDS)
        if self._best is not None and (break_here or bucket != self._bucket):
            self.close()
        if self._best is None:
            self._bucket = bucket
        if self._best is None or sharpness > self._best[1]:
            self._best = (moment, sharpness, frame)  # a reference: no copy until the bucket ends

    def close(self) -> list[Still]:
        if self._best is not None:
            moment, sharpness, frame = self._best
            width, height = fit(frame.width, frame.height)
            picture = self._scaler.reformat(frame, width=width, height=height, format="yuvj420p", interpolation="AREA")
            self.stills.append(Still(moment, sharpness, picture))
            self._best = None
        return self.stills
