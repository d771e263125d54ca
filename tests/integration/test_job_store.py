"""The job record's conditional writes, against DynamoDB (moto in server mode)."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from courier.errors import CourierError, InvalidInput, NotFound
from courier.jobs.models import Job, JobError, JobStatus, utc_now
from courier.jobs.store import JobStore, new_job_id
from devstack.aws_resources import create_resources
from infra.config import CourierConfig


@pytest.fixture
def store(aws: str) -> JobStore:
    return JobStore(create_resources(CourierConfig(stage="store")).table_name)


def new_job(store: JobStore, tenant: str = "acme", key: str | None = None) -> Job:
    now = utc_now()
    job, _ = store.create(Job(new_job_id(), tenant, "text.hash", JobStatus.QUEUED, {"text": "x"}, now, now, idempotency_key=key))
    return job


def test_concurrent_claims_let_exactly_one_run(store: JobStore) -> None:
    job = new_job(store)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: store.claim(job.job_id, 60), range(8)))
    assert sorted(c.kind for c in claims) == ["busy"] * 7 + ["claimed"]
    assert all(c.retry_after and c.retry_after > 50 for c in claims if c.kind == "busy")
    assert store.get(job.job_id).attempts == 1


def test_claims_stay_exclusive_under_stress(store: JobStore) -> None:
    """50 trials of 8 concurrent claims, on the local AWS the local stack also runs: a
    non-atomic server (plain moto) lets 2-3 win in about one trial in seven."""
    winners = []
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for _ in range(50):
            job, start = new_job(store), threading.Barrier(8)

            def claim(_: int) -> str:
                start.wait()  # all eight requests leave together
                return store.claim(job.job_id, 60).kind

            kinds = list(pool.map(claim, range(8)))
            winners.append(kinds.count("claimed"))
            assert store.get(job.job_id).attempts == 1
    assert winners == [1] * 50


def test_finished_jobs_are_never_claimed_again(store: JobStore) -> None:
    job = new_job(store)
    claim = store.claim(job.job_id, 60)
    assert store.finish(claim.job, JobStatus.SUCCEEDED, result={"ok": True}).status is JobStatus.SUCCEEDED
    again = store.claim(job.job_id, 60)
    assert again.kind == "finished" and again.job.result == {"ok": True} and again.job.attempts == 1


def test_an_expired_lease_can_be_taken_over_and_the_old_run_cannot_finish(store: JobStore) -> None:
    job = new_job(store)
    first = store.claim(job.job_id, 0.2)
    time.sleep(0.3)
    second = store.claim(job.job_id, 60)
    assert second.kind == "claimed" and second.job.attempts == 2
    assert store.finish(first.job, JobStatus.SUCCEEDED, result={"from": "old"}) is None  # lost its lease
    assert store.finish(second.job, JobStatus.SUCCEEDED, result={"from": "new"}).result == {"from": "new"}


def test_mark_dead_waits_for_a_live_run(store: JobStore) -> None:
    job = new_job(store)
    store.claim(job.job_id, 60)
    error = JobError("retries_exhausted", "gave up", False)
    assert store.mark_dead(job.job_id, error) is None  # a live run decides
    other = new_job(store)
    dead = store.mark_dead(other.job_id, error, {"status": 500, "body": "x"})
    assert dead.status is JobStatus.DEAD and dead.last_response == {"status": 500, "body": "x"} and dead.finished_at


def test_idempotency_keys_are_per_tenant(store: JobStore) -> None:
    first = new_job(store, key="k1")
    now = utc_now()
    same, created = store.create(Job(new_job_id(), "acme", "text.hash", JobStatus.QUEUED, {}, now, now, idempotency_key="k1"))
    assert not created and same.job_id == first.job_id
    other = new_job(store, tenant="globex", key="k1")
    assert other.job_id != first.job_id


def test_requeue_and_cancel_rules(store: JobStore) -> None:
    job = new_job(store)
    with pytest.raises(CourierError) as caught:
        store.requeue("acme", job.job_id)
    assert caught.value.status == 409
    claim = store.claim(job.job_id, 60)
    store.finish(claim.job, JobStatus.FAILED, error=JobError("bad", "bad input", False))
    requeued = store.requeue("acme", job.job_id)
    assert requeued.status is JobStatus.QUEUED and requeued.error is None and requeued.finished_at is None
    with pytest.raises(NotFound):
        store.cancel("globex", job.job_id)
    assert store.cancel("acme", job.job_id).status is JobStatus.CANCELLED
    assert store.claim(job.job_id, 60).kind == "finished"


def test_list_by_status_newest_first_with_cursor(store: JobStore) -> None:
    jobs = [new_job(store) for _ in range(5)]
    new_job(store, tenant="globex")
    page, cursor = store.list("acme", limit=2)
    rest, end = store.list("acme", cursor=cursor, limit=10)
    assert [j.job_id for j in page + rest] == [j.job_id for j in reversed(jobs)] and end is None
    store.finish(store.claim(jobs[0].job_id, 60).job, JobStatus.SUCCEEDED, result={})
    done, _ = store.list("acme", status=JobStatus.SUCCEEDED)
    queued, _ = store.list("acme", status=JobStatus.QUEUED)
    assert [j.job_id for j in done] == [jobs[0].job_id] and len(queued) == 4
    with pytest.raises(InvalidInput):
        store.list("globex", cursor=cursor)  # a cursor never crosses tenants
