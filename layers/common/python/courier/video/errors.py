"""Why a video cannot be analyzed: each a non-retryable error with its own code."""

from __future__ import annotations

from courier.errors import InvalidInput


def bad_video(code: str, message: str) -> InvalidInput:
    """codes: not_a_video, corrupt_video, no_video_stream, video_too_long, video_too_large, unsupported_codec."""
    return InvalidInput(message, code=code)
