"""What web.digest and web.page accept: validated when the job is enqueued (a 422 naming
the field) and again when it runs."""

from __future__ import annotations

from pydantic import Field, field_validator

from courier.jobs import JobInput, NetworkPolicy

MAX_PAGES = 20


class WebDigestInput(JobInput):
    """web.digest: topics and trends across a list of pages, with their sources."""

    urls: list[str] = Field(min_length=1, max_length=MAX_PAGES)
    #: What to look for ("AI regulation"); without it, whatever the pages share.
    focus: str | None = Field(default=None, max_length=500)
    max_page_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=5 * 1024 * 1024, alias="maxPageBytes")
    #: Characters of each page's text the model reads.
    max_chars_per_page: int = Field(default=6000, ge=200, le=20_000, alias="maxCharsPerPage")

    def children_bound(self) -> int:
        return len(self.urls)  # a web.page child per URL

    @field_validator("urls")
    @classmethod
    def _distinct(cls, urls: list[str]) -> list[str]:
        if len(set(urls)) != len(urls):
            raise ValueError("each URL once")
        return urls

    def check(self) -> None:
        policy = NetworkPolicy.from_env()
        for url in self.urls:
            policy.check_static(url, "url")


class WebPageInput(JobInput):
    """web.page: one page's readable text (a web.digest's child; usable on its own)."""

    url: str = Field(max_length=4096)
    max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=5 * 1024 * 1024, alias="maxBytes")
    max_chars: int = Field(default=6000, ge=200, le=20_000, alias="maxChars")

    def check(self) -> None:
        NetworkPolicy.from_env().check_static(self.url, "url")
