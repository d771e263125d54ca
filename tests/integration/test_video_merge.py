"""A long video's parts merged field by field, as the continuation does, without a stack:
the merge gives the single run's result, and a field added to the result is merged by
the rule declared beside it, with no change to the merge."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from courier.video.packets import index
from courier.video.parts import Part, plan
from courier.video.pipeline import Options, analyze
from courier.video.result import VideoResult, merge, merged_by, owned
from devstack.sample_video import render


@pytest.fixture(scope="module")
def parted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Part], list[dict[str, Any]]]:
    """40 s of 1-4 s shots, keyframes on cuts: the single run, and four parts' results."""
    path = tmp_path_factory.mktemp("merge") / "long.mp4"
    render(path, [2.5, 1.2, 4.0, 1.8, 3.2, 1.0, 2.2, 3.8, 1.5, 2.8] * 2, width=160, height=288, keyframes_at_cuts=True)
    single = analyze(str(path), Options(), lambda name, data: name).to_dict()
    parts = plan(index(str(path)), single["video"]["duration"], 10.0)
    assert len(parts) >= 3
    results = [
        analyze(str(path), Options(), lambda name, data: name, span=(part.start, part.decode_until)).to_dict()
        for part in parts
    ]
    return single, parts, results


def test_the_parts_merge_to_the_single_run(parted: tuple[dict[str, Any], list[Part], list[dict[str, Any]]]) -> None:
    single, parts, results = parted
    merged = merge(VideoResult, parts, results, max_keyframes=Options().max_keyframes).to_dict()
    assert set(merged) == set(single)
    assert [c["time"] for c in merged["cuts"]] == [c["time"] for c in single["cuts"]]
    assert merged["shots"] == single["shots"] and merged["metrics"] == single["metrics"]
    assert merged["video"] == single["video"] and merged["fades"] == single["fades"]
    # Each shot's representative may come from either part a shot crosses; the shots are the same.
    assert len(merged["keyframes"]) == len(single["keyframes"])
    representing = sorted(k["shot"] for k in merged["keyframes"] if k["reason"] == "shot")
    assert representing == sorted(k["shot"] for k in single["keyframes"] if k["reason"] == "shot")
    shots = merged["shots"]
    assert all(shots[k["shot"]]["start"] <= k["time"] < shots[k["shot"]]["end"] for k in merged["keyframes"])
    assert merged["processing"]["framesDecoded"] == sum(r["processing"]["framesDecoded"] for r in results)


def test_a_new_field_is_merged_by_its_declared_rule(parted: tuple[dict[str, Any], list[Part], list[dict[str, Any]]]) -> None:
    """A step that reports one reading per half second: each part reads its decoded range,
    overlaps included; the merge keeps each moment once, from the part that owns it."""
    single, parts, results = parted

    @dataclasses.dataclass(frozen=True)
    class WithLoudness(VideoResult):
        loudness: list[dict[str, Any]] = merged_by(owned("time"))

    duration = single["video"]["duration"]
    readings = [
        {**result, "loudness": [{"time": t / 2, "db": -20 + t % 7} for t in range(int(part.start * 2), int(min(part.decode_until, duration) * 2))]}
        for part, result in zip(parts, results, strict=True)
    ]
    assert sum(len(r["loudness"]) for r in readings) > int(duration * 2)  # the overlaps read some moments twice
    merged = merge(WithLoudness, parts, readings, max_keyframes=24)
    assert isinstance(merged, WithLoudness)
    assert [r["time"] for r in merged.loudness] == [t / 2 for t in range(int(duration * 2))]
    assert merged.to_dict()["loudness"] == merged.loudness

    @dataclasses.dataclass(frozen=True)
    class Forgotten(VideoResult):
        loudness: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match=r"Forgotten.loudness declares no merge rule"):
        merge(Forgotten, parts, readings, max_keyframes=24)
