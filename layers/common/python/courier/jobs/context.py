"""What a job handler gets: `JobContext[InputT]`, typed by the job type's input model.

Its own module, free of the catalogue, so the job-author API (`courier.jobs`) can export it
to the worker folders the catalogue itself imports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from courier.errors import Misconfigured
from courier.jobs.fanout import Child, ChildOutcome, FanOut
from courier.jobs.inputs import JobInput
from courier.jobs.models import Job
from courier.jobs.steps import DEFAULT_STEP_ATTEMPTS, CallRequest, Steps, until_ms_of

if TYPE_CHECKING:
    from courier.ai.client import RouterClient

JobResult = dict[str, Any]
InputT = TypeVar("InputT", bound=JobInput)
T = TypeVar("T")


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
    #: The job's durable steps (the runner's); None outside a runner.
    steps: Steps | None = None

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @property
    def attempt(self) -> int:
        return self.job.attempts

    @property
    def step_attempt(self) -> int:
        """Inside a `context.step` function: which attempt of that step this is (1 first)."""
        return self.steps.attempt if self.steps is not None else 1

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

    # --- durable steps (courier.jobs.steps) ------------------------------------------
    def step(self, name: str, fn: Callable[..., T], *args: Any, max_attempts: int = DEFAULT_STEP_ATTEMPTS) -> T:
        """Run `fn(*args)` once for this job: its JSON result is recorded, and every later run
        of the job (a retry, a wake-up) gets it back without running `fn`. A retryable error
        retries this step alone, after a backoff, up to `max_attempts`; any other fails the job."""
        return self._steps().run(name, fn, *args, max_attempts=max_attempts)  # type: ignore[no-any-return]

    def sleep(self, name: str, seconds: float) -> None:
        """End the run now and go on `seconds` later: no Lambda runs (or bills) meanwhile."""
        steps = self._steps()
        steps.sleep_until(name, steps.now_ms() + int(seconds * 1000))

    def sleep_until(self, name: str, when: datetime | str) -> None:
        """As `sleep`, until an aware datetime or ISO 8601 moment (`2026-12-24T09:00:00Z`)."""
        self._steps().sleep_until(name, until_ms_of(when))

    def wait_for_event(self, name: str, key: str, *, timeout_seconds: float) -> Any:
        """End the run until the tenant posts `POST /v1/events {key, data}` (or `timeout_seconds`
        pass): the step's result is `data`, or `{"timedOut": true}`. An event posted up to an
        hour before the wait began counts too."""
        return self._steps().wait_for_event(name, key, timeout_seconds)

    def call(self, name: str, url: str, *, method: str = "POST", headers: dict[str, str] | None = None, body: str | None = None,
             json: Any = None, timeout_seconds: float = 60.0, max_attempts: int = DEFAULT_STEP_ATTEMPTS,
             on_failure: Literal["fail", "answer"] = "fail") -> dict[str, Any]:
        """An HTTP request to a host on the tenant's allowlist, made by QStash while this run
        ends (no Lambda waits for a slow answer), or here when QStash cannot take it. The
        answer, `{status, headers, body, json?}`, is the step's result; throttling, timeouts
        and 5xx retry the step after a backoff (`on_failure="answer"`: the last such answer is
        the result once the attempts are used, instead of failing the job)."""
        import json as json_module

        sent = dict(headers or {})
        if json is not None:
            body = json_module.dumps(json)
            sent.setdefault("Content-Type", "application/json")
        request = CallRequest(url, method.upper(), sent, body, timeout_seconds)
        return self._steps().call(name, request, max_attempts=max_attempts, on_failure=on_failure)

    def _steps(self) -> Steps:
        if self.steps is None:
            raise Misconfigured("durable steps need the job runner (this context was built without one)")
        return self.steps

    def progress(self, stage: str, fraction: float, message: str | None = None) -> None:
        """How far the run is (`GET /v1/jobs/{id}` shows it): cheap to call as often as you like."""
        if self.report is not None:
            self.report(stage, fraction, message)


#: A job type's function: `def run(context: JobContext[MyInput]) -> JobResult | FanOut`.
JobHandler = Callable[[JobContext[Any]], JobResult | FanOut]
