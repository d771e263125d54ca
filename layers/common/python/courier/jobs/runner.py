"""Running one delivered job, exactly once in effect, with an outcome both transports map alike.

The message names a job; the job record decides. A claim (a conditional write with a
lease) lets exactly one delivery run it; a finished job is acknowledged without running;
a job whose worker died is taken again when its lease runs out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum

from courier import observability
from courier.errors import CourierError, NotFound
from courier.jobs.inputs import validate_input
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobError, JobStatus
from courier.jobs.notify import Notifier
from courier.jobs.registry import JobContext, JobRegistry, JobResult
from courier.jobs.payloads import load_input, store_result
from courier.jobs.store import JobStore

logger = observability.logger


class Verdict(str, Enum):
    DONE = "done"  # ran, or had already run: acknowledge
    RETRY = "retry"  # deliver again later
    REJECT = "reject"  # never deliver this message again


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    job_id: str | None = None
    status: JobStatus | None = None
    error: CourierError | None = None


class JobRunner:
    def __init__(
        self,
        registry: JobRegistry,
        store: JobStore,
        *,
        notifier: Notifier,
        bucket: str | None,
        lease_seconds: float,
    ) -> None:
        self.registry = registry
        self.store = store
        self.notifier = notifier
        self.bucket = bucket
        self.lease_seconds = lease_seconds

    def run(self, body: bytes | str, *, last_attempt: bool = False) -> Outcome:
        """`last_attempt`: the transport will not deliver again (SQS's last receive)."""
        try:
            message = JobMessage.parse(body)
            claim = self.store.claim(message.job_id, self.lease_seconds)
        except NotFound as error:
            return Outcome(Verdict.REJECT, error=CourierError(error.message, code="job_not_found", retryable=False))
        except CourierError as error:
            if error.retryable:
                return Outcome(Verdict.RETRY, error=error)
            return Outcome(Verdict.REJECT, error=error)
        job = claim.job
        observability.job_context(job.job_id, job.type)
        if claim.kind == "finished":
            logger.info("job already %s; acknowledged without running", job.status.value)
            return Outcome(Verdict.DONE, job.job_id, job.status)
        if claim.kind == "busy":
            busy = CourierError("the job is running elsewhere", code="job_running", status=503, retry_after=claim.retry_after)
            return Outcome(Verdict.RETRY, job.job_id, job.status, busy)

        logger.info("job claimed", extra={"attempt": job.attempts})
        started = time.monotonic()
        try:
            # The job record decides what runs, never the message: a message may lie.
            handler = self.registry.handler_for(job.type)
            context = JobContext(job=job, input=validate_input(job.type, load_input(job.input, job.input_ref)), bucket=self.bucket)
            result = handler(context)
        except CourierError as error:
            return self._failed(job, error, last_attempt)
        except Exception as error:  # a bug or an unexpected upstream failure: retried, bounded
            logger.exception("job failed unexpectedly")
            return self._failed(job, CourierError(f"unexpected {type(error).__name__}", code="internal_error"), last_attempt)
        return self._succeeded(job, result, time.monotonic() - started)

    def _succeeded(self, job: Job, result: JobResult, seconds: float) -> Outcome:
        try:
            inline, ref = store_result(self.bucket, job.tenant_id, job.job_id, result)
        except CourierError as error:
            return self._failed(job, error, last_attempt=False)
        final = self.store.finish(job, JobStatus.SUCCEEDED, result=inline, result_ref=ref)
        if final is None:
            # Our lease ran out and another delivery took the job over; it will finish it.
            logger.warning("lease lost before the result was stored; the newer run owns the job")
            return Outcome(Verdict.DONE, job.job_id)
        logger.info("job succeeded", extra={"attempt": final.attempts, "seconds": round(seconds, 3)})
        observability.count("JobsSucceeded", type=job.type)
        observability.milliseconds("JobDuration", seconds * 1000, type=job.type)
        observability.count("JobAttempts", final.attempts, type=job.type)
        self.notifier.job_finished(final)
        return Outcome(Verdict.DONE, job.job_id, final.status)

    def _failed(self, job: Job, error: CourierError, last_attempt: bool) -> Outcome:
        record = JobError(error.code, error.message, error.retryable)
        logger.warning("job attempt failed", extra={"error": record.to_dict(), "lastAttempt": last_attempt})
        if error.retryable and not last_attempt:
            self.store.finish(job, JobStatus.RETRYING, error=record)
            observability.count("JobsRetried", type=job.type)
            return Outcome(Verdict.RETRY, job.job_id, JobStatus.RETRYING, error)
        status = JobStatus.DEAD if error.retryable else JobStatus.FAILED
        if status is JobStatus.DEAD:
            record = JobError("retries_exhausted", f"retries exhausted; last error: {error.message}", False)
        final = self.store.finish(job, status, error=record)
        observability.count("JobsDead" if status is JobStatus.DEAD else "JobsFailed", type=job.type)
        if final is not None:
            self.notifier.job_finished(final)
        # Dead on its last receive: still reported, so SQS moves it to the DLQ (and alarms).
        verdict = Verdict.REJECT if status is JobStatus.FAILED else Verdict.RETRY
        return Outcome(verdict, job.job_id, status, error)
