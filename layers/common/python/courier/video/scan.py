"""One decoding pass: per decoded frame, a tiny thumbnail's features, and the keyframe
candidates (`stills`).

Decoding is the floor of the cost, so decode less: reference frames only (non-reference
B-frames are skipped), no loop filter, one single-threaded decoder per core on
keyframe-aligned segments (no seek lands before its segment, nothing is decoded twice).
A hard cut shows on the first frame of the new shot, which encoders make a reference
frame or a B-frame shown just before one; the packet index (`packets.py`) names the
reference frames that start something new, and the frames shown before them are decoded
too, so cuts land on their exact frame in the same pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any, cast

import av
import numpy as np

from courier.video.cuts import RECENT, is_candidate
from courier.video.errors import bad_video
from courier.video.images import BLOCK, detail, histogram, histogram_delta, layout_delta, pooled
from courier.video.packets import PacketIndex
from courier.video.samples import Sample, Scan
from courier.video.stills import StillKeeper

THUMB_WIDTH = 64
#: Segments shorter than this are not worth a decoder of their own.
MIN_SEGMENT_SECONDS = 2.0


def thumbnail(frame: av.VideoFrame) -> np.ndarray:
    """A ~64-pixel-wide planar uint8 YUV thumbnail (3, h, w), sides multiples of BLOCK, by
    striding the decoded planes (no scaler, no RGB).

    Point sampling is enough to compare frames; it costs a copy of a few thousand bytes
    where a scaler reads the whole picture.
    """
    if frame.format.name not in ("yuv420p", "yuvj420p"):
        frame = frame.reformat(format="yuv420p")  # 10-bit, 4:2:2...: rare, converted once
    step = max(2, (frame.width // THUMB_WIDTH) & ~1)
    half = step // 2
    rows = max(BLOCK, (frame.height // step) // BLOCK * BLOCK)
    cols = max(BLOCK, (frame.width // step) // BLOCK * BLOCK)
    planes = frame.planes  # buffers: read in place
    thumb = np.empty((3, rows, cols), np.uint8)
    for n, (plane, stride) in enumerate(((planes[0], step), (planes[1], half), (planes[2], half))):
        pixels = np.frombuffer(cast(Any, plane), np.uint8).reshape(-1, plane.line_size)
        thumb[n] = pixels[: rows * stride : stride, : cols * stride : stride]
    return thumb


def seek(container: av.container.InputContainer, stream: av.video.stream.VideoStream, seconds: float) -> None:
    """To the keyframe at or before `seconds`, in the stream's own time base."""
    if stream.time_base is None:
        raise ValueError("the video stream has no time base")
    container.seek(int(round(seconds / stream.time_base)), stream=stream, backward=True)


def exact_decoder(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """One single-threaded decoder, no loop filter: with no frame threads in flight, a
    change of `skip_frame` applies to the very next packet."""
    stream = container.streams.video[0]
    stream.thread_type = "SLICE"
    stream.codec_context.thread_count = 1
    stream.codec_context.options = {"skip_loop_filter": "all"}
    return stream


def scan(
    path: str, packets: PacketIndex, start: float, end: float, progress: Callable[[float], None] | None = None,
    *, workers: int | None = None,
) -> Scan:
    """Decode [start, end) in keyframe-aligned segments, decoders on every core, and stitch.

    A decoder must follow the chain of reference frames in order, so one decoder uses one
    core; segments that start at their own keyframes use them all.
    """
    cores = workers or os.cpu_count() or 1
    length = min(end, packets.duration) - start
    # Twice the threads of cores, twice the segments of threads (bench/video measured it): a
    # thread holding the GIL for its thumbnails leaves a core to another's decoder, and
    # segments of uneven cost still end together.
    count = max(1, min(4 * cores, int(length // MIN_SEGMENT_SECONDS)))
    bounds = [*packets.balanced(start, start + length, count)[:-1], end]
    done = [0.0] * (len(bounds) - 1)

    def reporter(segment: int) -> Callable[[float], None]:
        def report(moment: float) -> None:
            done[segment] = max(0.0, moment - bounds[segment])
            if progress is not None and length > 0:
                progress(min(1.0, sum(done) / length))
        return report

    jobs = [(bounds[n], bounds[n + 1], reporter(n)) for n in range(len(bounds) - 1)]
    if len(jobs) == 1:
        parts = [_scan_segment(path, packets, *jobs[0])]
    else:
        # The costliest segments first: the last to start are the cheapest, so the decoders end together.
        order = sorted(range(len(jobs)), key=lambda n: -packets.cost(bounds[n], bounds[n + 1]))
        with ThreadPoolExecutor(min(2 * cores, len(jobs))) as pool:  # PyAV decodes without the GIL
            done_in_order = list(pool.map(lambda n: _scan_segment(path, packets, *jobs[n]), order))
        parts = [part for _, part in sorted(zip(order, done_in_order, strict=True), key=lambda pair: pair[0])]
    result = Scan()
    for part in parts:
        if part.samples and result.layouts:  # the seam: the first sample against the last one before it
            first = part.samples[0]
            first.score = layout_delta(result.layouts[-1], part.layouts[0])
            first.colour = histogram_delta(result.histograms[-1], part.histograms[0])
        result.samples += part.samples
        result.layouts += part.layouts
        result.histograms += part.histograms
        result.stills += part.stills
    if not result.samples:
        raise bad_video("corrupt_video", "no frame of the video could be decoded")
    return result


def _scan_segment(path: str, packets: PacketIndex, start: float, end: float, progress: Callable[[float], None]) -> Scan:
    segment = _Segment(start, end, progress, packets.surprise)
    with av.open(path, metadata_errors="ignore") as container:
        stream = exact_decoder(container)
        segment.base = stream.time_base
        if start > 0:
            seek(container, stream, start)
        try:
            segment.decode(container, stream, packets)
        except av.error.InvalidDataError as error:
            if not segment.part.samples and start == 0:
                raise bad_video("corrupt_video", f"the video stream cannot be decoded: {error}") from None
            # A truncated tail: keep what decoded, as players do.
    segment.part.stills = segment.keeper.close()
    return segment.part


class _Segment:
    """One decoder's share: its samples, and the stills it keeps."""

    def __init__(self, start: float, end: float, progress: Callable[[float], None], surprise: dict[int, float]) -> None:
        self.start, self.end, self.progress, self.surprise = start, end, progress, surprise
        self.part = Scan()
        self.keeper = StillKeeper()
        self.base: Fraction | None = None

    def decode(self, container: av.container.InputContainer, stream: av.video.stream.VideoStream, packets: PacketIndex) -> None:
        context = stream.codec_context
        skipping = True
        context.skip_frame = "NONREF"
        for packet in container.demux(stream):
            if packet.pts is not None and self.base is not None and packet.is_keyframe and packet.pts * self.base >= self.end - 1e-6:
                break  # the next segment's keyframe
            full = packet.pts in packets.full
            if full == skipping:
                skipping = not full
                context.skip_frame = "NONREF" if skipping else "DEFAULT"
            for frame in stream.decode(packet):
                self.take(frame)
        else:
            return  # the demuxer's last, empty packet flushed the decoder
        for frame in stream.decode(None):
            self.take(frame)

    def take(self, frame: av.VideoFrame) -> None:
        if frame.pts is None or self.base is None:
            return
        moment = float(frame.pts * self.base)  # flushed frames come without a time base of their own
        if moment < self.start - 1e-6 or moment >= self.end - 1e-6:
            return
        part = self.part
        thumb = thumbnail(frame)
        layout, colours, sharp = pooled(thumb), histogram(thumb), detail(thumb[0])
        score = colour = 0.0
        if part.layouts:
            score, colour = layout_delta(part.layouts[-1], layout), histogram_delta(part.histograms[-1], colours)
        sample = Sample(moment, int(frame.pict_type) == 1, score, colour, float(thumb[0].mean()), sharp, self.surprise.get(frame.pts, 0.0))
        recent = part.samples[-RECENT:] if len(part.samples) > RECENT else []
        # A possible cut ends the keyframe bucket (with history this short: any big change).
        self.keeper.offer(moment, sharp, frame, break_here=not part.samples or is_candidate(sample, recent))
        part.samples.append(sample)
        part.layouts.append(layout)
        part.histograms.append(colours)
        self.progress(moment)
