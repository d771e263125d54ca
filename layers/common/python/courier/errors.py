"""Errors that know how they end: an HTTP status, a stable code, and whether to retry.

Every HTTP error Courier returns is `{"error": {"code", "message"}}`; every worker
failure is retryable or not. One exception type carries both, so a failure deep in a
job maps to the same outcome on the API, on QStash and on SQS.
"""

from __future__ import annotations

import math
from typing import Any

#: The longest wait Courier ever asks for or honours: SQS's visibility ceiling (12 hours).
MAX_RETRY_AFTER_SECONDS = 43200.0


def finite_delay(seconds: float | None) -> float | None:
    """A wait as Courier uses it: finite, 0 to 12 hours; None for what is not a wait
    (an upstream's `Retry-After: inf`, NaN), so no caller ever rounds an infinity."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER_SECONDS, max(0.0, seconds))


#: What QStash takes as "never retry this" (with `Upstash-NonRetryable-Error: true`): the
#: message goes to its DLQ at once.
NON_RETRYABLE_STATUS = 489


class CourierError(Exception):
    status: int = 500
    code: str = "internal_error"
    retryable: bool = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retryable is not None:
            self.retryable = retryable
        #: Seconds the caller should wait before trying again, when known.
        self.retry_after = finite_delay(retry_after)

    def retry_after_header(self) -> dict[str, str]:
        """The Retry-After header of this error's answer (none when the wait is unknown)."""
        return {"Retry-After": str(max(1, round(self.retry_after)))} if self.retry_after else {}

    def to_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class InvalidInput(CourierError):
    """The caller sent something that can never succeed as it is."""

    status = 422
    code = "invalid_input"
    retryable = False


class Unauthorized(CourierError):
    status = 401
    code = "unauthorized"
    retryable = False


class NotFound(CourierError):
    status = 404
    code = "not_found"
    retryable = False


class Unavailable(CourierError):
    """A dependency we need (a queue, a store, an upstream) cannot be reached now."""

    status = 503
    code = "unavailable"
    retryable = True


class Misconfigured(CourierError):
    """Our deployment lacks something it needs. A job that meets it fails at once, not
    after half an hour of redeliveries that cannot help; its message says what to set, and
    `POST /v1/jobs/{id}/retry` runs it again once an operator has."""

    status = 500
    code = "misconfigured"
    retryable = False


class Conflict(CourierError):
    """The request is valid but the resource is not in a state that allows it."""

    status = 409
    code = "conflict"
    retryable = False


class NonRetryable(CourierError):
    """Raise from a job when trying again cannot help (the input, not the moment, is wrong):
    the job fails now, QStash gets 489 and SQS drops the message."""

    status = 422
    code = "non_retryable"
    retryable = False


class RetryAfter(CourierError):
    """Raise from a job to be delivered again after `seconds` (an upstream's rate limit):
    QStash is told Retry-After, SQS hides the record that long."""

    status = 503
    code = "retry_after"
    retryable = True

    def __init__(self, seconds: float, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message or f"try again in {seconds:g} s", code=code, retry_after=seconds)


#: Pydantic's prefixes of a validator's own message: the message is the reader's, the prefix noise.
_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")


def problems(errors: Any, *, root: str = "input", skip: tuple[str, ...] = (), limit: int = 5) -> str:
    """Pydantic's findings (`ValidationError.errors()`) as one line a caller can act on: each
    field's path and what is wrong with it, a validator's own words without pydantic's prefix,
    and for text that is not JSON, the parser's reason and where it stopped."""
    parts = []
    for item in list(errors)[:limit]:
        path = [p for p in item.get("loc", ()) if p not in skip]
        if item.get("type") == "json_invalid":
            at = f" at character {path[0]}" if path and isinstance(path[0], int) else ""
            parts.append(f"{root} is not valid JSON ({(item.get('ctx') or {}).get('error', 'invalid JSON')}{at})")
            continue
        message = str(item.get("msg", "invalid"))
        for prefix in _MESSAGE_PREFIXES:
            message = message.removeprefix(prefix)
        parts.append(f"{'.'.join(str(p) for p in path) or root}: {message}")
    return "; ".join(parts)

