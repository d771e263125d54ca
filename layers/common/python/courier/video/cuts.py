"""Hard cuts from a scan: big changes of layout or colours that are not motion and not a flash.

Three signals, because each fails somewhere: the layout of pooled blocks changes at a cut
but also under fast motion; the colour histogram barely moves under motion, even in
chaotic textures that change every pixel every frame, but can stay put across a cut
between two similar scenes. A cut is a layout change far above the recent ones, or a
colour change no motion makes (large, or far above the recent ones). Between two fine textures (noise, foliage) the layout
changes as much inside a shot as across the cut and the colours only a little: there the
encoder's own surprise decides (`packets.py`), a frame many times its neighbours' size
whose colours change far more than the recent frames' did; unless it is an I-frame the
encoder puts every so often whatever the picture (`on_grid`).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from courier.video.images import layout_delta

if TYPE_CHECKING:
    from courier.video.samples import Sample, Scan

#: A layout change at least this large (0-255 scale) may be a cut...
MIN_SCORE = 15.0
#: ... if it also stands this many times above the recent changes (motion, noise).
RELATIVE = 2.5
RECENT = 12
#: A colour change this large (0-6 scale) with a real layout change is a cut whatever the motion...
COLOUR_CUT = 1.8
COLOUR_MIN_SCORE = 8.0
#: ... and so is one this many times the recent ones' and at least COLOUR_STEP_MIN (two
#: look-alike scenes: a smaller change, but a step no motion makes).
COLOUR_STEP = 10.0
COLOUR_STEP_MIN = 0.5
#: Shots shorter than this are merged into the previous one (PySceneDetect's default is 0.5 s).
MIN_SHOT_SECONDS = 0.4
#: A change and its reversal within this time, around frames that match: a flash.
FLASH_SECONDS = 0.35
FLASH_MATCH = 0.5
#: With the encoder's surprise (`PacketIndex.surprise`), a colour change this many times
#: the recent ones', and at least COLOUR_JUMP_MIN, is a cut.
COLOUR_JUMP = 5.0
COLOUR_JUMP_MIN = 0.1
#: I-frames are on a grid when at least this share of the gaps between them (in tenths of
#: a second, at least GRID_MIN_GAPS of them) are one length.
GRID_SHARE = 0.5
GRID_RESOLUTION = 10
GRID_MIN_GAPS = 3


def is_candidate(sample: Sample, recent: Sequence[Sample], *, surprise_counts: bool = True) -> bool:
    """A change that may start a new shot, before flashes and short shots are ruled out.
    With no `recent` samples, any big change is one (the scan's cautious early guess).
    `surprise_counts` is False for an I-frame on the encoder's fixed grid (`on_grid`)."""
    floor = statistics.median(s.score for s in recent) if recent else 0.0
    if sample.score >= MIN_SCORE and sample.score >= RELATIVE * max(floor, 1.0):
        return True
    colours = statistics.median(s.colour for s in recent) if recent else None
    if sample.score >= COLOUR_MIN_SCORE and (
        sample.colour >= COLOUR_CUT or (colours is not None and sample.colour >= max(COLOUR_STEP_MIN, COLOUR_STEP * colours))
    ):
        return True
    return (surprise_counts and bool(sample.surprise) and colours is not None
            and sample.colour >= max(COLOUR_JUMP_MIN, COLOUR_JUMP * colours))


def on_grid(samples: Sequence[Sample]) -> set[int]:
    """The I-frames an encoder put on a fixed keyframe grid (most gaps between I-frames the
    same length): such a frame is large whatever it shows, so its size says nothing of a
    cut. An encoder that puts I-frames where scenes change (x264's default) has no grid,
    and its I-frames' size keeps its say; so do the I-frames of too short a stretch to tell."""
    keys = [i for i, s in enumerate(samples) if s.key]
    gaps = [round((samples[b].time - samples[a].time) * GRID_RESOLUTION) for a, b in zip(keys, keys[1:], strict=False)]
    if len(gaps) < GRID_MIN_GAPS:
        return set()
    length, count = Counter(gaps).most_common(1)[0]
    if count < GRID_SHARE * len(gaps):
        return set()
    return {b for a, b in zip(keys, keys[1:], strict=False) if round((samples[b].time - samples[a].time) * GRID_RESOLUTION) == length}


def detect(result: Scan) -> list[int]:
    """Indexes of samples that start a new shot."""
    samples = result.samples
    grid = on_grid(samples)
    candidates = [
        i for i in range(1, len(samples)) if is_candidate(samples[i], samples[max(1, i - RECENT):i], surprise_counts=i not in grid)
    ]
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
            if samples[i].score > samples[cuts[-1]].score:  # two changes too close: the bigger is the cut
                cuts[-1] = i
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
