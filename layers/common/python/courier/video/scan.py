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
from courier.video.images import content_delta, sharpness, to_yuv

THUMB_WIDTH = 64


@dataclass
class Sample:
    time: float
    key: bool  # an I-frame
    score: float  # content change from the previous sample
    luma: float
    sharpness: float
    motion: float


@dataclass
class Scan:
    samples: list[Sample] = field(default_factory=list)
    thumbs: list[np.ndarray] = field(default_factory=list)  # YUV thumbnails, for flash checks

    def delta(self, i: int, j: int) -> float:
        return content_delta(self.thumbs[i], self.thumbs[j])


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
    height = None
    previous: np.ndarray | None = None
    try:
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            if height is None:
                height = max(8, round(THUMB_WIDTH * frame.height / frame.width))
            thumb = to_yuv(frame.reformat(width=THUMB_WIDTH, height=height, format="rgb24").to_ndarray())
            score = content_delta(previous, thumb) if previous is not None else 0.0
            luma = thumb[..., 0]
            result.samples.append(Sample(float(frame.time), int(frame.pict_type) == 1, score, float(luma.mean()), sharpness(luma), score))
            result.thumbs.append(thumb)
            previous = thumb
            if progress is not None and duration:
                progress(min(1.0, float(frame.time) / duration))
    except av.error.InvalidDataError as error:
        if not result.samples:
            raise bad_video("corrupt_video", f"the video stream cannot be decoded: {error}") from None
        # A truncated tail: keep what decoded, as players do.
    if not result.samples:
        raise bad_video("corrupt_video", "no frame of the video could be decoded")
    return result
