"""Keyframes: the sharpest frame near each shot's middle, plus samples in long shots,
decoded at full quality and written as JPEG (PyAV's MJPEG encoder: no imaging library)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from courier.video.images import brightness_contrast, colorfulness, sharpness, to_yuv
from courier.video.scan import Scan, seek

JPEG_LONG_SIDE = 720
METRICS_WIDTH = 320


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
    jpeg: bytes = b""
    metrics: dict[str, float] | None = None


def choose(scan: Scan, shots: list[Shot], *, max_keyframes: int, sample_every: float) -> list[Keyframe]:
    samples = scan.samples
    chosen: list[Keyframe] = []
    extras: list[Keyframe] = []
    for n, shot in enumerate(shots):
        middle = [s for s in samples if shot.start + shot.length * 0.25 <= s.time <= shot.end - shot.length * 0.25]
        inside = middle or [s for s in samples if shot.start <= s.time < shot.end] or [min(samples, key=lambda s: abs(s.time - shot.start))]
        representative = max(inside, key=lambda s: s.sharpness).time
        chosen.append(Keyframe(representative, n, "shot"))
        window = shot.start + sample_every
        while window + sample_every / 2 < shot.end:
            near = [s for s in samples if window - sample_every / 4 <= s.time <= window + sample_every / 4]
            if near and abs(window - representative) > sample_every / 2:
                extras.append(Keyframe(max(near, key=lambda s: s.sharpness).time, n, "sample"))
            window += sample_every
    if len(chosen) > max_keyframes:  # more shots than keyframes: spread over the video
        step = len(chosen) / max_keyframes
        chosen = [chosen[int(i * step)] for i in range(max_keyframes)]
    room = max_keyframes - len(chosen)
    if extras and room > 0:
        step = max(1.0, len(extras) / room)
        chosen += [extras[int(i * step)] for i in range(min(room, len(extras)))]
    unique = {round(k.time, 3): k for k in sorted(chosen, key=lambda k: k.reason == "shot")}
    return sorted(unique.values(), key=lambda k: k.time)


def extract(path: str, keyframes: list[Keyframe]) -> None:
    """Decode each keyframe's exact frame; fill in its JPEG and metrics."""
    if not keyframes:
        return
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        encoder = None
        for n, keyframe in enumerate(keyframes):
            seek(container, stream, keyframe.time)
            frame = next((f for f in container.decode(stream) if f.time is not None and f.time >= keyframe.time - 1e-3), None)
            if frame is None:
                continue
            width, height = _fit(frame.width, frame.height, JPEG_LONG_SIDE)
            if encoder is None:
                encoder = av.CodecContext.create("mjpeg", "w")
                encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
                encoder.time_base = Fraction(1, 25)
                encoder.options = {"qmin": "2", "qmax": "5"}
            picture = frame.reformat(width=width, height=height, format="yuvj420p")
            picture.pts, picture.time_base = n, encoder.time_base  # increasing, in its own clock
            packets = encoder.encode(picture)
            keyframe.jpeg = b"".join(bytes(p) for p in packets)
            small_h = max(8, round(METRICS_WIDTH * frame.height / frame.width))
            keyframe.metrics = frame_metrics(frame.reformat(width=METRICS_WIDTH, height=small_h, format="rgb24").to_ndarray())


def frame_metrics(rgb: np.ndarray) -> dict[str, float]:
    luma = to_yuv(rgb)[..., 0]
    brightness, contrast = brightness_contrast(luma)
    return {
        "brightness": round(brightness / 255, 4),
        "contrast": round(contrast / 128, 4),
        "sharpness": round(sharpness(luma), 2),
        "colorfulness": round(colorfulness(rgb), 2),
    }


def _fit(width: int, height: int, long_side: int) -> tuple[int, int]:
    scale = min(1.0, long_side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
