"""What each job type accepts: validated when the job is enqueued, again when it runs.
Which type takes which model is the catalogue's (courier.jobs.catalog)."""

from __future__ import annotations

import math
import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: What a view shows in place of a secret.
REDACTED = "[redacted]"


class JobInput(BaseModel):
    # Built on first use: a worker validates its own types only, the router API one.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def check(self) -> None:
        """Checks beyond the model's fields, raising InvalidInput with their own codes."""

    def run_seconds(self) -> float | None:
        """How long a run of this input takes at least, when the input says (None: unknown):
        one that cannot end within its worker's timeout is refused at enqueue."""
        return None

    def planned_children(self) -> list[tuple[str, dict[str, Any]]]:
        """The child jobs (type, input) this input asks for by name: checked at enqueue like
        the request itself, so a bad child is a 4xx now, not a failed child later."""
        return []

    def children_bound(self) -> int:
        """At most how many more children a run may start that are not planned (one per
        page, per part of a video): counted against the request's bound at enqueue."""
        return 0

    @classmethod
    def redact(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The stored input as views and logs show it: every field declared with
        `json_schema_extra={"secret": True}` hidden. The run reads the stored input itself."""
        hidden = {f.alias or name for name, f in cls.model_fields.items()
                  if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("secret")}
        return {k: (REDACTED if k in hidden and v is not None else v) for k, v in data.items()}


class TextHashInput(JobInput):
    """text.hash: a built-in, cheap job type for tests, demos and load; with `uploadKey`
    it hashes one of the caller's uploads, which proves the upload path end to end
    (`courier doctor`)."""

    text: str | None = Field(default=None, max_length=100_000)
    upload_key: str | None = Field(default=None, alias="uploadKey", max_length=1024)
    algorithm: Literal["sha256", "sha1", "md5", "blake2b"] = "sha256"

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.text is None) == (self.upload_key is None):
            raise ValueError("give exactly one of text or uploadKey")
        return self


class DemoSleepInput(JobInput):
    """demo.sleep: waits, and can fail on purpose, to exercise retries and leases."""

    seconds: float = Field(default=0.0, ge=0, le=600)
    fail_times: int = Field(default=0, ge=0, le=100, alias="failTimes")
    fail: Literal["retryable", "fatal"] = "retryable"
    #: Write one S3 object per run (results/{tenant}/{jobId}/runs/): a side effect that
    #: tests and benchmarks count to prove a job ran exactly once.
    mark_runs: bool = Field(default=False, alias="markRuns")

    def run_seconds(self) -> float | None:
        return self.seconds


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


class AiRouteInput(JobInput):
    type: str = Field(min_length=1, max_length=64)
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    images: list[str] | None = None
    max_tokens: int | None = Field(default=None, alias="maxTokens", ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    json_output: bool | None = Field(default=None, alias="json")

    @model_validator(mode="after")
    def prompt_or_messages(self) -> Self:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of prompt or messages")
        return self

    def check(self) -> None:
        """The router's own checks (parts, images, sizes) with its error codes, at enqueue
        rather than at run, where they would only fail the job."""
        from courier.ai.request import ChatRequest

        ChatRequest.build(
            self.type, prompt=self.prompt, messages=self.messages, images=self.images,
            max_tokens=self.max_tokens, temperature=self.temperature, json=self.json_output,
        )


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


class BatchChild(JobInput):
    type: str = Field(min_length=1, max_length=64)
    input: dict[str, Any] = Field(default_factory=dict)


class BatchRunInput(JobInput):
    """batch.run: jobs run in parallel as children; the result gathers their outcomes."""

    jobs: list[BatchChild] = Field(min_length=1, max_length=100)

    def planned_children(self) -> list[tuple[str, dict[str, Any]]]:
        return [(child.type, child.input) for child in self.jobs]

    @model_validator(mode="after")
    def _flat(self) -> Self:
        if any(child.type == "batch.run" for child in self.jobs):
            raise ValueError("a batch cannot contain batches")
        return self
