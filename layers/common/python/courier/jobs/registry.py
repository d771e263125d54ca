"""Job types a worker can run, declared by the worker's handler module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel

from courier.errors import InvalidInput
from courier.jobs.models import Job

JobResult = dict[str, Any]


@dataclass(frozen=True)
class JobContext:
    """What a job handler gets: the job record, its validated input, and where results go."""

    job: Job
    input: BaseModel
    bucket: str | None

    @property
    def attempt(self) -> int:
        return self.job.attempts


JobHandler = Callable[[JobContext], JobResult]


class JobRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def register(self, job_type: str) -> Callable[[JobHandler], JobHandler]:
        def decorator(handler: JobHandler) -> JobHandler:
            if job_type in self._handlers:
                raise ValueError(f"job type {job_type!r} is registered twice")
            self._handlers[job_type] = handler
            return handler

        return decorator

    @property
    def job_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._handlers))

    def handler_for(self, job_type: str) -> JobHandler:
        try:
            return self._handlers[job_type]
        except KeyError:
            raise InvalidInput(
                f"this worker does not run jobs of type {job_type!r}", code="unknown_job_type"
            ) from None
