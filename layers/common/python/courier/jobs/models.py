"""The job record: one DynamoDB item per job, also its idempotency record (docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    WAITING = "waiting"  # for its children (fan-out), or a sleep, a step's backoff or an event (steps)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # non-retryable: bad input, or could not be dispatched
    DEAD = "dead"  # retries exhausted
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.DEAD, JobStatus.CANCELLED})


MAX_ERROR_MESSAGE = 2000


def utc_now() -> str:
    """ISO 8601 with milliseconds: sorts as text, so it can be a GSI sort key."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_in(seconds: int) -> str:
    """When something given now expires (a presigned URL), to the second."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class JobError:
    code: str
    message: str
    retryable: bool

    def __post_init__(self) -> None:
        self.message = self.message[:MAX_ERROR_MESSAGE]  # an upstream's essay never fills the item

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


@dataclass
class Job:
    job_id: str
    tenant_id: str
    type: str
    status: JobStatus
    input: dict[str, Any]
    created_at: str
    updated_at: str
    attempts: int = 0
    result: dict[str, Any] | None = None
    #: Where a result too large for the item lives: {"bucket", "key", "size"}.
    result_ref: dict[str, Any] | None = None
    #: Where an input too large for the item lives: {"bucket", "key", "size", "sha256"}.
    input_ref: dict[str, Any] | None = None
    error: JobError | None = None
    transport: str | None = None
    message_id: str | None = None
    callback_url: str | None = None
    idempotency_key: str | None = None
    delay_seconds: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    lease_until: int | None = None  # epoch ms
    lease_token: str | None = None
    dispatches: int = 0
    #: Why the job went by SQS when QStash was meant to take it.
    fallback_reason: str | None = None
    last_response: dict[str, Any] | None = field(default=None)
    #: How the outcome callback went: {"status": sent|refused|failed, "via", "error", "at"}.
    callback_delivery: dict[str, Any] | None = None
    #: What the handler last reported: {"stage", "fraction", "message", "updatedAt"}.
    progress: dict[str, Any] | None = None
    #: The schedule whose firing created the job.
    schedule_id: str | None = None
    #: Fan-out: the job that started this one, and a parent's children (ids, in order) and
    #: those not finished yet; when the last one finishes, the parent's continuation runs.
    parent_id: str | None = None
    children: list[str] | None = None
    children_open: list[str] | None = None
    #: Steps: what a waiting job waits for ({kind: sleep|retry|event, step, until, key?}),
    #: when its wake-up is due (epoch ms), the event key it waits on, and the wake-up chain's
    #: link (each delayed message names it; an old one wakes nothing).
    waiting_for: dict[str, Any] | None = None
    wake_at: int | None = None
    wait_key: str | None = None
    wake_link: int = 0

    @property
    def children_pending(self) -> int | None:
        """A parent's children not finished yet (None for a job without children)."""
        return len(self.children_open or ()) if self.children else None
