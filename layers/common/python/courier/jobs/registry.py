"""The handlers of the job types one worker runs, from the catalogue (courier.jobs.catalog)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from courier.errors import InvalidInput
from courier.jobs.catalog import JOB_TYPES
from courier.jobs.models import Job

JobResult = dict[str, Any]


@dataclass(frozen=True)
class JobContext:
    """What a job handler gets: the job record, its validated input, and where results go."""

    job: Job
    input: BaseModel
    bucket: str | None
    #: Seconds the run may take (the worker function's timeout): a handler with its own
    #: deadline (ai.route) leaves itself time to store the result.
    time_limit_seconds: float = 900.0
    #: Where progress goes (the runner's ProgressReporter); None: nowhere.
    report: Callable[[str, float, str | None], None] | None = None

    @property
    def attempt(self) -> int:
        return self.job.attempts

    def progress(self, stage: str, fraction: float, message: str | None = None) -> None:
        """How far the run is (`GET /v1/jobs/{id}` shows it): cheap to call as often as you like."""
        if self.report is not None:
            self.report(stage, fraction, message)


JobHandler = Callable[[JobContext], JobResult]


class JobRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}
        self._lazy: dict[str, str] = {}
        self._importing = threading.Lock()

    @classmethod
    def for_worker(cls, worker: str) -> JobRegistry:
        """Every catalogue type the worker runs, each handler imported on its first job."""
        registry = cls()
        for declared in JOB_TYPES:
            if declared.worker == worker:
                registry.register_lazily(declared.name, declared.handler)
        return registry

    def register_lazily(self, job_type: str, target: str) -> None:
        """`target` is `module:function`, imported on the first job of this type: a worker's
        public Function URL answers an unsigned request before any heavy import (PyAV,
        numpy), so a flood of them costs little and runs no job code."""
        if job_type in self._handlers or job_type in self._lazy:
            raise ValueError(f"job type {job_type!r} is registered twice")
        self._lazy[job_type] = target

    def register(self, job_type: str) -> Callable[[JobHandler], JobHandler]:
        def decorator(handler: JobHandler) -> JobHandler:
            if job_type in self._handlers or job_type in self._lazy:
                raise ValueError(f"job type {job_type!r} is registered twice")
            self._handlers[job_type] = handler
            return handler

        return decorator

    @property
    def job_types(self) -> tuple[str, ...]:
        return tuple(sorted({*self._handlers, *self._lazy}))

    def handler_for(self, job_type: str) -> JobHandler:
        if job_type in self._lazy:
            with self._importing:  # concurrent first jobs (the local host runs them in threads)
                if job_type in self._lazy:
                    import importlib

                    module, _, attribute = self._lazy[job_type].partition(":")
                    self._handlers[job_type] = getattr(importlib.import_module(module), attribute)
                    del self._lazy[job_type]
        try:
            return self._handlers[job_type]
        except KeyError:
            raise InvalidInput(
                f"this worker does not run jobs of type {job_type!r}", code="unknown_job_type"
            ) from None
