"""Dead letters back on their way: what `courier dlq redrive` decides for each one.

A message lands in a dead-letter queue when its transport gave up on it: SQS after
`maxReceiveCount` receives, QStash after its retries. Its job may have ended anyway (a
worker marked it dead, a duplicate delivery ran it, the tenant cancelled it); sending
such a message again would do nothing but cost an invocation, so only the messages of
jobs that have not finished go back. A dead or failed job goes back by `jobs retry`,
which requeues it and sends a new message, under its tenant's key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from courier.errors import CourierError
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job


class Action(StrEnum):
    REDRIVE = "redrive"
    SKIP = "skip"
    DROP = "drop"


@dataclass(frozen=True)
class DeadLetter:
    source: str  # "sqs:<worker>" or "qstash"
    letter_id: str
    body: str
    detail: str
    handle: Any = None  # what the source needs to act on it (a receipt handle, a dlqId)

    @property
    def job_id(self) -> str | None:
        try:
            return JobMessage.parse(self.body).job_id
        except CourierError:
            return None


class DeadLetters(Protocol):
    """One dead-letter queue: its letters, and sending one back where it came from."""

    transport: str

    def letters(self, limit: int) -> list[DeadLetter]: ...

    def redrive(self, letter: DeadLetter) -> str:
        """Send it again; the new message's id. The letter leaves the dead-letter queue."""
        ...

    def drop(self, letter: DeadLetter) -> None: ...

    def release(self, letters: Iterable[DeadLetter]) -> None:
        """Letters looked at and left where they are (visible again, for SQS)."""
        ...


@dataclass(frozen=True)
class Verdict:
    letter: DeadLetter
    action: Action
    reason: str
    job_status: str | None = None
    message_id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.letter.source, "letterId": self.letter.letter_id, "jobId": self.letter.job_id, "jobStatus": self.job_status,
                "action": self.action.value, "reason": self.reason, "detail": self.letter.detail, "messageId": self.message_id, "error": self.error}


def decide(job: Job | None, *, drop_finished: bool = False) -> tuple[Action, str]:
    """What to do with a dead letter, given its job as the table has it now."""
    if job is None:
        return (Action.DROP if drop_finished else Action.SKIP), "no such job (not a Courier job message, or its job is gone)"
    if not job.status.terminal:
        return Action.REDRIVE, f"the job is {job.status.value} and this message may be its only way to run"
    retry = f"; courier jobs retry {job.job_id} runs it again" if job.status.value in ("failed", "dead") else ""
    return (Action.DROP if drop_finished else Action.SKIP), f"the job already ended {job.status.value}{retry}"


def redrive(
    batches: Iterable[tuple[DeadLetters, list[DeadLetter]]], find_job: Callable[[str], Job | None], *, dry_run: bool = False,
    drop_finished: bool = False, record_dispatch: Callable[[str, str, str], Any] | None = None,
) -> Iterator[Verdict]:
    """Each letter's verdict (letters as each queue gave them), carried out unless `dry_run`;
    one failing letter never stops the rest."""
    for queue, letters in batches:
        untouched: list[DeadLetter] = []
        for letter in letters:
            job_id = letter.job_id
            job = find_job(job_id) if job_id else None
            action, reason = decide(job, drop_finished=drop_finished)
            status = job.status.value if job else None
            if dry_run or action is Action.SKIP:
                untouched.append(letter)
                yield Verdict(letter, action, reason, status)
                continue
            try:
                if action is Action.DROP:
                    queue.drop(letter)
                    yield Verdict(letter, action, reason, status)
                    continue
                message_id = queue.redrive(letter)
            except Exception as error:  # left in its queue, said, and the next letter goes on
                untouched.append(letter)
                yield Verdict(letter, action, reason, status, error=f"{type(error).__name__}: {error}")
                continue
            if record_dispatch and job_id:
                try:
                    record_dispatch(job_id, queue.transport, message_id)
                except Exception:  # the message is on its way; only its id in the job record is stale
                    pass
            yield Verdict(letter, action, reason, status, message_id=message_id)
        queue.release(untouched)
