"""The handlers of the job types one worker runs, from the catalogue (courier.jobs.catalog)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from courier.errors import InvalidInput
from courier.jobs import catalog

if TYPE_CHECKING:  # a job's context loads with its first run, not with the function
    from courier.jobs.context import JobHandler

__all__ = ["JobRegistry"]


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
        for declared in catalog.load().job_types:
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

    def require(self, job_types: tuple[str, ...] | list[str], worker: str) -> None:
        """The types a deployment sends this worker are all its own (checked at init)."""
        missing = set(job_types) - set(self.job_types)
        if missing:
            raise RuntimeError(f"{worker} is deployed for job types it does not register: {sorted(missing)}")

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
