"""The video's packets, read without decoding: where the keyframes are, and which frames
are worth decoding in full.

Demuxing costs next to nothing (a 30 s 1080x1920 clip in under 0.03 s), and the sizes
say where the picture changes: the first reference frame of a new shot cannot be
predicted from the last shot, so the encoder spends many times its neighbours' bytes on
it. The scan decodes reference frames only, except after such a frame, where it decodes
the skipped ones too: they are the frames that may already show the new shot, so the
cut lands on its exact frame without a second decoding pass.

The same sizes catch the cuts pictures hide: between two shots of fine, moving texture
(noise, foliage, crowds) a thumbnail changes as much inside a shot as across the cut,
but the encoder, which predicts each frame from the last, must start afresh at the cut:
its frame is tens or hundreds of times the recent ones (`surprise`), where a texture's motion costs
a few bytes. The cut detector takes such a frame with a colour change far above the
recent ones as a cut.

The index covers the whole file and every decision rests on it alone, so a part of a
fanned-out video decodes exactly the frames the whole run decodes in that range.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from dataclasses import dataclass, field
from fractions import Fraction

import av

#: An anchor (an I- or P-frame: one shown after every frame decoded before it) this many
#: times the median of the recent anchors' sizes opens a window of full decoding.
BIG = 1.25
RECENT_ANCHORS = 6
#: Anchors at least this many times their recent neighbours' median size are kept in
#: `PacketIndex.surprise` (the cut detector's packet evidence): the encoder predicted next
#: to nothing of them. Cuts between textures measure 70-650 here; the frames just after a
#: cut, and refreshes inside a shot of small video, 5-30.
SURPRISE = 40.0
#: A decoded frame costs about one byte of its packet per this many pixels, whatever its
#: size (measured: a 720x1280 frame's motion compensation and filters ~ 60 KB of CABAC).
FRAME_COST_PIXELS_PER_BYTE = 16


@dataclass
class PacketIndex:
    #: Presentation times of keyframes (seconds, ascending): where a decoder can start.
    keyframes: list[float] = field(default_factory=list)
    #: Presentation timestamps of packets to decode even if nothing references them.
    full: set[int] = field(default_factory=set)
    #: Presentation timestamp → size over the recent anchors' median, for the anchors at
    #: least SURPRISE times it (where the encoder could not predict the picture) and the
    #: frames shown just before them, which are predicted from them.
    surprise: dict[int, float] = field(default_factory=dict)
    packets: int = 0
    #: The last frame's end (seconds): what the packets cover, whatever the header says.
    duration: float = 0.0
    #: What decoding each keyframe's group of pictures costs (bytes of the packets the scan
    #: decodes, plus a share of the picture's size per frame), aligned with `keyframes`.
    costs: list[float] = field(default_factory=list)

    def keyframe_at_or_before(self, seconds: float) -> float:
        at = bisect_right(self.keyframes, seconds + 1e-6)
        return self.keyframes[at - 1] if at else 0.0

    def split(self, start: float, end: float, parts: int) -> list[float]:
        """Up to `parts` + 1 keyframe-aligned bounds from `start` to `end`, as even as the
        keyframes allow (a part never starts where no decoder could)."""
        bounds = [start]
        for n in range(1, parts):
            at = self.keyframe_at_or_before(start + (end - start) * n / parts)
            if at > bounds[-1] + 1e-6:
                bounds.append(at)
        return [*bounds, end]

    def cost(self, start: float, end: float) -> float:
        """What decoding [start, end) costs, in the units of `costs`."""
        return sum(c for k, c in zip(self.keyframes, self.costs, strict=False) if start - 1e-6 <= k < end - 1e-6)

    def balanced(self, start: float, end: float, parts: int) -> list[float]:
        """Up to `parts` + 1 keyframe-aligned bounds from `start` to `end` that share the
        decoding cost evenly (keyframes come where the encoder put them: evenly in time is
        unevenly in work), for decoders side by side."""
        inside = [(k, c) for k, c in zip(self.keyframes, self.costs, strict=False) if start + 1e-6 < k < end - 1e-6]
        total = self.cost(start, end)
        if not inside or total <= 0:
            return self.split(start, end, parts)
        bounds, done, share = [start], total - sum(c for _, c in inside), total / parts
        for moment, cost in inside:
            if len(bounds) < parts and done + cost / 2 >= share * len(bounds):
                bounds.append(moment)
            done += cost
        return [*bounds, end]


def index(path: str) -> PacketIndex:
    with av.open(path, metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        reader = _Reader(stream.time_base or Fraction(1, 90000), stream.codec_context.width * stream.codec_context.height)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size:
                reader.add(packet.pts, packet.size, packet.is_keyframe, packet.duration or 0)
    return reader.finish()


class _Reader:
    """The index, one packet at a time, in decoding order."""

    def __init__(self, base: Fraction, pixels: int) -> None:
        self.result = PacketIndex()
        self.base, self.frame_cost = base, pixels / FRAME_COST_PIXELS_PER_BYTE
        self.anchors: list[int] = []  # the sizes of the anchors so far
        self.newest: int | None = None  # the latest anchor's timestamp
        self.window_until: int | None = None  # packets shown before this anchor are decoded in full
        self.surprise = 0.0  # the latest anchor's
        self.gop_cost = 0.0  # of the packets before the first keyframe: added to it

    def add(self, pts: int, size: int, keyframe: bool, duration: int) -> None:
        result = self.result
        result.packets += 1
        result.duration = max(result.duration, float((pts + duration) * self.base))
        if keyframe:
            if result.keyframes:
                result.costs.append(self.gop_cost)
                self.gop_cost = 0.0
            result.keyframes.append(float(pts * self.base))
        if self.newest is None or pts > self.newest:
            self.anchor(pts, size, keyframe)
        elif self.window_until is not None and pts < self.window_until:
            self.gop_cost += size + self.frame_cost
            result.full.add(pts)
            if self.surprise:  # a frame shown before a surprising anchor may be the new picture's first
                result.surprise[pts] = self.surprise

    def anchor(self, pts: int, size: int, keyframe: bool) -> None:
        """An I- or P-frame: shown after every frame decoded before it."""
        self.newest = pts
        self.gop_cost += size + self.frame_cost
        recent = self.anchors[-RECENT_ANCHORS:]
        ratio = size / max(statistics.median(recent), 1) if len(recent) >= RECENT_ANCHORS // 2 else 0.0
        self.surprise = ratio if ratio >= SURPRISE else 0.0
        if self.surprise:
            self.result.surprise[pts] = self.surprise
        self.window_until = pts if keyframe or ratio >= BIG else None
        if not keyframe:
            self.anchors.append(size)

    def finish(self) -> PacketIndex:
        result = self.result
        result.costs.append(self.gop_cost)
        if result.keyframes != sorted(result.keyframes):  # an odd file: costs no longer line up, and even times do
            result.keyframes.sort()
            result.costs = []
        return result
