"""What video.analyze and video.part accept."""

from __future__ import annotations

import math
from typing import Self

from pydantic import Field, model_validator

from courier.jobs.inputs import JobInput


class VideoOptions(JobInput):
    max_keyframes: int | None = Field(default=None, ge=1, le=200, alias="maxKeyframes")
    sample_every_seconds: float | None = Field(default=None, gt=0, le=600, alias="sampleEverySeconds")
    analyze: bool | None = None
    #: Longer videos are analysed in parts of about this length, side by side (video.part
    #: children), and merged; default courier.video.parts.DEFAULT_FAN_OUT_SECONDS.
    fan_out_seconds: float | None = Field(default=None, ge=30, le=3 * 60 * 60, alias="fanOutSeconds")


class VideoAnalyzeInput(JobInput):
    video_key: str | None = Field(default=None, alias="videoKey", max_length=1024)
    video_url: str | None = Field(default=None, alias="videoUrl", max_length=4096)
    options: VideoOptions = Field(default_factory=VideoOptions)

    def children_bound(self) -> int:
        # A video of at most 3 hours, in parts of fanOutSeconds, at most 100 of them (video.parts).
        return min(100, math.ceil(3 * 60 * 60 / (self.options.fan_out_seconds or 300.0)))

    @model_validator(mode="after")
    def one_source(self) -> Self:
        if (self.video_key is None) == (self.video_url is None):
            raise ValueError("give exactly one of videoKey or videoUrl")
        if self.video_url is not None and not self.video_url.startswith("https://"):
            raise ValueError("videoUrl must be https")
        return self


class VideoPartInput(JobInput):
    """video.part: one keyframe-aligned time range of a long video; video.analyze starts
    these as its children and merges what they find."""

    video_key: str = Field(alias="videoKey", max_length=1024)
    index: int = Field(ge=0, le=1000)
    start: float = Field(ge=0)
    #: The next part's start; None for the last part.
    end: float | None = Field(default=None, gt=0)
    options: VideoOptions = Field(default_factory=VideoOptions)

    @model_validator(mode="after")
    def ordered(self) -> Self:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self
