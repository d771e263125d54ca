"""The job lifecycle as data: every status change a job may make, in one table.

Both stores read this table: DynamoDB turns each row into a condition expression (so a
write that the table does not allow is refused by DynamoDB itself, atomically), and the
in-memory store checks the same rows in Python. The runner, the worker adapter and the
dispatcher decide with pure functions over it. docs/architecture.md shows the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from courier.jobs.models import Job, JobStatus

Q, RUN, RETRY, WAIT = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.RETRYING, JobStatus.WAITING
OK, FAILED, DEAD, CANCELLED = JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.DEAD, JobStatus.CANCELLED


class Event(StrEnum):
    """What happens to a job, named for who makes it happen."""

    CLAIM = "claim"  # a delivery takes the job for one run (worker)
    SUCCEED = "succeed"  # the run returned a result (worker)
    RETRY = "retry"  # the run failed, retryably, and the transport will deliver again (worker)
    FAIL = "fail"  # the run failed for good: bad input, a permanent upstream refusal (worker)
    EXHAUST = "exhaust"  # the run failed retryably on the transport's last delivery (worker)
    GIVE_UP = "give_up"  # QStash's failure callback: it stopped retrying the message (jobs API)
    UNDISPATCHED = "undispatched"  # neither queue took the job (jobs API)
    REQUEUE = "requeue"  # POST /v1/jobs/{id}/retry, or the same idempotent request again (jobs API)
    CANCEL = "cancel"  # DELETE /v1/jobs/{id} (jobs API)
    WAIT = "wait"  # the run started child jobs and ends without a result (worker)
    RESUME = "resume"  # the last child finished: the continuation is due (whoever finished it)
    SUSPEND = "suspend"  # the run sleeps, backs off a step or waits for an event: it ends (worker)
    NUDGE = "nudge"  # the event a waiting job waits for was posted (jobs API)


class Guard(StrEnum):
    """A condition on the job beyond its status."""

    LEASE_HELD = "lease_held"  # the writer holds the run's lease (its token is the job's)
    LEASE_EXPIRED = "lease_expired"  # the run that holds the lease is presumed dead
    SAME_MESSAGE = "same_message"  # the word is about the job's current message, not an old one
    CHILDREN_DONE = "children_done"  # the job started children, and none is still open
    WAKE_DUE = "wake_due"  # the job's sleep (or backoff, or event timeout) has ended
    AWAITS_EVENT = "awaits_event"  # the job waits for the event the writer names


@dataclass(frozen=True)
class Transition:
    event: Event
    sources: frozenset[JobStatus]
    target: JobStatus
    guards: frozenset[Guard] = frozenset()
    why: str = ""


def _t(event: Event, sources: set[JobStatus], target: JobStatus, guards: set[Guard] | None = None, why: str = "") -> Transition:
    return Transition(event, frozenset(sources), target, frozenset(guards or ()), why)


TRANSITIONS: tuple[Transition, ...] = (
    _t(Event.CLAIM, {Q, RETRY}, RUN, why="one delivery runs the job; others find it busy or finished"),
    _t(Event.CLAIM, {RUN}, RUN, {Guard.LEASE_EXPIRED}, "a dead worker's job is taken again after its lease"),
    _t(Event.SUCCEED, {RUN}, OK, {Guard.LEASE_HELD}, "a run whose lease was taken over cannot finish"),
    _t(Event.RETRY, {RUN}, RETRY, {Guard.LEASE_HELD}, "the transport delivers again; that delivery claims it"),
    _t(Event.FAIL, {RUN}, FAILED, {Guard.LEASE_HELD}, "retrying cannot help: the message is dropped (QStash: 489)"),
    _t(Event.EXHAUST, {RUN}, DEAD, {Guard.LEASE_HELD}, "SQS's last receive: the message goes to the DLQ"),
    _t(Event.GIVE_UP, {Q, RETRY}, DEAD, {Guard.SAME_MESSAGE}, "a late word about an old dispatch kills nothing"),
    _t(Event.GIVE_UP, {RUN}, DEAD, {Guard.SAME_MESSAGE, Guard.LEASE_EXPIRED}, "a live run decides itself"),
    _t(Event.UNDISPATCHED, {Q}, FAILED, why="failed but retryable: the same request again requeues it"),
    _t(Event.REQUEUE, {FAILED, DEAD}, Q, why="dispatched again, as a new message"),
    _t(Event.CANCEL, {Q, WAIT}, CANCELLED, why="a delivery of a cancelled job is acknowledged without running"),
    _t(Event.WAIT, {RUN}, WAIT, {Guard.LEASE_HELD}, "children are recorded before any is sent, so none can finish uncounted"),
    _t(Event.RESUME, {WAIT}, Q, {Guard.CHILDREN_DONE}, "however many children finish at once, one write resumes the parent"),
    _t(Event.SUSPEND, {RUN}, WAIT, {Guard.LEASE_HELD}, "its wake-up is sent first, so no sleeping job is left without one"),
    _t(Event.CLAIM, {WAIT}, RUN, {Guard.WAKE_DUE}, "a wake-up claims a sleeping job once its time has come; an early one finds it waiting"),
    _t(Event.NUDGE, {WAIT}, Q, {Guard.AWAITS_EVENT}, "however often the event is posted, one write queues the job; its run reads the event"),
)

#: The events a worker's run ends with, by how the attempt went.
RUN_ENDINGS = frozenset({Event.SUCCEED, Event.RETRY, Event.FAIL, Event.EXHAUST})
#: DURING_RUN: what a run writes while it runs (its progress) changes no status; the job must
#: still be running and the writer hold its lease, so a run that lost its job reports nothing.
DURING_RUN_SOURCES, DURING_RUN_GUARDS = frozenset({RUN}), frozenset({Guard.LEASE_HELD})


def require_run_ending(event: Event) -> None:
    if event not in RUN_ENDINGS:
        raise ValueError(f"{event.value} does not end a run")


def transitions(event: Event) -> tuple[Transition, ...]:
    return tuple(t for t in TRANSITIONS if t.event is event)


def target(event: Event) -> JobStatus:
    """Where an event leads (one status per event: the table is built that way)."""
    (status,) = {t.target for t in transitions(event)}
    return status


def sources(event: Event) -> frozenset[JobStatus]:
    return frozenset().union(*(t.sources for t in transitions(event)))


@dataclass(frozen=True)
class Facts:
    """What a writer knows when it asks for a transition: the guards are checked against it."""

    now_ms: int
    lease_token: str | None = None
    message_id: str | None = None
    event_key: str | None = None


def guard_holds(guard: Guard, job: Job, facts: Facts) -> bool:
    if guard is Guard.LEASE_HELD:
        return facts.lease_token is not None and job.lease_token == facts.lease_token
    if guard is Guard.LEASE_EXPIRED:
        return job.lease_until is not None and job.lease_until < facts.now_ms
    if guard is Guard.CHILDREN_DONE:
        return bool(job.children) and not job.children_open
    if guard is Guard.WAKE_DUE:
        return job.wake_at is not None and job.wake_at <= facts.now_ms
    if guard is Guard.AWAITS_EVENT:
        return facts.event_key is not None and job.wait_key == facts.event_key
    # SAME_MESSAGE: only when the writer names a message (QStash's callback always does).
    return facts.message_id is None or job.message_id == facts.message_id


def allowed(event: Event, job: Job, facts: Facts) -> Transition | None:
    """The row that lets `job` take `event` now, or None. The DynamoDB store asks the same
    question in a condition expression built from the same rows."""
    for row in transitions(event):
        if job.status in row.sources and all(guard_holds(g, job, facts) for g in row.guards):
            return row
    return None


def cleared_fields(event: Event) -> frozenset[str]:
    """The Job fields an event empties: a run that ends lets go of its lease; a requeued job
    starts clean (its last error, response and message belong to the old dispatch)."""
    rows = transitions(event)
    fields: set[str] = set()
    if any(RUN in t.sources and t.target is not RUN for t in rows):
        fields |= {"lease_until", "lease_token"}
    if any(WAIT in t.sources and t.target is not WAIT for t in rows):  # a job that stops waiting waits for nothing
        fields |= {"waiting_for", "wake_at", "wait_key"}
    if target(event) is Q:
        fields |= {"finished_at", "last_response", "message_id", "error"}
    if target(event) is OK:
        fields.add("error")
    return frozenset(fields)


def run_still_held(job: Job, facts: Facts) -> bool:
    """The DURING_RUN condition, for the in-memory store."""
    return job.status in DURING_RUN_SOURCES and all(guard_holds(g, job, facts) for g in DURING_RUN_GUARDS)


def describe() -> list[tuple[str, str, str, str, str]]:
    """The table as text rows (event, from, to, guard, why), as docs/architecture.md shows it."""
    return [
        (t.event.value, ", ".join(sorted(s.value for s in t.sources)), t.target.value,
         " and ".join(sorted(g.value for g in t.guards)) or "-", t.why)
        for t in TRANSITIONS
    ]
