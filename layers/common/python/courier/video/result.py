"""A video's result as one typed record, each field with the rule that merges it.

A long video runs as parts (courier.video.parts), and the continuation merges their
results into the one a single run would give. The rule for each field is declared beside
the field, and `merge` applies every field's rule in declaration order, so a field added
here is merged for fanned-out videos without anyone touching the merge. A field without
a rule is an error the first time a merge runs (a test merges), not a silently dropped key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from courier.video.keyframes import Shot, spread
from courier.video.metrics import video_metrics
from courier.video.parts import Part
from courier.video.probe import VideoInfo

_RULE = "courier.merge"


@dataclass
class Merging:
    """What a field's rule reads: the parts in order, their results (JSON, as the parts
    stored them), and the fields merged before this one (rules run in field order)."""

    parts: Sequence[Part]
    results: Sequence[Mapping[str, Any]]
    max_keyframes: int
    merged: dict[str, Any] = field(default_factory=dict)

    def owned(self, name: str, moment: str) -> list[dict[str, Any]]:
        """Each part's `name` items that the part owns by their `moment` key, in part order."""
        return [item for part, result in zip(self.parts, self.results, strict=True) for item in result[name]
                if part.owns(item[moment])]

    @property
    def info(self) -> VideoInfo:
        return VideoInfo.from_dict(self.results[0]["video"])

    def shots(self) -> list[Shot]:
        return [Shot(s["start"], s["end"]) for s in self.merged["shots"]]


MergeRule = Callable[[Merging, str], Any]


def merged_by(rule: MergeRule) -> Any:
    """The field's merge rule (a dataclass field with no default)."""
    return field(metadata={_RULE: rule})


def first(merging: Merging, name: str) -> Any:
    """The same in every part (the video's description): the first part's."""
    return merging.results[0][name]


def owned(moment: str, *, one_per_moment: bool = False) -> MergeRule:
    """Items at a moment (cuts, fades, anything timed): each counted by the part that owns
    its `moment`, so what the overlaps saw twice is kept once."""

    def rule(merging: Merging, name: str) -> list[dict[str, Any]]:
        items = merging.owned(name, moment)
        if one_per_moment:
            items = list({item[moment]: item for item in items}.values())
        return sorted(items, key=lambda item: item[moment])

    return rule


def _shots(merging: Merging, name: str) -> list[dict[str, Any]]:
    """The whole video's shots: every owned shot start past a part's first is a boundary."""
    starts = sorted({shot["start"] for part, result in zip(merging.parts, merging.results, strict=True)
                     for shot in result[name][1:] if part.owns(shot["start"])})
    end = max(merging.info.duration, merging.results[-1][name][-1]["end"])
    edges = [0.0, *starts, end]
    return [shot_dict(Shot(edges[i], edges[i + 1])) for i in range(len(edges) - 1)]


def _keyframes(merging: Merging, name: str) -> list[dict[str, Any]]:
    """The parts' keyframes on the whole video's shots: the sharpest representative of each
    shot (a shot across a boundary had one in each part), its samples, spread as one run does."""
    owned_keyframes = merging.owned(name, "time")
    chosen: list[dict[str, Any]] = []
    extras: list[dict[str, Any]] = []
    for n, shot in enumerate(merging.shots()):
        inside = [{**k, "shot": n} for k in owned_keyframes if shot.start <= k["time"] < shot.end]
        representatives = [k for k in inside if k["reason"] == "shot"]
        if representatives:
            chosen.append(max(representatives, key=lambda k: (k["metrics"] or {}).get("sharpness", 0.0)))
        extras += [k for k in inside if k["reason"] == "sample"]
    return sorted(spread(chosen, extras, merging.max_keyframes), key=lambda k: k["time"])


def _metrics(merging: Merging, name: str) -> dict[str, Any]:
    """Recomputed on the merged shots; the hook (the first seconds) is the first part's."""
    cuts = [c["time"] for c in merging.merged["cuts"]]
    return video_metrics(merging.info, merging.shots(), cuts, hook=merging.results[0][name]["hookScore"])


def _processing(merging: Merging, name: str) -> dict[str, Any]:
    return {
        "parts": [{**part.to_dict(), **result[name]} for part, result in zip(merging.parts, merging.results, strict=True)],
        "framesDecoded": sum(result[name]["framesDecoded"] for result in merging.results),
    }


@dataclass(frozen=True)
class VideoResult:
    """What `video.analyze` returns (the job adds `source`; a part adds `part`)."""

    video: dict[str, Any] = merged_by(first)
    cuts: list[dict[str, Any]] = merged_by(owned("time", one_per_moment=True))
    fades: list[dict[str, Any]] = merged_by(owned("start"))
    shots: list[dict[str, Any]] = merged_by(_shots)
    keyframes: list[dict[str, Any]] = merged_by(_keyframes)
    metrics: dict[str, Any] = merged_by(_metrics)
    #: Parts are not described; the continuation describes the merged keyframes.
    analysis: dict[str, Any] = merged_by(first)
    processing: dict[str, Any] = merged_by(_processing)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


R = TypeVar("R", bound=VideoResult)


def merge(kind: type[R], parts: Sequence[Part], results: Sequence[Mapping[str, Any]], *, max_keyframes: int) -> R:
    """The whole video's result (a `kind`: VideoResult, or a record that extends it) from
    its parts' (in part order), field by field."""
    merging = Merging(parts, results, max_keyframes)
    for declared in fields(kind):
        rule = declared.metadata.get(_RULE)
        if rule is None:
            raise TypeError(f"{kind.__name__}.{declared.name} declares no merge rule (courier.video.result.merged_by)")
        merging.merged[declared.name] = rule(merging, declared.name)
    return kind(**merging.merged)


def shot_dict(shot: Shot) -> dict[str, Any]:
    return {"start": round(shot.start, 3), "end": round(shot.end, 3), "length": round(shot.length, 3)}
