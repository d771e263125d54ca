"""Progress on the job record: throttled to a write a second, only while the run holds the
job, the last report kept by the run's final write."""

from __future__ import annotations

from typing import Any

from courier.errors import NonRetryable
from courier.jobs.context import JobContext
from courier.jobs.memory_store import MemoryJobStore
from courier.jobs.models import Job, JobStatus
from courier.jobs.progress import ProgressReporter
from courier.jobs.views import JobView
from tests.support.memory_runner import deliver, memory_runner, queued


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def claimed(store: MemoryJobStore, lease_seconds: float = 60) -> Job:
    return store.claim(queued(store).job_id, lease_seconds).job


def test_at_most_one_write_a_second_and_the_latest_kept() -> None:
    store, clock = MemoryJobStore(), Clock()
    job = claimed(store)
    report = ProgressReporter(store, job, clock=clock)
    for n in range(10):
        report("scan", n / 10)
        clock.now += 0.05
    stored = store.get(job.job_id)
    assert store.progress_writes == 1 and stored is not None and stored.progress and stored.progress["fraction"] == 0.0
    assert report.pending is not None and report.pending["fraction"] == 0.9
    clock.now += 1.0
    report("keyframes", 0.2, "x" * 900)
    stored = store.get(job.job_id)
    assert store.progress_writes == 2 and stored is not None and stored.progress
    assert stored.progress["stage"] == "keyframes" and len(stored.progress["message"]) == 500 and report.pending is None


def test_fractions_are_clamped() -> None:
    store, clock = MemoryJobStore(), Clock()
    job = claimed(store)
    ProgressReporter(store, job, clock=clock)("scan", 7)
    stored = store.get(job.job_id)
    assert stored is not None and stored.progress and stored.progress["fraction"] == 1.0


def test_a_run_that_lost_its_lease_reports_nothing() -> None:
    store = MemoryJobStore()
    old = claimed(store, lease_seconds=-1)  # expired at once: the next delivery takes the job
    new = store.claim(old.job_id, 60).job
    ProgressReporter(store, old)("scan", 0.5)
    ProgressReporter(store, new)("scan", 0.1)
    stored = store.get(old.job_id)
    assert store.progress_writes == 1 and stored is not None and stored.progress and stored.progress["fraction"] == 0.1


def test_the_runner_ends_the_record_on_the_last_report() -> None:
    def chatty(context: JobContext) -> dict[str, Any]:
        for n in range(1, 101):
            context.progress("work", n / 100)
        return {"ok": True}

    runner, store = memory_runner(chatty)
    job = queued(store)
    deliver(runner, job)
    final = store.get(job.job_id)
    assert final is not None and final.status is JobStatus.SUCCEEDED
    assert store.progress_writes == 1 and final.progress and final.progress["fraction"] == 1.0
    assert JobView.of(final)["progress"]["stage"] == "done"


def test_a_job_that_succeeds_is_done_whatever_its_last_report_and_a_failed_one_keeps_where_it_stopped() -> None:
    """A handler that reported `sleeping 93%` or `requesting 0%` and then returned: the CLI and
    the console showed that stale bar on a succeeded job."""
    def stops_early(context: JobContext) -> dict[str, Any]:
        context.progress("sleeping", 0.93)
        return {"ok": True}

    def gives_up(context: JobContext) -> dict[str, Any]:
        context.progress("sleeping", 0.93)
        raise NonRetryable("the input is wrong")

    for handler, status, shown in ((stops_early, JobStatus.SUCCEEDED, ("done", 1.0)), (gives_up, JobStatus.FAILED, ("sleeping", 0.93))):
        runner, store = memory_runner(handler)
        job = queued(store)
        deliver(runner, job)
        final = store.get(job.job_id)
        assert final is not None and final.status is status
        assert final.progress is not None and (final.progress["stage"], final.progress["fraction"]) == shown
