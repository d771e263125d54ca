"""One fast decoding pass: per decoded frame, a tiny thumbnail's features.

Decoding is the floor of the cost, so decode less: reference frames only (non-reference
B-frames are skipped), no loop filter, all cores; then work on 64-pixel-wide planes.
A hard cut shows up on the first frame of the new shot, which encoders make a reference
(I or P) frame, so skipping the others loses no cut, only exactness, which `refine`
restores where it matters.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

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
    planes = [np.frombuffer(cast(Any, plane), np.uint8).reshape(-1, plane.line_size) for plane in frame.planes[:3]]  # a plane is a buffer
    luma = planes[0][: frame.height : step, : frame.width : step]
    half = step // 2
    rows, cols = luma.shape
    chroma = [p[: frame.height // 2 : half, : frame.width // 2 : half][:rows, :cols] for p in planes[1:]]
    thumb = np.empty((rows, cols, 3), np.float32)
    thumb[..., 0] = luma
    thumb[..., 1] = chroma[0] - 128.0
    thumb[..., 2] = chroma[1] - 128.0
    return thumb


def _segment_progress(report: Callable[[int, float], None], segment: int, start: float) -> Callable[[float], None]:
    """A segment's decoder reports stream time; progress counts seconds into the segment."""
    return lambda t: report(segment, t - start)


def seek(container: av.container.InputContainer, stream: av.video.stream.VideoStream, seconds: float) -> None:
    """To the keyframe at or before `seconds`, in the stream's own time base."""
    if stream.time_base is None:
        raise ValueError("the video stream has no time base")
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True)


def fast_decoder(container: av.container.InputContainer, *, skip_nonref: bool = True) -> av.video.stream.VideoStream:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    context = stream.codec_context
    if skip_nonref:
        context.skip_frame = "NONREF"
    context.options = {"skip_loop_filter": "all"}
    return stream


#: Below this, one decoder: the parallel segments' seeks would cost more than they save.
PARALLEL_MIN_SECONDS = 8.0


def scan(path: str, duration: float, progress: Callable[[float], None] | None = None, *, workers: int | None = None) -> Scan:
    """Decode the video in time segments, one decoder per core, and stitch the samples.

    Reference frames form a chain a single decoder must follow in order, so one decoder
    mostly uses one core; segments that start at their own keyframes use them all.
    """
    count = workers or min(4, os.cpu_count() or 1)
    if duration < PARALLEL_MIN_SECONDS:
        count = 1
    bounds = [duration * n / count for n in range(count)] + [float("inf")]
    done = [0.0] * count

    def report(segment: int, seconds: float) -> None:
        done[segment] = seconds
        if progress is not None and duration:
            progress(min(1.0, sum(done) / duration))

    if count == 1:
        parts = [_scan_segment(path, 0.0, bounds[1], lambda t: report(0, t))]
    else:
        with ThreadPoolExecutor(count) as pool:  # PyAV decodes without the GIL
            futures = [
                pool.submit(_scan_segment, path, bounds[n], bounds[n + 1], _segment_progress(report, n, bounds[n]))
                for n in range(count)
            ]
            parts = [future.result() for future in futures]
    result = Scan()
    for part in parts:
        for time_, key, layout, colours, luma, sharp in part:
            if result.layouts:
                score = layout_delta(result.layouts[-1], layout)
                colour = histogram_delta(result.histograms[-1], colours)
            else:
                score = colour = 0.0
            result.samples.append(Sample(time_, key, score, colour, luma, sharp))
            result.layouts.append(layout)
            result.histograms.append(colours)
    if not result.samples:
        raise bad_video("corrupt_video", "no frame of the video could be decoded")
    return result


_Decoded = tuple[float, bool, np.ndarray, np.ndarray, float, float]


def _scan_segment(path: str, start: float, end: float, progress: Callable[[float], None]) -> list[_Decoded]:
    decoded: list[_Decoded] = []
    with av.open(path) as container:
        stream = fast_decoder(container)
        if start > 0:
            seek(container, stream, start)
        try:
            for frame in container.decode(stream):
                moment = frame.time
                if moment is None or moment < start - 1e-6:
                    continue
                if moment >= end - 1e-6:
                    break
                thumb = thumbnail(frame)
                luma = thumb[..., 0]
                decoded.append((float(moment), int(frame.pict_type) == 1, pooled(thumb), histogram(thumb), float(luma.mean()), sharpness(luma)))
                progress(float(moment))
        except av.error.InvalidDataError as error:
            if not decoded and start == 0:
                raise bad_video("corrupt_video", f"the video stream cannot be decoded: {error}") from None
            # A truncated tail: keep what decoded, as players do.
    return decoded
