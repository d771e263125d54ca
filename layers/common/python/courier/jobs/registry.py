"""The handlers of the job types one worker runs, from the catalogue (courier.jobs.catalog)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from courier.errors import InvalidInput
from courier.jobs.catalog import JOB_TYPES
from courier.jobs.fanout import Child, ChildOutcome, FanOut
from courier.jobs.models import Job

if TYPE_CHECKING:
    from courier.ai.client import RouterClient

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
    #: In a continuation: every child's outcome, in the order they were started.
    children: tuple[ChildOutcome, ...] = ()
    started: float = field(default_factory=time.monotonic)

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @property
    def attempt(self) -> int:
        return self.job.attempts

    @property
    def deadline(self) -> float:
        """When the function stops (`time.monotonic()` clock)."""
        return self.started + self.time_limit_seconds

    def remaining_seconds(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    @property
    def logger(self) -> logging.Logger:
        """The function's structured logger: every line carries the job id and type."""
        from courier.observability import logger

        return logger  # type: ignore[return-value]

    @cached_property
    def router(self) -> RouterClient:
        """The AI router, in process, within this run's deadline (workers that `calls_models`)."""
        from courier.ai.client import RouterClient

        return RouterClient(self.remaining_seconds)

    def fan_out(self, children: Sequence[Child | tuple[str, dict[str, Any]]]) -> FanOut:
        """Return this from the handler to start child jobs; the job type's continuation runs
        when they have all ended. Each child is a `Child(type, input)` or a (type, input) pair."""
        return FanOut(tuple(c if isinstance(c, Child) else Child(c[0], c[1]) for c in children))

    def progress(self, stage: str, fraction: float, message: str | None = None) -> None:
        """How far the run is (`GET /v1/jobs/{id}` shows it): cheap to call as often as you like."""
        if self.report is not None:
            self.report(stage, fraction, message)


JobHandler = Callable[[JobContext], JobResult | FanOut]


class JobRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}
        self._lazy: dict[str, str] = {}
        self._continuations: dict[str, str] = {}
        self._importing = threading.Lock()

    @classmethod
    def for_worker(cls, worker: str) -> JobRegistry:
        """Every catalogue type the worker runs, each handler imported on its first job."""
        registry = cls()
        for declared in JOB_TYPES:
            if declared.worker == worker:
                registry.register_lazily(declared.name, declared.handler)
                if declared.continuation:
                    registry._continuations[declared.name] = declared.continuation
        return registry

    def continuation_for(self, job_type: str) -> JobHandler:
        target = self._continuations.get(job_type)
        if target is None:
            raise InvalidInput(f"{job_type} started children but declares no continuation", code="no_continuation")
        return _imported(target)

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
        handler = self._handlers.get(job_type)
        if handler is not None:
            return handler
        with self._importing:  # concurrent first jobs (the local host runs them in threads)
            if job_type not in self._handlers and job_type in self._lazy:
                # Imported first, then moved: a type is never in neither map, so a second
                # first job that arrives mid-import waits here and finds it, instead of
                # finding no handler and failing its job for good as an unknown type.
                self._handlers[job_type] = _imported(self._lazy[job_type])
                del self._lazy[job_type]
        try:
            return self._handlers[job_type]
        except KeyError:
            raise InvalidInput(
                f"this worker does not run jobs of type {job_type!r}", code="unknown_job_type"
            ) from None


def _imported(target: str) -> JobHandler:
    """`module:function`, imported (once: Python caches modules)."""
    import importlib

    module, _, attribute = target.partition(":")
    handler: JobHandler = getattr(importlib.import_module(module), attribute)
    return handler
