"""What the built-in job types accept."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, model_validator

from courier.jobs.inputs import JobInput


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


class ScriptedStep(JobInput):
    """One step of a demo.steps job."""

    name: str = Field(min_length=1, max_length=100)
    kind: Literal["run", "sleep", "event", "call"] = "run"
    #: run: how long an execution takes (after its S3 object); sleep: how long; event: the timeout.
    seconds: float = Field(default=0.0, ge=0, le=30 * 86400)  # the runtime refuses beyond its limit (7 days)
    key: str | None = Field(default=None, max_length=200)
    #: call: the request (a host on the tenant's allowlist); `seconds` is its timeout.
    url: str | None = Field(default=None, max_length=2048)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    body: str | None = Field(default=None, max_length=64 * 1024)
    #: run: fail the step's first executions on purpose.
    fail_times: int = Field(default=0, ge=0, le=100, alias="failTimes")
    fail: Literal["retryable", "fatal"] = "retryable"
    max_attempts: int = Field(default=4, ge=1, le=20, alias="maxAttempts")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind == "event" and (not self.key or not self.seconds):
            raise ValueError("an event step needs a key and a timeout (seconds)")
        if self.kind == "call" and not self.url:
            raise ValueError("a call step needs a url")
        return self


class DemoStepsInput(JobInput):
    """demo.steps: a scripted job of durable steps (runs, sleeps, waits for events). Every
    execution of a run step writes an S3 object (results/{tenant}/{jobId}/runs/{step}/):
    the side effect that tests and benchmarks count to prove a step ran once."""

    steps: list[ScriptedStep] = Field(min_length=1, max_length=50)
