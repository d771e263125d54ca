"""How a long video is cut into parts and segments, which part speaks for which moment,
and which I-frames the encoder put on a grid."""

from __future__ import annotations

import math

from courier.video.cuts import on_grid
from courier.video.packets import PacketIndex
from courier.video.parts import OVERLAP_SECONDS, Part, plan
from courier.video.samples import Sample


def index(keyframes: list[float], duration: float) -> PacketIndex:
    return PacketIndex(keyframes=keyframes, duration=duration)


def test_parts_start_on_keyframes_and_cover_the_video_once() -> None:
    packets = index([0.0, 8.3, 16.6, 21.0, 33.2, 41.5, 49.8, 58.1], 60.0)
    parts = plan(packets, 60.0, 20.0)
    assert [p.start for p in parts] == [0.0, 16.6, 33.2]  # the keyframe at or before 20 and 40
    assert [p.end for p in parts] == [16.6, 33.2, math.inf]
    assert plan(packets, 60.0, 60.0) == [Part(0, 0.0, math.inf)]


def test_keyframes_too_close_make_fewer_parts_not_slivers() -> None:
    packets = index([0.0, 1.0, 2.0, 30.0], 40.0)
    assert [p.start for p in plan(packets, 40.0, 10.0)] == [0.0, 30.0]  # 1.0 and 2.0 would be slivers


def test_every_moment_belongs_to_exactly_one_part() -> None:
    parts = plan(index([0.0, 10.0, 20.0, 30.0], 40.0), 40.0, 10.0)
    for step in range(0, 4000):
        moment = step / 100
        assert sum(p.owns(moment) for p in parts) == 1, moment
    assert parts[1].owns(10.0 + OVERLAP_SECONDS / 2) and parts[0].owns(10.0 + OVERLAP_SECONDS / 2 - 0.01)
    assert parts[0].decode_until == 10.0 + OVERLAP_SECONDS  # reaches across the boundary


def test_decoders_share_the_work_not_the_time() -> None:
    """A costly first second (a big keyframe, say) is a segment of its own; the cheap
    seconds after it are the other: each decoder gets half the bytes, not half the time."""
    packets = PacketIndex(keyframes=[float(k) for k in range(8)], duration=8.0, costs=[10.0, 1, 1, 1, 1, 1, 1, 1])
    assert packets.balanced(0.0, 8.0, 2) == [0.0, 1.0, 8.0]
    assert packets.split(0.0, 8.0, 2) == [0.0, 4.0, 8.0]
    assert packets.cost(1.0, 8.0) == 7.0
    even = PacketIndex(keyframes=[float(k) for k in range(8)], duration=8.0, costs=[1.0] * 8)
    assert even.balanced(0.0, 8.0, 4) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert PacketIndex(keyframes=[0.0], duration=8.0).balanced(0.0, 8.0, 4) == [0.0, 8.0]  # one keyframe: one segment


def test_i_frames_on_a_fixed_grid_lose_their_say_and_placed_ones_keep_it() -> None:
    """A fixed GOP's I-frames are large whatever they show; an encoder that puts I-frames
    where scenes change has no grid (and a stretch too short to tell is taken as placed)."""
    def samples(keys: list[float]) -> list[Sample]:
        times = sorted({round(n / 30, 3) for n in range(int(keys[-1] * 30) + 30)} | set(keys))
        return [Sample(t, t in keys, 1.0, 0.01, 120.0, 1.0) for t in times]

    fixed = samples([0.0, 2.0, 4.0, 6.0, 8.0, 9.3])
    assert {fixed[i].time for i in on_grid(fixed)} == {2.0, 4.0, 6.0, 8.0}  # 9.3: placed by the encoder
    assert on_grid(samples([0.0, 0.6, 2.0, 2.5, 4.7, 5.6])) == set()
    assert on_grid(samples([0.0, 2.0, 4.0])) == set()
