"""Job types a worker can run, declared by the worker's handler module."""

from __future__ import annotations

from typing import Any, Callable

from courier.errors import InvalidInput
from courier.jobs.messages import JobMessage

JobResult = dict[str, Any]
JobHandler = Callable[[JobMessage], JobResult]


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
