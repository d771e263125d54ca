"""What web.digest and web.page return (courier.jobs.outputs)."""

from __future__ import annotations

from typing import Any

from courier.jobs import JobOutput


class WebPageResult(JobOutput):
    url: str
    title: str | None
    text: str
    chars: int
    truncated: bool
    bytes: int
    fetched_at: str


class Source(JobOutput):
    n: int
    url: str
    title: str | None = None


class PagesRead(JobOutput):
    read: int
    #: The pages that could not be read: each one's URL and error.
    failed: list[dict[str, Any]]


class WebDigestResult(JobOutput):
    #: Each with the numbers (`sources`) of the pages it is drawn from.
    topics: list[dict[str, Any]]
    trends: list[dict[str, Any]]
    sources: list[Source]
    pages: PagesRead
    model: dict[str, Any]
