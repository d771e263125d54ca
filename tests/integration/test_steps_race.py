"""Durable steps under real concurrency, on both stores (DynamoDB on the atomic local AWS):
many trials of a job waiting for a step's retry, woken by 8 deliveries released together. Each step's code
must run exactly once per trial, counted by the calls the handler's functions receive."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from courier.errors import NonRetryable, RetryAfter
from courier.jobs.context import JobContext
from courier.jobs.dynamodb_store import DynamoJobStore
from courier.jobs.memory_store import MemoryJobStore
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.notify import Notifier
from courier.jobs.registry import JobRegistry
from courier.jobs.runner import JobRunner
from courier.jobs.steps import MAX_STEP_RESULT_BYTES
from courier.jobs.store import JobStore, new_job_id
from devstack.aws_resources import create_resources
from infra.config import CourierConfig
from tests.support.memory_runner import any_result

TRIALS = 20
DELIVERIES = 8


class Wakes:
    def wake_later(self, job: Job, until_ms: int, link: int) -> None:
        pass  # the test delivers the wake-ups itself

    def release(self, job: Job) -> Job:
        return job


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> JobStore:
    if request.param == "memory":
        return MemoryJobStore()
    request.getfixturevalue("aws")
    return DynamoJobStore(create_resources(CourierConfig(stage="steps")).table_name)


def runner_of(store: JobStore, handler: Any) -> JobRunner:
    registry = JobRegistry()
    registry.register("demo.steps")(handler)
    notifier = Notifier(None, lambda: None, log=store)  # type: ignore[arg-type, return-value]
    return JobRunner(registry, store, notifier=notifier, bucket=None, lease_seconds=30, wakes=Wakes(), job_types=any_result("demo.steps"))


def test_concurrent_wake_ups_run_each_step_once(store: JobStore) -> None:
    ran: Counter[tuple[str, str]] = Counter()
    counting = threading.Lock()

    def count(job_id: str, step: str) -> str:
        with counting:
            ran[(job_id, step)] += 1
        return step

    def flaky(job_id: str) -> str:
        count(job_id, "flaky")
        if ran[(job_id, "flaky")] == 1:
            raise RetryAfter(0, "once")  # the job waits for its retry, due at once
        return "flaky"

    def handler(context: JobContext[Any]) -> dict[str, Any]:
        context.step("before", count, context.job_id, "before")
        context.step("flaky", flaky, context.job_id)
        return {"after": context.step("after", count, context.job_id, "after")}

    runner = runner_of(store, handler)
    for _ in range(TRIALS):
        now = utc_now()
        job = store.create(Job(new_job_id(), "acme", "demo.steps", JobStatus.QUEUED, {"steps": [{"name": "scripted elsewhere"}]}, now, now))[0]
        runner.run(JobMessage(jobId=job.job_id, type=job.type).to_json())
        waiting = store.get(job.job_id)
        assert waiting is not None and waiting.status is JobStatus.WAITING
        gate = threading.Barrier(DELIVERIES)
        wake = JobMessage(jobId=job.job_id, type=job.type, wake=1).to_json()

        def deliver(_: int, message: str = wake, barrier: threading.Barrier = gate) -> Any:
            barrier.wait()
            return runner.run(message)

        with ThreadPoolExecutor(DELIVERIES) as pool:
            list(pool.map(deliver, range(DELIVERIES)))
        done = store.get(job.job_id)
        assert done is not None and done.status is JobStatus.SUCCEEDED
        assert [ran[(job.job_id, step)] for step in ("before", "flaky", "after")] == [1, 2, 1]


def test_an_oversized_step_result_is_a_clear_error_and_nothing_half_kept(store: JobStore) -> None:
    def handler(context: JobContext[Any]) -> dict[str, Any]:
        context.step("huge", lambda: "x" * (MAX_STEP_RESULT_BYTES + 1))
        return {}

    runner = runner_of(store, handler)
    now = utc_now()
    job = store.create(Job(new_job_id(), "acme", "demo.steps", JobStatus.QUEUED, {"steps": [{"name": "scripted elsewhere"}]}, now, now))[0]
    outcome = runner.run(JobMessage(jobId=job.job_id, type=job.type).to_json())
    assert outcome.error is not None and outcome.error.code == "step_result_too_large" and not outcome.error.retryable
    assert isinstance(outcome.error, NonRetryable)
    failed = store.get(job.job_id)
    assert failed is not None and failed.status is JobStatus.FAILED and store.steps(job.job_id) == []
