"""The job runner over the in-memory store, for tests of the runner's decisions without AWS."""

from __future__ import annotations

from dataclasses import replace

from courier.jobs import catalog
from courier.jobs.context import JobHandler
from courier.jobs.memory_store import MemoryJobStore
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.notify import Notifier
from courier.jobs.registry import JobRegistry
from courier.jobs.runner import JobRunner, Outcome
from courier.jobs.store import new_job_id

JOB_TYPE = "demo.sleep"


def memory_runner(handler: JobHandler, job_types: catalog.Catalog | None = None) -> tuple[JobRunner, MemoryJobStore]:
    """A runner whose one job type runs `handler`, returning what it likes (its declared
    result dropped, unless `job_types` says otherwise); no callbacks (the jobs have none)."""
    registry = JobRegistry()
    registry.register(JOB_TYPE)(handler)
    store = MemoryJobStore()
    notifier = Notifier(None, lambda: None, log=store)  # type: ignore[arg-type, return-value]
    return JobRunner(registry, store, notifier=notifier, bucket=None, lease_seconds=60,
                     job_types=job_types or any_result(JOB_TYPE)), store


def any_result(job_type: str) -> catalog.Catalog:
    """The catalogue with `job_type`'s declared result dropped: a test's handler returns what it likes."""
    loaded = catalog.load()
    return catalog.Catalog.of(loaded.workers, [replace(t, result=None) if t.name == job_type else t for t in loaded.job_types])


def queued(store: MemoryJobStore, status: JobStatus = JobStatus.QUEUED) -> Job:
    now = utc_now()
    return store.create(Job(new_job_id(), "acme", JOB_TYPE, status, {"seconds": 0}, now, now))[0]


def deliver(runner: JobRunner, job: Job, *, last: bool = False) -> Outcome:
    return runner.run(JobMessage(jobId=job.job_id, type=job.type).to_json(), last_attempt=last)
