"""What a job handler gets: `JobContext[InputT]`, typed by the job type's input model.

Its own module, free of the catalogue, so the job-author API (`courier.jobs`) can export it
to the worker folders the catalogue itself imports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from courier.jobs.fanout import Child, ChildOutcome, FanOut
from courier.jobs.inputs import JobInput
from courier.jobs.models import Job

if TYPE_CHECKING:
    from courier.ai.client import RouterClient

JobResult = dict[str, Any]
InputT = TypeVar("InputT", bound=JobInput)


@dataclass(frozen=True)
class JobContext(Generic[InputT]):
    """What a job handler gets: the job record, its validated input (of the type's own model,
    so `context.input.seconds` is typed), and where results go."""

    job: Job
    input: InputT
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


#: A job type's function: `def run(context: JobContext[MyInput]) -> JobResult | FanOut`.
JobHandler = Callable[[JobContext[Any]], JobResult | FanOut]
