"""What each job type accepts: validated when the job is enqueued, again when it runs.
Which type takes which model is the catalogue's (courier.jobs.catalog)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class JobInput(BaseModel):
    # Built on first use: a worker validates its own types only, the router API one.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def check(self) -> None:
        """Checks beyond the model's fields, raising InvalidInput with their own codes."""


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
        return self

    def check(self) -> None:
        from courier.network import NetworkPolicy

        NetworkPolicy.from_env().check_static(self.url, "url")


class BatchChild(JobInput):
    type: str = Field(min_length=1, max_length=64)
    input: dict[str, Any] = Field(default_factory=dict)


class BatchRunInput(JobInput):
    """batch.run: jobs run in parallel as children; the result gathers their outcomes."""

    jobs: list[BatchChild] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _flat(self) -> Self:
        if any(child.type == "batch.run" for child in self.jobs):
            raise ValueError("a batch cannot contain batches")
        return self
