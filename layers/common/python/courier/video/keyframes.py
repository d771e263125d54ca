"""Keyframes: the sharpest kept still near each shot's middle, plus samples in long shots,
written as JPEG (PyAV's MJPEG encoder: no imaging library), measured on the same picture.

The stills come from the scan's own pass (`stills.py`): nothing is decoded again.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

import av
import numpy as np

from courier.video.images import brightness_contrast, colorfulness, sharpness
from courier.video.stills import Still

METRICS_WIDTH = 320
T = TypeVar("T")


@dataclass(frozen=True)
class Shot:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass
class Keyframe:
    time: float
    shot: int
    reason: str  # "shot" (its representative) or "sample" (a long shot's extra)
    still: Still | None = None
    jpeg: bytes = b""
    metrics: dict[str, float] | None = None


def choose(stills: list[Still], shots: list[Shot], *, max_keyframes: int, sample_every: float) -> list[Keyframe]:
    if not stills:
        return []
    chosen: list[Keyframe] = []
    extras: list[Keyframe] = []
    for n, shot in enumerate(shots):
        middle = [s for s in stills if shot.start + shot.length * 0.25 <= s.time <= shot.end - shot.length * 0.25]
        inside = middle or [s for s in stills if shot.start <= s.time < shot.end]
        if not inside:  # shorter than what the scan kept of it: the nearest picture
            inside = [min(stills, key=lambda s: abs(s.time - (shot.start + shot.end) / 2))]
        representative = max(inside, key=lambda s: s.sharpness)
        chosen.append(Keyframe(representative.time, n, "shot", representative))
        window = shot.start + sample_every
        while window + sample_every / 2 < shot.end:
            near = [s for s in stills if window - sample_every / 4 <= s.time <= window + sample_every / 4]
            if near and abs(window - representative.time) > sample_every / 2:
                best = max(near, key=lambda s: s.sharpness)
                extras.append(Keyframe(best.time, n, "sample", best))
            window += sample_every
    picked = spread(chosen, extras, max_keyframes)
    unique = {round(k.time, 3): k for k in sorted(picked, key=lambda k: k.reason == "shot")}
    return sorted(unique.values(), key=lambda k: k.time)


def spread(representatives: list[T], extras: list[T], limit: int) -> list[T]:
    """At most `limit`: every shot's representative if they fit (else evenly spread over the
    video), the room left filled with long shots' samples, evenly spread too."""
    chosen = list(representatives)
    if len(chosen) > limit:
        step = len(chosen) / limit
        chosen = [chosen[int(i * step)] for i in range(limit)]
    room = limit - len(chosen)
    if extras and room > 0:
        step = max(1.0, len(extras) / room)
        chosen += [extras[int(i * step)] for i in range(min(room, len(extras)))]
    return chosen


def encode(keyframes: list[Keyframe]) -> None:
    """Each keyframe's JPEG and metrics, from its still, on every core (PyAV encodes and
    scales without the GIL; each thread has its own encoder)."""
    work = [k for k in keyframes if k.still is not None]
    threads = min(os.cpu_count() or 1, len(work))
    if threads <= 1:
        _encode_each(work)
        return
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(_encode_each, [work[n::threads] for n in range(threads)]))


def _encode_each(keyframes: list[Keyframe]) -> None:
    encoder = None
    for n, keyframe in enumerate(keyframes):
        assert keyframe.still is not None
        picture = keyframe.still.picture
        if encoder is None or (encoder.width, encoder.height) != (picture.width, picture.height):
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width, encoder.height, encoder.pix_fmt = picture.width, picture.height, "yuvj420p"
            encoder.time_base = Fraction(1, 25)
            encoder.options = {"qmin": "2", "qmax": "5"}
        picture.pts, picture.time_base = n, encoder.time_base  # increasing, in its own clock (one keyframe per still)
        keyframe.jpeg = b"".join(bytes(p) for p in encoder.encode(picture))
        keyframe.metrics = frame_metrics(picture)


def frame_metrics(picture: av.VideoFrame) -> dict[str, float]:
    """Light and detail on a 320-pixel-wide grey picture; colour on one half as wide
    (colourfulness is a statistic of the whole: a quarter of the pixels give the same)."""
    def scaled(width: int, format: str) -> np.ndarray:
        height = max(8, round(width * picture.height / picture.width))
        return picture.reformat(width=width, height=height, format=format).to_ndarray()

    luma = scaled(METRICS_WIDTH, "gray").astype(np.float32)
    rgb = scaled(METRICS_WIDTH // 2, "rgb24")
    brightness, contrast = brightness_contrast(luma)
    return {
        "brightness": round(brightness / 255, 4),
        "contrast": round(contrast / 128, 4),
        "sharpness": round(sharpness(luma), 2),
        "colorfulness": round(colorfulness(rgb), 2),
    }
