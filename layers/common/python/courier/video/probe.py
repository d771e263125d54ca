"""What a video file is: duration, frame rate, size, rotation, codec, audio."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import av

from courier.video.errors import bad_video

#: Codecs a social video comes in; others are refused rather than half-decoded.
SUPPORTED_CODECS = {"h264", "hevc", "vp9", "vp8", "av1", "mpeg4", "prores"}
#: Longer videos are analysed in parts (`fanOutSeconds`), each well inside a worker's timeout.
MAX_DURATION_SECONDS = 3 * 60 * 60
#: The largest picture analysed: 8K on its long side, and no more pixels than 8K UHD, so one
#: frame's planes and the decoders' buffers stay well inside the worker's memory.
MAX_SIDE = 8192
MAX_PIXELS = 7680 * 4320


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    fps: float
    width: int
    height: int
    rotation: int
    codec: str
    has_audio: bool
    frames: int | None

    def to_dict(self) -> dict[str, Any]:
        """The result's `video`, camelCase as every other field of the API."""
        shown = asdict(self)
        shown["hasAudio"] = shown.pop("has_audio")
        return shown

    @classmethod
    def from_dict(cls, shown: dict[str, Any]) -> VideoInfo:
        """A part's `video` read back (the merge)."""
        fields = {k: v for k, v in shown.items() if k != "hasAudio"}
        return cls(**fields, has_audio=bool(shown["hasAudio"]))


def open_video(path: str) -> av.container.InputContainer:
    try:
        return av.open(path, mode="r", metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise bad_video("not_a_video", "the file is not a video container FFmpeg can read") from None
    except av.error.FFmpegError as error:
        raise bad_video("corrupt_video", f"the video cannot be opened: {error}") from None


def probe(container: av.container.InputContainer) -> VideoInfo:
    if not container.streams.video:
        raise bad_video("no_video_stream", "the file has no video stream")
    stream = container.streams.video[0]
    codec = stream.codec_context.name
    if codec not in SUPPORTED_CODECS:
        raise bad_video("unsupported_codec", f"video codec {codec!r} is not supported (use H.264, HEVC, VP9 or AV1)")
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    else:
        raise bad_video("corrupt_video", "the video has no duration")
    if duration > MAX_DURATION_SECONDS:
        raise bad_video("video_too_long", f"videos up to {MAX_DURATION_SECONDS // 60} minutes are analyzed; this one is {duration / 60:.1f}")
    width, height = stream.codec_context.width, stream.codec_context.height
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise bad_video("video_too_large", f"videos up to 8K ({MAX_SIDE} px a side, {MAX_PIXELS} pixels) are analyzed; "
                                           f"this one is {width}x{height}")
    rate = stream.average_rate or stream.guessed_rate or 30
    return VideoInfo(
        duration=round(duration, 3),
        fps=round(float(rate), 3),
        width=width,
        height=height,
        rotation=_rotation(stream),
        codec=codec,
        has_audio=bool(container.streams.audio),
        frames=stream.frames or None,
    )


def _rotation(stream: Any) -> int:
    """Display rotation in degrees (phones record portrait video as rotated landscape)."""
    rotate = (stream.metadata or {}).get("rotate")
    if rotate:
        return int(rotate) % 360
    for side in getattr(stream, "side_data", {}) or {}:
        if "display" in str(side).lower():
            try:
                return int(round(stream.side_data[side])) % 360
            except (TypeError, ValueError):
                return 0
    return 0
