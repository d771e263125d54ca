"""Fan-out and fan-in: a run starts child jobs, and its job's continuation runs once, when
the last child has ended, with every child's result or error.

The count is exact however children end (together, twice, after a crash): the parent
holds its open children as a set, and a child's end is one conditional DELETE of its own
id from it, which DynamoDB applies at most once. Whoever empties the set, or finds it
empty, asks to RESUME the parent; that transition is conditional too, so exactly one of
them dispatches the continuation. Children are recorded before the parent waits and sent
only after, so no child can end before it is counted.

Every step is safe to repeat, and each is repeated by the delivery that follows a crash:
a parent's redelivered message sends children not sent yet; a finished child's
redelivered message counts it again (a no-op) and resumes the parent if nobody has.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from courier.errors import CourierError, InvalidInput
from courier.jobs.idempotency import internal_key
from courier.jobs.models import Job, JobStatus
from courier.jobs.payloads import load_result

if TYPE_CHECKING:
    from courier.jobs.store import JobStore

logger = logging.getLogger(__name__)

#: Children one run may start (each is an ordinary job: listed, retried, dead-lettered).
MAX_CHILDREN = 100


@dataclass(frozen=True)
class Child:
    """One child job to start: any catalogued type, run for the parent's tenant."""

    type: str
    input: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FanOut:
    """What a handler returns (`context.fan_out(...)`) to start children instead of ending."""

    children: tuple[Child, ...]

    def __post_init__(self) -> None:
        if not self.children:
            raise InvalidInput("fan_out needs at least one child", code="no_children")
        if len(self.children) > MAX_CHILDREN:
            raise InvalidInput(f"at most {MAX_CHILDREN} children per job, not {len(self.children)}", code="too_many_children")


@dataclass(frozen=True)
class ChildOutcome:
    """A child as its parent's continuation sees it."""

    job_id: str
    type: str
    status: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == JobStatus.SUCCEEDED.value

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"jobId": self.job_id, "type": self.type, "status": self.status}
        if self.result is not None:
            data["result"] = self.result
        if self.error is not None:
            data["error"] = self.error
        return data


class ChildJobs(Protocol):
    """What fan-in needs of the job service: check, record and send a child, and the store.
    A protocol, so this module does not depend on the service that uses it."""

    @property
    def store(self) -> JobStore: ...

    def check_request(self, tenant_id: str, job_type: str, job_input: dict[str, Any], *,
                      callback_url: str | None = None) -> dict[str, Any]: ...

    def submit(self, tenant_id: str, job_type: str, job_input: dict[str, Any], *, idempotency_key: str | None = None,
               parent_id: str | None = None, hold: bool = False) -> tuple[Job, bool]: ...

    def release(self, job: Job) -> Job: ...


class FanIn:
    def __init__(self, jobs: ChildJobs) -> None:
        self.jobs = jobs

    def start(self, parent: Job, request: FanOut) -> Job | None:
        """Record the children, make the parent wait for them, send them. None: the run lost
        its lease (a newer run owns the parent and starts the same children: same keys)."""
        for child in request.children:  # all checked before any is recorded: none is left half made
            self.jobs.check_request(parent.tenant_id, child.type, child.input)
        children = [
            self.jobs.submit(
                parent.tenant_id, child.type, child.input, idempotency_key=internal_key("child", parent.job_id, str(index)),
                parent_id=parent.job_id, hold=True,
            )[0]
            for index, child in enumerate(request.children)
        ]
        waiting = self.jobs.store.wait_for_children(parent, [c.job_id for c in children])
        if waiting is None:
            return None
        self.release(waiting)
        return waiting

    def release(self, parent: Job) -> None:
        """Send the children not sent yet (all of them, unless a crash came between)."""
        for child in self.jobs.store.get_many(parent.children or []):
            if child.status is JobStatus.QUEUED and child.dispatches == 0:
                try:
                    self.jobs.release(child)
                except CourierError as error:  # both queues down: the child is failed, retryable, and counted
                    logger.warning("child %s of %s could not be sent: %s", child.job_id, parent.job_id, error.message)

    def child_finished(self, child: Job) -> None:
        """A child reached a terminal status (or a delivery found it there): count it, and
        resume the parent if it was the last."""
        if not child.parent_id or not child.status.terminal:
            return
        parent = self.jobs.store.child_settled(child.parent_id, child.job_id) or self.jobs.store.get(child.parent_id)
        if parent is None or parent.status is not JobStatus.WAITING or parent.children_open:
            return
        resumed = self.jobs.store.resume(parent.job_id)
        if resumed is not None:
            logger.info("the last child of %s ended; its continuation is queued", parent.job_id)
            try:
                self.jobs.release(resumed)
            except CourierError as error:  # failed, retryable, visible: POST /v1/jobs/{id}/retry runs it
                logger.error("the continuation of %s could not be sent: %s", parent.job_id, error.message)

    def outcomes(self, parent: Job) -> list[ChildOutcome]:
        return [
            ChildOutcome(
                child.job_id, child.type, child.status.value,
                result=child.result if child.result is not None else (load_result(child.result_ref) if child.result_ref else None),
                error=child.error.to_dict() if child.error else None,
            )
            for child in self.jobs.store.get_many(parent.children or [])
        ]

    def summary(self, parent: Job) -> list[dict[str, Any]]:
        """What `GET /v1/jobs/{id}` lists of a parent's children."""
        return [{"jobId": c.job_id, "type": c.type, "status": c.status.value} for c in self.jobs.store.get_many(parent.children or [])]
