"""`courier dlq redrive`'s decisions: only unfinished jobs' letters go back; a failing letter
stops nothing; a dry run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from courier.jobs.models import Job, JobStatus
from courier.jobs.redrive import Action, DeadLetter, decide, redrive


def job(status: JobStatus, job_id: str = "job_1") -> Job:
    return Job(job_id, "acme", "text.hash", status, {}, "t", "t")


@pytest.mark.parametrize(("status", "action"), [
    (JobStatus.QUEUED, Action.REDRIVE), (JobStatus.RUNNING, Action.REDRIVE), (JobStatus.RETRYING, Action.REDRIVE),
    (JobStatus.WAITING, Action.REDRIVE), (JobStatus.SUCCEEDED, Action.SKIP), (JobStatus.FAILED, Action.SKIP),
    (JobStatus.DEAD, Action.SKIP), (JobStatus.CANCELLED, Action.SKIP),
])
def test_only_unfinished_jobs_go_back(status: JobStatus, action: Action) -> None:
    assert decide(job(status))[0] is action
    assert decide(job(status), drop_finished=True)[0] is (Action.DROP if action is Action.SKIP else action)


def test_a_dead_job_is_pointed_at_jobs_retry_and_an_unknown_letter_is_left() -> None:
    assert "courier jobs retry job_1" in decide(job(JobStatus.DEAD))[1]
    assert "retry" not in decide(job(JobStatus.SUCCEEDED))[1]
    assert decide(None)[0] is Action.SKIP and decide(None, drop_finished=True)[0] is Action.DROP


class Queue:
    """A dead-letter queue in memory: what redrive did to each letter."""

    transport = "sqs"

    def __init__(self, letters: list[DeadLetter], fail_on: str | None = None) -> None:
        self._letters, self.fail_on = letters, fail_on
        self.redriven: list[str] = []
        self.dropped: list[str] = []
        self.released: list[str] = []

    def letters(self, limit: int) -> list[DeadLetter]:
        return self._letters[:limit]

    def redrive(self, letter: DeadLetter) -> str:
        if letter.letter_id == self.fail_on:
            raise ConnectionError("queue unreachable")
        self.redriven.append(letter.letter_id)
        return f"msg-{letter.letter_id}"

    def drop(self, letter: DeadLetter) -> None:
        self.dropped.append(letter.letter_id)

    def release(self, letters: Iterable[DeadLetter]) -> None:
        self.released += [letter.letter_id for letter in letters]


def letter(letter_id: str, job_id: str | None) -> DeadLetter:
    body = json.dumps({"jobId": job_id, "type": "text.hash"}) if job_id else "not a job"
    return DeadLetter("sqs:w", letter_id, body, "received 4 times")


JOBS = {"j-queued": job(JobStatus.QUEUED, "j-queued"), "j-done": job(JobStatus.SUCCEEDED, "j-done"),
        "j-retrying": job(JobStatus.RETRYING, "j-retrying")}


def test_redrive_sends_back_the_unfinished_leaves_the_rest_and_records_the_new_message() -> None:
    queue = Queue([letter("a", "j-queued"), letter("b", "j-done"), letter("c", None), letter("d", "j-gone"), letter("e", "j-retrying")])
    recorded: list[tuple[str, str, str]] = []
    verdicts = list(redrive([(queue, queue.letters(100))], JOBS.get, record_dispatch=lambda *args: recorded.append(args)))
    assert [v.action for v in verdicts] == [Action.REDRIVE, Action.SKIP, Action.SKIP, Action.SKIP, Action.REDRIVE]
    assert queue.redriven == ["a", "e"] and queue.released == ["b", "c", "d"] and not queue.dropped
    assert recorded == [("j-queued", "sqs", "msg-a"), ("j-retrying", "sqs", "msg-e")]
    assert verdicts[1].job_status == "succeeded" and verdicts[2].letter.job_id is None


def test_a_failing_letter_is_said_and_left_and_the_next_goes_on() -> None:
    queue = Queue([letter("a", "j-queued"), letter("e", "j-retrying")], fail_on="a")
    verdicts = list(redrive([(queue, queue.letters(100))], JOBS.get))
    assert verdicts[0].error == "ConnectionError: queue unreachable" and verdicts[0].message_id is None
    assert queue.redriven == ["e"] and queue.released == ["a"]


def test_a_dry_run_changes_nothing_and_drop_finished_deletes_only_finished_letters() -> None:
    dry = Queue([letter("a", "j-queued"), letter("b", "j-done")])
    assert [v.action for v in redrive([(dry, dry.letters(100))], JOBS.get, dry_run=True, drop_finished=True)] == [Action.REDRIVE, Action.DROP]
    assert not dry.redriven and not dry.dropped and dry.released == ["a", "b"]
    wet = Queue([letter("a", "j-queued"), letter("b", "j-done")])
    list(redrive([(wet, wet.letters(100))], JOBS.get, drop_finished=True))
    assert wet.redriven == ["a"] and wet.dropped == ["b"] and wet.released == []
