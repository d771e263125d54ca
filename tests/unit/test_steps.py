"""Durable steps' rules without AWS: the runner over the in-memory store (which checks the
same lifecycle rows as DynamoDB), with the wake-ups it would send written down."""

from __future__ import annotations

from typing import Any

from courier.errors import RetryAfter
from courier.jobs.context import JobContext
from courier.jobs.memory_store import MemoryJobStore
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobStatus
from courier.jobs.runner import JobRunner, Verdict
from courier.jobs.steps import StepRecord
from courier.jobs.store import now_ms
from tests.support.memory_runner import deliver, memory_runner, queued


class Wakes:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, int]] = []
        self.released: list[str] = []

    def wake_later(self, job: Job, until_ms: int, link: int) -> None:
        self.sent.append((job.job_id, until_ms, link))

    def release(self, job: Job) -> Job:
        self.released.append(job.job_id)
        return job


def runner_for(handler: Any) -> tuple[JobRunner, MemoryJobStore, Wakes]:
    runner, store = memory_runner(handler)
    wakes = Wakes()
    runner.wakes = wakes
    return runner, store, wakes


def wake(runner: JobRunner, job: Job, link: int) -> Any:
    return runner.run(JobMessage(jobId=job.job_id, type=job.type, wake=link).to_json())


def test_a_renamed_step_fails_clearly_instead_of_taking_another_steps_result() -> None:
    calls: list[str] = []
    names = ["fetch", "scan"]

    def handler(context: JobContext[Any]) -> dict[str, Any]:
        first = context.step(names[0], lambda: calls.append("first") or 1)
        context.step(names[1], _fails_once, calls)
        return {"first": first}

    runner, store, wakes = runner_for(handler)
    job = queued(store)
    assert deliver(runner, job).verdict is Verdict.DONE  # the second step's retry waits
    waiting = store.get(job.job_id)
    assert waiting is not None and waiting.status is JobStatus.WAITING and waiting.waiting_for["kind"] == "retry"
    assert wakes.sent and wakes.sent[0][2] == 1
    names[0] = "download"  # the handler changed before its next run
    outcome = wake(runner, job, 1)
    assert outcome.verdict is Verdict.REJECT and outcome.error is not None and outcome.error.code == "steps_changed"
    assert "was run 'fetch', now run 'download'" in outcome.error.message and calls == ["first", "scan"]


def _fails_once(calls: list[str]) -> int:
    calls.append("scan")
    if calls.count("scan") == 1:
        raise RetryAfter(0, "not yet")
    return 2


def test_a_recorded_step_is_never_run_again_and_its_result_comes_back() -> None:
    runs: list[int] = []

    def handler(context: JobContext[Any]) -> dict[str, Any]:
        value = context.step("count", lambda: runs.append(1) or {"n": len(runs)})
        later = context.step("later", _fails_once, [])  # a fresh list each run: fails every first call
        return {"value": value, "later": later}

    runner, store, wakes = runner_for(handler)
    job = queued(store)
    for link in range(1, 4):
        wake(runner, job, link) if link > 1 else deliver(runner, job)
    assert runs == [1]  # the first step ran once across three runs
    assert [r.name for r in store.steps(job.job_id)] == ["count", "later"]
    assert store.steps(job.job_id)[1].attempts == 3


def test_a_run_that_lost_its_lease_records_no_step() -> None:
    def handler(context: JobContext[Any]) -> dict[str, Any]:
        stored = store.get(context.job_id)
        assert stored is not None
        stored_lease_taken(store, context.job_id)
        return {"v": context.step("only", lambda: 1)}

    runner, store, _ = runner_for(handler)
    job = queued(store)
    assert deliver(runner, job).verdict is Verdict.DONE
    assert store.steps(job.job_id) == []


def stored_lease_taken(store: MemoryJobStore, job_id: str) -> None:
    """Another delivery took the job over (its lease ran out, say)."""
    store._jobs[job_id].lease_token = "someone-else"


def test_an_early_wake_up_passes_the_chain_on_once_and_a_stale_one_wakes_nothing() -> None:
    def handler(context: JobContext[Any]) -> dict[str, Any]:
        context.sleep("nap", 3600)
        return {}

    runner, store, wakes = runner_for(handler)
    job = queued(store)
    deliver(runner, job)
    assert [link for *_, link in wakes.sent] == [1]
    wake(runner, job, 1)  # an SQS delay ended 900 s in: the next link goes out
    wake(runner, job, 1)  # its duplicate: passes nothing on
    wake(runner, job, 7)  # a stale one
    assert [link for *_, link in wakes.sent] == [1, 2]  # the duplicate and the stale one send nothing
    stored = store.get(job.job_id)
    assert stored is not None and stored.status is JobStatus.WAITING and stored.wake_link == 2
    assert stored.wake_at is not None and stored.wake_at > now_ms() + 3500_000


def test_step_records_round_trip() -> None:
    record = StepRecord(3, "scan", "run", "failed", 2, error={"code": "x", "message": "y", "retryable": True})
    assert StepRecord.from_dict(record.to_dict()) == record
    assert record.view() == {"name": "scan", "kind": "run", "status": "failed", "attempts": 2, "error": record.error}
