"""One fast decoding pass: per decoded frame, a tiny thumbnail's features.

Decoding is the floor of the cost, so decode less: reference frames only (non-reference
B-frames are skipped), no loop filter, all cores; then work on 64-pixel-wide planes.
A hard cut shows up on the first frame of the new shot, which encoders make a reference
(I or P) frame, so skipping the others loses no cut, only exactness, which `refine`
restores where it matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import av
import numpy as np

from courier.video.errors import bad_video
from courier.video.images import histogram, histogram_delta, layout_delta, pooled, sharpness

THUMB_WIDTH = 64


@dataclass
class Sample:
    time: float
    key: bool  # an I-frame
    score: float  # layout change (pooled blocks) from the previous sample, 0-255
    colour: float  # histogram change from the previous sample, 0-6
    luma: float
    sharpness: float

    @property
    def motion(self) -> float:
        return self.score


@dataclass
class Scan:
    samples: list[Sample] = field(default_factory=list)
    #: Pooled thumbnails and histograms, for flash checks.
    layouts: list[np.ndarray] = field(default_factory=list)
    histograms: list[np.ndarray] = field(default_factory=list)


def thumbnail(frame: av.VideoFrame) -> np.ndarray:
    """A ~64-pixel-wide YUV thumbnail, by striding the decoded planes (no scaler, no RGB).

    Point sampling is enough to compare frames; it costs a copy of a few thousand bytes
    where a scaler reads the whole picture.
    """
    if frame.format.name not in ("yuv420p", "yuvj420p"):
        frame = frame.reformat(format="yuv420p")  # 10-bit, 4:2:2...: rare, converted once
    step = max(2, (frame.width // THUMB_WIDTH) & ~1)
    planes = [np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size) for plane in frame.planes[:3]]
    luma = planes[0][: frame.height : step, : frame.width : step]
    half = step // 2
    rows, cols = luma.shape
    chroma = [p[: frame.height // 2 : half, : frame.width // 2 : half][:rows, :cols] for p in planes[1:]]
    thumb = np.empty((rows, cols, 3), np.float32)
    thumb[..., 0] = luma
    thumb[..., 1] = chroma[0] - 128.0
    thumb[..., 2] = chroma[1] - 128.0
    return thumb


def fast_decoder(container: av.container.InputContainer, *, skip_nonref: bool = True) -> av.video.stream.VideoStream:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    context = stream.codec_context
    if skip_nonref:
        context.skip_frame = "NONREF"
    context.options = {"skip_loop_filter": "all"}
    return stream


def scan(container: av.container.InputContainer, duration: float, progress: Callable[[float], None] | None = None) -> Scan:
    stream = fast_decoder(container)
    result = Scan()
    try:
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            thumb = thumbnail(frame)
            layout, colours = pooled(thumb), histogram(thumb)
            if result.layouts:
                score = layout_delta(result.layouts[-1], layout)
                colour = histogram_delta(result.histograms[-1], colours)
            else:
                score = colour = 0.0
            luma = thumb[..., 0]
            result.samples.append(Sample(float(frame.time), int(frame.pict_type) == 1, score, colour, float(luma.mean()), sharpness(luma)))
            result.layouts.append(layout)
            result.histograms.append(colours)
            if progress is not None and duration:
                progress(min(1.0, float(frame.time) / duration))
    except av.error.InvalidDataError as error:
        if not result.samples:
            raise bad_video("corrupt_video", f"the video stream cannot be decoded: {error}") from None
        # A truncated tail: keep what decoded, as players do.
    if not result.samples:
        raise bad_video("corrupt_video", "no frame of the video could be decoded")
    return result
