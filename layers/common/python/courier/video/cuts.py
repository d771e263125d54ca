"""Hard cuts from a scan: big changes of layout or colours that are not motion and not a flash.

Two signals, because each fails somewhere: the layout of pooled blocks changes at a cut
but also under fast motion; the colour histogram barely moves under motion, even in
chaotic textures that change every pixel every frame, but can stay put across a cut
between two similar scenes. A cut is a layout change far above the recent ones, or a
colour change no motion makes.
"""

from __future__ import annotations

import statistics

import av

from courier.video.images import layout_delta, pooled
from courier.video.scan import Scan, fast_decoder, seek, thumbnail

#: A layout change at least this large (0-255 scale) may be a cut...
MIN_SCORE = 15.0
#: ... if it also stands this many times above the recent changes (motion, noise).
RELATIVE = 2.5
RECENT = 12
#: A colour change this large (0-6 scale) with a real layout change is a cut whatever the motion.
COLOUR_CUT = 1.8
COLOUR_MIN_SCORE = 8.0
#: Shots shorter than this are merged into the previous one (PySceneDetect's default is 0.5 s).
MIN_SHOT_SECONDS = 0.4
#: A change and its reversal within this time, around frames that match: a flash.
FLASH_SECONDS = 0.35
FLASH_MATCH = 0.5


def detect(result: Scan) -> list[int]:
    """Indexes of samples that start a new shot."""
    samples = result.samples
    candidates: list[int] = []
    for i in range(1, len(samples)):
        sample = samples[i]
        recent = [s.score for s in samples[max(1, i - RECENT):i]]
        floor = statistics.median(recent) if recent else 0.0
        by_layout = sample.score >= MIN_SCORE and sample.score >= RELATIVE * max(floor, 1.0)
        by_colour = sample.colour >= COLOUR_CUT and sample.score >= COLOUR_MIN_SCORE
        if by_layout or by_colour:
            candidates.append(i)
    cuts: list[int] = []
    skip = set()
    for n, i in enumerate(candidates):
        if i in skip:
            continue
        flash_end = _flash_end(result, i, candidates[n + 1:])
        if flash_end is not None:
            skip.add(flash_end)
            continue
        if cuts and samples[i].time - samples[cuts[-1]].time < MIN_SHOT_SECONDS:
            continue
        if not cuts and samples[i].time - samples[0].time < MIN_SHOT_SECONDS:
            continue
        cuts.append(i)
    return cuts


def _flash_end(result: Scan, start: int, later: list[int]) -> int | None:
    """The candidate that ends a flash begun at `start`: after it, the picture is the one before."""
    samples = result.samples
    for j in later:
        if samples[j].time - samples[start].time > FLASH_SECONDS:
            return None
        if layout_delta(result.layouts[start - 1], result.layouts[j]) < FLASH_MATCH * samples[start].score:
            return j
    return None


def refine(path: str, result: Scan, index: int, fps: float) -> float:
    """The exact first frame of the shot starting at sample `index`.

    Skipped frames between the last sample before and this one may already show the new
    shot; an I-frame at the cut (what encoders place there) needs no look. Otherwise the
    short window is decoded in full, from its keyframe.
    """
    samples = result.samples
    here, before = samples[index], samples[index - 1]
    if here.key or here.time - before.time <= 1.5 / max(fps, 1.0):
        return here.time
    with av.open(path) as container:
        # Every frame from the keyframe: switching skipping off at the window is not exact
        # under frame threading (frames already in flight keep the old setting).
        stream = fast_decoder(container, skip_nonref=False)
        seek(container, stream, before.time)
        old, new = result.layouts[index - 1], result.layouts[index]
        for frame in container.decode(stream):
            if frame.time is None or frame.time <= before.time + 1e-6:
                continue
            if frame.time >= here.time - 1e-6:
                break
            layout = pooled(thumbnail(frame))
            if layout_delta(layout, new) < layout_delta(layout, old):
                return float(frame.time)  # the first skipped frame that already looks like the new shot
    return here.time


def refine_all(path: str, result: Scan, indexes: list[int], fps: float) -> list[float]:
    """`refine` for every cut, on all cores (each opens its own decoder)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    if len(indexes) < 2:
        return [refine(path, result, i, fps) for i in indexes]
    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda i: refine(path, result, i, fps), indexes))
