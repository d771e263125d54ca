"""What the built-in job types return (courier.jobs.outputs)."""

from __future__ import annotations

from typing import Any

from courier.jobs.outputs import JobOutput


class TextHashResult(JobOutput):
    algorithm: str
    digest: str
    #: Characters hashed, for `text`; bytes and the key, for an upload.
    length: int | None = None
    bytes: int | None = None
    upload_key: str | None = None


class DemoSleepResult(JobOutput):
    slept: float
    attempt: int


class DemoStepsResult(JobOutput):
    #: Each step's own result, by the step's name.
    steps: dict[str, Any]


class ChildOutcome(JobOutput):
    job_id: str
    type: str
    status: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class BatchRunResult(JobOutput):
    #: Every child's outcome, in the order the batch listed them.
    jobs: list[ChildOutcome]
    succeeded: int
    failed: int
