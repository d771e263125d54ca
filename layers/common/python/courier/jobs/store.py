"""What the jobs API and the workers need from a job store, and what every store shares.

Two stores keep this promise: DynamoDB (`dynamodb_store`, deployed and local) and memory
(`memory_store`, for the pure tests of the runner and the service). Both allow exactly the
status changes in `lifecycle.TRANSITIONS`, each one atomic.
"""

from __future__ import annotations

import builtins
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from courier.errors import Conflict, CourierError, NotFound
from courier.jobs import lifecycle
from courier.jobs.lifecycle import Event, Facts
from courier.jobs.models import Job, JobError, JobStatus
from courier.jobs.steps import StepRecord, Suspend

DEFAULT_TTL_DAYS = 30


def new_job_id() -> str:
    """Time-ordered (nanoseconds, then randomness): jobs created in one millisecond still
    list in creation order, since the list sort key is createdAt#jobId."""
    return f"job_{time.time_ns():016x}{secrets.token_hex(6)}"


def now_ms() -> int:
    return int(time.time() * 1000)


def new_lease_token() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Claim:
    """What a delivery found: the job to run now, a job already finished, or one running elsewhere."""

    kind: Literal["claimed", "finished", "busy", "waiting"]
    job: Job
    retry_after: float | None = None


class ConditionFailed(Conflict):
    """A transition the lifecycle does not allow now (another writer got there first);
    callers that expect it catch it, others answer 409."""

    def __init__(self) -> None:
        super().__init__("the job changed meanwhile; read it again", code="job_changed")


def _check_request(event: Event, job: Job) -> None:
    """A tenant's request (retry, cancel) that the job's status cannot take: a clear 409
    before the conditional write, which still decides if the job changes meanwhile."""
    allowed = lifecycle.sources(event)
    if job.status in allowed:
        return
    names = " or ".join(sorted(s.value for s in allowed))
    verb, code = {Event.REQUEUE: ("retried", "not_retriable"), Event.CANCEL: ("cancelled", "not_cancellable")}[event]
    raise CourierError(f"only {names} jobs can be {verb}; this one is {job.status.value}", code=code, status=409, retryable=False)


class StoreRules:
    """What both stores do alike above their own writes: a tenant's reads and requests,
    and why a refused claim was refused. Each store supplies `get` and `_transition`."""

    def get(self, job_id: str) -> Job | None:
        raise NotImplementedError

    def _transition(self, job_id: str, event: Event, facts: Facts, *, error: JobError | None = None,
                    tenant_id: str | None = None) -> Job:
        raise NotImplementedError

    def get_for_tenant(self, tenant_id: str, job_id: str) -> Job:
        job = self.get(job_id)
        if job is None or job.tenant_id != tenant_id:  # another tenant's job does not exist for you
            raise NotFound(f"job {job_id} not found")
        return job

    def mark_undispatched(self, job: Job, error: JobError) -> Job:
        """Neither queue took it: failed, retryable, visible to the caller, never lost."""
        return self._transition(job.job_id, Event.UNDISPATCHED, Facts(now_ms()), error=error, tenant_id=job.tenant_id)

    def requeue(self, tenant_id: str, job_id: str) -> Job:
        """POST /v1/jobs/{id}/retry: a failed or dead job goes back to the queue."""
        _check_request(Event.REQUEUE, self.get_for_tenant(tenant_id, job_id))
        return self._transition(job_id, Event.REQUEUE, Facts(now_ms()), tenant_id=tenant_id)

    def cancel(self, tenant_id: str, job_id: str) -> Job:
        _check_request(Event.CANCEL, self.get_for_tenant(tenant_id, job_id))
        return self._transition(job_id, Event.CANCEL, Facts(now_ms()), tenant_id=tenant_id)

    def resume(self, parent_id: str) -> Job | None:
        try:
            return self._transition(parent_id, Event.RESUME, Facts(now_ms()))
        except ConditionFailed:
            return None

    def nudge(self, job_id: str, event_key: str) -> Job | None:
        try:
            return self._transition(job_id, Event.NUDGE, Facts(now_ms(), event_key=event_key))
        except ConditionFailed:
            return None

    def _refused_claim(self, job_id: str, at_ms: int) -> Claim:
        """Why the lifecycle refused a claim: the job is finished, or a live lease holds it."""
        job = self.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status.terminal:
            return Claim("finished", job)
        if job.status is JobStatus.WAITING:
            return Claim("waiting", job)
        return Claim("busy", job, retry_after=max(1.0, ((job.lease_until or at_ms) - at_ms) / 1000))


class JobStore(Protocol):
    """Every write is one lifecycle transition (or a field no transition guards), atomic."""

    def create(self, job: Job) -> tuple[Job, bool]:
        """Store a new job; with an idempotency key already used, the existing job instead."""
        ...

    def get(self, job_id: str) -> Job | None: ...

    def get_for_tenant(self, tenant_id: str, job_id: str) -> Job:
        """Another tenant's job does not exist for you (NotFound)."""
        ...

    def list(
        self, tenant_id: str, *, status: JobStatus | None = None, job_type: str | None = None,
        cursor: str | None = None, limit: int = 50,
    ) -> tuple[list[Job], str | None]: ...

    def count_waiting(self, tenant_id: str, limit: int) -> int:
        """The tenant's jobs waiting to run (queued or retrying), counted up to `limit`."""
        ...

    def record_dispatch(self, job_id: str, transport: str, message_id: str, fallback_reason: str | None = None) -> Job:
        """Whatever the status: a fast worker may have claimed (or finished) the job already."""
        ...

    def mark_undispatched(self, job: Job, error: JobError) -> Job: ...

    def requeue(self, tenant_id: str, job_id: str) -> Job: ...

    def cancel(self, tenant_id: str, job_id: str) -> Job: ...

    def claim(self, job_id: str, lease_seconds: float) -> Claim: ...

    def finish(self, job: Job, event: Event, *, result: dict[str, Any] | None = None,
               result_ref: dict[str, Any] | None = None, error: JobError | None = None,
               progress: dict[str, Any] | None = None) -> Job | None:
        """End a run we hold the lease of (a RUN_ENDINGS event); None if the lease was lost.
        `progress`: the run's last report, if the throttle held it back."""
        ...

    def record_progress(self, job: Job, progress: dict[str, Any]) -> bool:
        """While the run holds the lease (lifecycle.DURING_RUN); False if it no longer does."""
        ...

    def mark_dead(self, job_id: str, error: JobError, last_response: dict[str, Any] | None = None, *,
                  message_id: str | None = None) -> Job | None:
        """QStash gave up (GIVE_UP); None when the lifecycle says the word comes too late."""
        ...

    def record_callback(self, job_id: str, delivery: dict[str, Any]) -> None: ...

    def get_many(self, job_ids: builtins.list[str]) -> builtins.list[Job]:
        """The jobs that exist, in the order asked (a parent's children)."""
        ...

    def wait_for_children(self, job: Job, child_ids: builtins.list[str]) -> Job | None:
        """End a run we hold the lease of by waiting for its children (WAIT); None if the lease was lost."""
        ...

    def child_settled(self, parent_id: str, child_id: str) -> Job | None:
        """Count a child's end on its parent, once: the parent after, or None if this child was
        counted already (a redelivery, a second word about the same end)."""
        ...

    def resume(self, parent_id: str) -> Job | None:
        """RESUME: the parent goes back to the queue for its continuation; None if it is not
        waiting with every child done (another finisher resumed it, or children are open)."""
        ...

    # --- steps (courier.jobs.steps) ---------------------------------------------------
    def steps(self, job_id: str) -> builtins.list[StepRecord]:
        """The job's recorded steps, by position."""
        ...

    def record_step(self, job: Job, record: StepRecord) -> bool:
        """While the run holds the lease (lifecycle.DURING_RUN), atomically; False if it no longer does."""
        ...

    def clear_steps(self, job_id: str) -> None:
        """A retry from the start forgets the steps."""
        ...

    def suspend(self, job: Job, pause: Suspend, link: int) -> Job | None:
        """SUSPEND under the run's lease, its wake-up chain at `link`; None if the lease was lost."""
        ...

    def advance_wake(self, job_id: str, link: int) -> bool:
        """Move a waiting job's wake-up chain from `link` to the next, once (False: not the current link)."""
        ...

    def nudge(self, job_id: str, event_key: str) -> Job | None:
        """NUDGE: a job waiting for `event_key` goes back to the queue; None if it does not wait for it."""
        ...

    def put_event(self, tenant_id: str, event_key: str, data: Any) -> builtins.list[str]:
        """Keep the tenant's event for the window; the ids of the jobs registered as waiting for it."""
        ...

    def event(self, tenant_id: str, event_key: str) -> tuple[Any, int] | None:
        """The key's last event within the window: (data, posted at epoch ms)."""
        ...

    def add_waiter(self, tenant_id: str, event_key: str, job_id: str, until_ms: int) -> None: ...
