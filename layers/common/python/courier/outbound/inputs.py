"""What http.request accepts: one request to the tenant's own app."""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from courier.jobs.inputs import REDACTED, JobInput

#: Header names whose values are credentials: never shown back (GET /v1/jobs, console, CLI, logs).
SENSITIVE_HEADER_WORDS = ("auth", "token", "secret", "password", "passwd", "cookie", "session", "signature",
                          "api-key", "apikey", "credential", "private")
#: A header name as HTTP defines it (RFC 9110 token) and a value with no control characters
#: (CR/LF would split the request) that httpx can send (ASCII).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


def sensitive_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_HEADER_WORDS)


#: Headers a caller may not set: the connection's own, and what the network policy sets.
FORBIDDEN_REQUEST_HEADERS = frozenset({
    "host", "connection", "content-length", "transfer-encoding", "te", "trailer", "upgrade", "keep-alive",
    "proxy-authorization", "proxy-connection",
})


class HttpRequestInput(JobInput):
    """http.request: one request to the tenant's own app, on a host it allowed."""

    url: str = Field(max_length=4096)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict, max_length=30)
    #: A text body, or `json` for a JSON one (sent with Content-Type: application/json).
    body: str | None = Field(default=None, max_length=256 * 1024)
    json_body: Any = Field(default=None, alias="json")
    timeout_seconds: float = Field(default=30.0, gt=0, le=900, alias="timeoutSeconds")
    #: Tries within one run for 429, 408 and 5xx answers (Retry-After honoured) before the
    #: run fails retryably and the queue delivers the job again.
    retries: int = Field(default=2, ge=0, le=5)
    #: Bytes of the response body kept in the result.
    max_response_bytes: int = Field(default=64 * 1024, ge=0, le=256 * 1024, alias="maxResponseBytes")

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give body or json, not both")
        bad = sorted(h for h in self.headers if h.lower() in FORBIDDEN_REQUEST_HEADERS or not h.strip())
        if bad:
            raise ValueError(f"these headers cannot be set: {bad}")
        malformed = sorted(h for h in self.headers if not _HEADER_NAME.fullmatch(h))
        if malformed:
            raise ValueError(f"header names are letters, digits and !#$%&'*+-.^_`|~ only: {malformed!r}")
        unsendable = sorted(h for h, v in self.headers.items() if not _HEADER_VALUE.fullmatch(v))
        if unsendable:
            raise ValueError(f"header values are printable ASCII without CR or LF: {unsendable}")
        return self

    @classmethod
    def redact(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Credentials in headers (Authorization, X-Api-Key, a cookie) are the app's secrets."""
        shown = super().redact(data)
        headers = shown.get("headers")
        if isinstance(headers, dict):
            shown["headers"] = {k: (REDACTED if sensitive_header(k) else v) for k, v in headers.items()}
        return shown

    def check(self) -> None:
        from courier.network import NetworkPolicy

        NetworkPolicy.from_env().check_static(self.url, "url")
