"""What `http.request` returns: the response, bounded (courier.jobs.outputs)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from courier.jobs.outputs import JobOutput


class HttpRequestResult(JobOutput):
    status: int
    #: The response headers worth keeping (content type, length, etag...), lower-cased.
    headers: dict[str, str]
    body: str
    body_truncated: bool
    tries: int
    #: The body parsed, when the response said it is JSON; `jsonError` when it was not.
    json_body: Any = Field(default=None, alias="json")
    json_error: str | None = None
