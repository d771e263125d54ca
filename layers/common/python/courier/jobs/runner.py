"""Running one delivered job, exactly once in effect, with an outcome both transports map alike.

The message names a job; the job record decides. A claim (a conditional write with a
lease) lets exactly one delivery run it; a finished job is acknowledged without running;
a job whose worker died is taken again when its lease runs out. A job of durable steps
(courier.jobs.steps) that sleeps or waits ends its run suspended, and a delayed message
wakes it: the runner sends that message before the job waits, so none waits without one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from courier import observability, strict_json
from courier.errors import CourierError, InvalidInput, Misconfigured, NotFound, RetryAfter, Unavailable
from courier.jobs import catalog, lifecycle
from courier.jobs.context import JobContext, JobResult
from courier.jobs.endings import job_ended
from courier.jobs.fanout import FanIn, FanOut
from courier.jobs.lifecycle import Event
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobError, JobStatus
from courier.jobs.notify import Notifier
from courier.jobs.outputs import check_result
from courier.jobs.payloads import load_input, results_prefix, store_result
from courier.jobs.progress import ProgressReporter, finished_progress
from courier.jobs.registry import JobRegistry
from courier.jobs.slots import TenantConcurrency, defer_seconds
from courier.jobs.steps import Calls, StepLost, StepPayloads, StepRecord, Steps, Suspend
from courier.jobs.store import Claim, JobStore, now_ms
from courier.jobs.usage import UsageStore

logger = observability.logger


class Verdict(StrEnum):
    DONE = "done"  # ran, or had already run: acknowledge
    RETRY = "retry"  # deliver again later
    REJECT = "reject"  # never deliver this message again


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    job_id: str | None = None
    status: JobStatus | None = None
    error: CourierError | None = None


def claim_verdict(claim: Claim) -> Verdict | None:
    """A delivery that did not get the job: a finished one (or one waiting for its children)
    is acknowledged, a busy one comes back later. None: claimed, run it."""
    return {"claimed": None, "finished": Verdict.DONE, "waiting": Verdict.DONE, "busy": Verdict.RETRY}[claim.kind]


def attempt_ending(error: CourierError | None, *, last_attempt: bool) -> tuple[Event, Verdict]:
    """How a run ends in the lifecycle, and what the transport is told.

    A retryable failure on the transport's last delivery still answers RETRY: the job is
    dead either way, and SQS moves a reported message to its DLQ (which alarms)."""
    if error is None:
        return Event.SUCCEED, Verdict.DONE
    if not error.retryable:
        return Event.FAIL, Verdict.REJECT
    return (Event.EXHAUST if last_attempt else Event.RETRY), Verdict.RETRY


class Wakes(Protocol):
    """What wakes a waiting job: the job service's dispatch (a protocol, as for fan-in)."""

    def wake_later(self, job: Job, until_ms: int, link: int) -> None: ...

    def release(self, job: Job) -> Job: ...


@dataclass(frozen=True)
class _RunLog:
    """One run's view of its job's steps in the store (courier.jobs.steps.StepLog)."""

    store: JobStore
    job: Job

    def load(self) -> list[StepRecord]:
        return self.store.steps(self.job.job_id)

    def record_step(self, record: StepRecord) -> bool:
        return self.store.record_step(self.job, record)

    def event(self, key: str) -> tuple[Any, int] | None:
        return self.store.event(self.job.tenant_id, key)


#: Where a continuation's steps start: apart from its handler's, whose are kept too.
CONTINUATION_STEPS = 1000
#: A wake-up that finds its job still running (the run that sent it has not ended yet)
#: comes back this soon, not after the whole lease.
WAKE_BUSY_RETRY_SECONDS = 2.0

#: The metric each ending counts.
ENDING_METRICS = {Event.SUCCEED: "JobsSucceeded", Event.RETRY: "JobsRetried", Event.FAIL: "JobsFailed", Event.EXHAUST: "JobsDead"}


class JobRunner:
    def __init__(
        self,
        registry: JobRegistry,
        store: JobStore,
        *,
        notifier: Notifier,
        bucket: str | None,
        lease_seconds: float,
        time_limit_seconds: float = 900.0,
        fan_in: FanIn | None = None,
        usage: UsageStore | None = None,
        wakes: Wakes | None = None,
        calls: Callable[[Job], Calls] | None = None,
        job_types: catalog.Catalog | None = None,
        concurrency: TenantConcurrency | None = None,
        defer: Callable[..., bool] | None = None,
    ) -> None:
        #: The job types' inputs and results (None: this process's catalogue; a test brings its own).
        self._job_types = job_types
        #: Tenants' limits below the worker's (None: none applies), and how a delivery that
        #: found no free slot is sent again (JobService.defer).
        self.concurrency = concurrency
        self.defer = defer
        #: How a job's steps make HTTP calls (None: steps cannot call; tests).
        self.calls = calls
        #: Wake-ups of jobs that sleep or wait (None: such jobs fail as misconfigured; tests).
        self.wakes = wakes
        self.registry = registry
        #: Where each attempt's compute seconds are counted (None: not counted; tests).
        self.usage = usage
        self.store = store
        self.notifier = notifier
        #: Children and continuations (None: this runner starts no children; tests).
        self.fan_in = fan_in
        self.bucket = bucket
        self.lease_seconds = lease_seconds
        self.time_limit_seconds = time_limit_seconds

    @property
    def job_types(self) -> catalog.Catalog:
        return self._job_types or catalog.load()

    def run(self, body: bytes | str, *, last_attempt: bool = False) -> Outcome:
        """`last_attempt`: the transport will not deliver again (SQS's last receive)."""
        try:
            message = JobMessage.parse(body)
            if message.type not in self.registry.job_types:
                # Sent to the wrong worker: refused before the claim, so the job is untouched
                # (its own worker's delivery still runs it).
                raise InvalidInput(f"this worker does not run jobs of type {message.type!r}", code="wrong_worker")
            held = self.concurrency.take(message.tenant, message.job_id) if self.concurrency and message.tenant else None
        except CourierError as error:
            return Outcome(Verdict.RETRY if error.retryable else Verdict.REJECT, error=error)
        except Exception as error:  # the table unreachable: the transport delivers it again
            logger.warning("the tenant's slots could not be read: %s", error)
            return Outcome(Verdict.RETRY, error=Unavailable("the tenant's running jobs could not be counted", code="slots_unavailable"))
        if held is False:
            return self._defer(message)
        try:
            return self._claim_and_run(message, last_attempt)
        finally:
            if held and self.concurrency and message.tenant:
                self.concurrency.give_back(message.tenant, message.job_id)

    def _defer(self, message: JobMessage) -> Outcome:
        """No slot for the tenant: the job is sent again a little later, and this delivery is
        acknowledged (SQS's receive count is not spent waiting for a slot)."""
        deferred = (message.deferred or 0) + 1
        if self.defer is None:
            return Outcome(Verdict.RETRY, message.job_id, error=RetryAfter(defer_seconds(deferred), code="tenant_busy"))
        try:
            sent = self.defer(message.job_id, defer_seconds(deferred), wake=message.wake, deferred=deferred)
        except CourierError as error:  # no queue took it: the transport delivers this one again
            return Outcome(Verdict.RETRY, message.job_id, error=error)
        logger.info("the tenant's slots are all taken; the job is sent again", extra={"deferred": deferred, "sent": sent})
        observability.count("JobsDeferred", type=message.type)
        return Outcome(Verdict.DONE, message.job_id)

    def _claim_and_run(self, message: JobMessage, last_attempt: bool) -> Outcome:
        try:
            claim = self.store.claim(message.job_id, self.lease_seconds)
        except NotFound as error:
            return Outcome(Verdict.REJECT, error=CourierError(error.message, code="job_not_found", retryable=False))
        except CourierError as error:
            if error.retryable:
                return Outcome(Verdict.RETRY, error=error)
            return Outcome(Verdict.REJECT, error=error)
        job = claim.job
        observability.job_context(job.job_id, job.type)
        verdict = claim_verdict(claim)
        if verdict is Verdict.DONE:
            if claim.kind == "waiting" and message.wake is not None:
                return self._pass_wake_on(job, message.wake)
            logger.info("job already %s; acknowledged without running", job.status.value)
            self._repeat_what_follows(claim)
            return Outcome(Verdict.DONE, job.job_id, job.status)
        if verdict is Verdict.RETRY:
            after = min(claim.retry_after or WAKE_BUSY_RETRY_SECONDS, WAKE_BUSY_RETRY_SECONDS) if message.wake else claim.retry_after
            busy = CourierError("the job is running elsewhere", code="job_running", status=503, retry_after=after)
            return Outcome(Verdict.RETRY, job.job_id, job.status, busy)

        logger.info("job claimed", extra={"attempt": job.attempts})
        started = time.monotonic()
        try:
            return self._attempt(job, started, last_attempt)
        finally:  # every attempt's compute, whatever its end
            if self.usage is not None:
                self.usage.count(job.tenant_id, job.type, compute_ms=max(1, round((time.monotonic() - started) * 1000)))

    def _attempt(self, job: Job, started: float, last_attempt: bool) -> Outcome:
        reporter = ProgressReporter(self.store, job)
        try:
            # The job record decides what runs, never the message: a message may lie.
            continuing = bool(job.children)
            handler = self.registry.continuation_for(job.type) if continuing else self.registry.handler_for(job.type)
            spec = self.job_types.validate_input(job.type, load_input(job.input, job.input_ref))
            children = tuple(self._fan_in().outcomes(job)) if continuing else ()
            steps = Steps(_RunLog(self.store, job), StepPayloads(self.bucket, results_prefix(job.tenant_id, job.job_id)),
                          calls=self.calls(job) if self.calls else None, job_id=job.job_id,
                          first=CONTINUATION_STEPS if continuing else 0)
            context = JobContext(job=job, input=spec, bucket=self.bucket, time_limit_seconds=self.time_limit_seconds,
                                 report=reporter, children=children, started=started, steps=steps)
            result = handler(context)
            if isinstance(result, FanOut):
                if continuing:
                    raise InvalidInput("a continuation cannot start more children", code="fan_out_again")
                return self._wait_for_children(job, result)
        except Suspend as pause:
            return self._suspend(job, pause, last_attempt)
        except StepLost:
            logger.warning("lease lost while recording a step; the newer run owns the job")
            return Outcome(Verdict.DONE, job.job_id)
        except CourierError as error:
            return self._failed(job, error, last_attempt, reporter.pending)
        except Exception as error:  # a bug or an unexpected upstream failure: retried, bounded
            logger.exception("job failed unexpectedly")
            failure = CourierError(f"unexpected {type(error).__name__}", code="internal_error")
            return self._failed(job, failure, last_attempt, reporter.pending)
        return self._succeeded(job, result, time.monotonic() - started, reporter.pending)

    def _fan_in(self) -> FanIn:
        if self.fan_in is None:
            raise Misconfigured("this worker cannot start child jobs: it has no job routes (COURIER_JOB_TYPES_PARAMETER)")
        return self.fan_in

    def _wait_for_children(self, job: Job, request: FanOut) -> Outcome:
        waiting = self._fan_in().start(job, request)
        if waiting is None:
            logger.warning("lease lost before the children were recorded; the newer run starts them")
            return Outcome(Verdict.DONE, job.job_id)
        logger.info("job waits for its children", extra={"children": len(request.children)})
        observability.count("JobsFannedOut", type=job.type)
        observability.count("ChildJobs", len(request.children), type=job.type)
        return Outcome(Verdict.DONE, job.job_id, waiting.status)

    def _suspend(self, job: Job, pause: Suspend, last_attempt: bool) -> Outcome:
        """The run ends and the job waits: its wake-up is sent first (a job never waits without
        one), then the job waits; for an event, a waiter is registered first and the event
        looked for once more after, so an event posted meanwhile is never missed."""
        if self.wakes is None:
            error = Misconfigured("a job that sleeps or waits needs job routes to wake it (COURIER_JOB_TYPES_PARAMETER)")
            return self._failed(job, error, last_attempt)
        link = job.wake_link + 1
        try:
            if pause.key is not None:
                self.store.add_waiter(job.tenant_id, pause.key, job.job_id, pause.until_ms)
            self.wakes.wake_later(job, pause.until_ms, link)
        except CourierError as error:  # no queue took the wake-up: retried; the retry suspends again
            return self._failed(job, error, last_attempt)
        waiting = self.store.suspend(job, pause, link)
        if waiting is None:
            logger.warning("lease lost before the job could wait; the newer run owns it")
            return Outcome(Verdict.DONE, job.job_id)
        logger.info("job waits", extra={"waitingFor": pause.waiting_for()})
        observability.count("JobsSuspended", type=job.type, kind=pause.kind)
        if pause.key is not None and self.store.event(job.tenant_id, pause.key) is not None:
            self._nudge(waiting, pause.key)
        return Outcome(Verdict.DONE, job.job_id, JobStatus.WAITING)

    def _nudge(self, job: Job, key: str) -> None:
        queued = self.store.nudge(job.job_id, key)
        if queued is not None and self.wakes is not None:
            self.wakes.release(queued)

    def _pass_wake_on(self, job: Job, link: int) -> Outcome:
        """An early wake-up (an SQS delay stops at 900 s) sends the next link of the chain;
        a stale one (a wait that already ended) wakes nothing."""
        if self.wakes is None or job.wake_at is None or link != job.wake_link or job.wake_at <= now_ms():
            return Outcome(Verdict.DONE, job.job_id, job.status)
        try:
            self.wakes.wake_later(job, job.wake_at, link + 1)
        except CourierError as error:
            return Outcome(Verdict.RETRY, job.job_id, job.status, error)
        self.store.advance_wake(job.job_id, link)  # a duplicate's extra chain ends at its next link
        return Outcome(Verdict.DONE, job.job_id, job.status)

    def _finished(self, job: Job) -> None:
        job_ended(job, self.notifier, self.fan_in)

    def _repeat_what_follows(self, claim: Claim) -> None:
        """A redelivery of a job that ended, or waits, repeats what its run did after its
        last write (all of it safe to repeat), in case that run died before doing it."""
        if self.fan_in is None:
            return
        if claim.kind == "finished":
            self.fan_in.child_finished(claim.job)
        elif claim.kind == "waiting":
            self.fan_in.release(claim.job)

    def _succeeded(self, job: Job, result: JobResult, seconds: float, progress: dict[str, Any] | None) -> Outcome:
        try:
            check_result(self.job_types.job_type(job.type).result, job.type, result)
            # What every reader can take back: standard JSON (NaN made null), bounded depth.
            result = strict_json.finite(result)
            inline, ref = store_result(self.bucket, job.tenant_id, job.job_id, result)
        except CourierError as error:
            return self._failed(job, error, False, progress)
        # A job that succeeded is done, whatever its last report said ("sleeping 93%" is stale).
        final = self.store.finish(job, Event.SUCCEED, result=inline, result_ref=ref, progress=finished_progress(progress))
        if final is None:
            # Our lease ran out and another delivery took the job over; it will finish it.
            logger.warning("lease lost before the result was stored; the newer run owns the job")
            return Outcome(Verdict.DONE, job.job_id)
        logger.info("job succeeded", extra={"attempt": final.attempts, "seconds": round(seconds, 3)})
        observability.count(ENDING_METRICS[Event.SUCCEED], type=job.type)
        observability.milliseconds("JobDuration", seconds * 1000, type=job.type)
        observability.count("JobAttempts", final.attempts, type=job.type)
        self._finished(final)
        return Outcome(Verdict.DONE, job.job_id, final.status)

    def _failed(self, job: Job, error: CourierError, last_attempt: bool, progress: dict[str, Any] | None = None) -> Outcome:
        event, verdict = attempt_ending(error, last_attempt=last_attempt)
        record = JobError(error.code, error.message, error.retryable)
        logger.warning("job attempt failed", extra={"error": record.to_dict(), "lastAttempt": last_attempt})
        if event is Event.EXHAUST:
            record = JobError("retries_exhausted", f"retries exhausted; last error: {error.message}", False)
        final = self.store.finish(job, event, error=record, progress=progress)
        observability.count(ENDING_METRICS[event], type=job.type)
        if final is not None and final.status.terminal:
            self._finished(final)
        return Outcome(verdict, job.job_id, lifecycle.target(event), error)
