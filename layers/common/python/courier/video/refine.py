"""The exact first frame of a cut the scan found on a reference frame with skipped
frames just before it: the few cuts the packet index did not flag (`packets.py`).

The skipped frames between the last sample before and the cut may already show the new
shot. One decoder per cut, reference frames only from the keyframe before, and every
frame inside the short window: a fraction of the scan, spent only where it is needed.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import av

from courier.video.images import layout_delta, pooled
from courier.video.samples import Scan
from courier.video.scan import exact_decoder, seek, thumbnail


def needs_refining(result: Scan, index: int, fps: float) -> bool:
    here, before = result.samples[index], result.samples[index - 1]
    return not here.key and here.time - before.time > 1.5 / max(fps, 1.0)


def refine(path: str, result: Scan, index: int) -> float:
    samples = result.samples
    here, before = samples[index], samples[index - 1]
    old, new = result.layouts[index - 1], result.layouts[index]
    with av.open(path, metadata_errors="ignore") as container:
        stream = exact_decoder(container)
        context, base = stream.codec_context, stream.time_base
        assert base is not None
        seek(container, stream, before.time)
        context.skip_frame = "NONREF"
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            moment = float(packet.pts * base)
            inside = before.time + 1e-6 < moment < here.time - 1e-6
            context.skip_frame = "DEFAULT" if inside else "NONREF"
            for frame in stream.decode(packet):
                if frame.pts is None:
                    continue
                shown = float(frame.pts * base)
                if shown >= here.time - 1e-6:
                    return here.time
                if shown > before.time + 1e-6:
                    layout = pooled(thumbnail(frame))
                    if layout_delta(layout, new) < layout_delta(layout, old):
                        return shown  # the first skipped frame that already looks like the new shot
    return here.time


def cut_times(path: str, result: Scan, indexes: list[int], fps: float) -> list[float]:
    """Each cut's exact time: refined on all cores where the scan could not see it."""
    todo = [i for i in indexes if needs_refining(result, i, fps)]
    exact: dict[int, float] = {}
    if todo:
        with ThreadPoolExecutor(min(len(todo), os.cpu_count() or 1)) as pool:
            exact = dict(zip(todo, pool.map(lambda i: refine(path, result, i), todo), strict=True))
    return [exact.get(i, result.samples[i].time) for i in indexes]
