"""What `video.analyze` and `video.part` return, as clients read it (courier.jobs.outputs)."""

from __future__ import annotations

from typing import Any, Literal

from courier.jobs.outputs import JobOutput


class VideoInfo(JobOutput):
    duration: float
    fps: float
    width: int
    height: int
    rotation: int
    codec: str
    frames: int
    has_audio: bool


class Cut(JobOutput):
    #: Seconds from the start: the first frame of the new shot.
    time: float
    frame: int


class Fade(JobOutput):
    kind: str
    start: float
    end: float


class Shot(JobOutput):
    start: float
    end: float
    length: float


class FrameMetrics(JobOutput):
    brightness: float
    contrast: float
    sharpness: float
    colorfulness: float
    motion: float


class Keyframe(JobOutput):
    time: float
    shot: int
    #: Why this frame was kept (the start of a shot, a sample within a long one).
    reason: str
    #: The JPEG's S3 key; the job's view lists a presigned URL for each.
    image: str
    metrics: FrameMetrics


class ShotLengths(JobOutput):
    mean: float
    median: float
    min: float
    max: float


class VideoMetrics(JobOutput):
    duration: float
    shots: int
    cuts_per_minute: float
    first_cut: float | None
    shot_length: ShotLengths
    #: 0-1: how much happens in the first seconds (cuts, motion, contrast).
    hook_score: float


class Analysis(JobOutput):
    """The multimodal analysis: skipped (and why), or the keyframes' captions and a summary."""

    status: Literal["skipped", "done", "partial", "failed"]
    reason: str | None = None
    captions: list[dict[str, Any]] | None = None
    summary: dict[str, Any] | None = None
    cost_usd: float | None = None


class VideoAnalyzeResult(JobOutput):
    video: VideoInfo
    cuts: list[Cut]
    fades: list[Fade]
    shots: list[Shot]
    keyframes: list[Keyframe]
    metrics: VideoMetrics
    analysis: Analysis
    processing: dict[str, Any]
    #: Where the video came from: its upload key or its URL.
    source: dict[str, Any] | None = None


class PartSpan(JobOutput):
    index: int
    start: float
    end: float | None


class VideoPartResult(VideoAnalyzeResult):
    part: PartSpan
