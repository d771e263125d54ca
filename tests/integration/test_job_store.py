"""The job store's promise, kept by both stores: DynamoDB's conditional writes (the local
AWS, moto in server mode) and the in-memory store the pure tests use."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from courier.errors import CourierError, InvalidInput, NotFound
from courier.jobs.dynamodb_store import DynamoJobStore
from courier.jobs.lifecycle import Event
from courier.jobs.memory_store import MemoryJobStore
from courier.jobs.models import Job, JobError, JobStatus, utc_now
from courier.jobs.steps import Suspend
from courier.jobs.store import JobStore, new_job_id
from devstack.aws_resources import create_resources
from infra.config import CourierConfig


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> JobStore:
    if request.param == "memory":
        return MemoryJobStore()
    request.getfixturevalue("aws")
    return DynamoJobStore(create_resources(CourierConfig(stage="store")).table_name)


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

            def claim(_: int, start: threading.Barrier = start, job: Job = job) -> str:
                start.wait()  # all eight requests leave together
                return store.claim(job.job_id, 60).kind

            kinds = list(pool.map(claim, range(8)))
            winners.append(kinds.count("claimed"))
            assert store.get(job.job_id).attempts == 1
    assert winners == [1] * 50


def test_finished_jobs_are_never_claimed_again(store: JobStore) -> None:
    job = new_job(store)
    claim = store.claim(job.job_id, 60)
    assert store.finish(claim.job, Event.SUCCEED, result={"ok": True}).status is JobStatus.SUCCEEDED
    again = store.claim(job.job_id, 60)
    assert again.kind == "finished" and again.job.result == {"ok": True} and again.job.attempts == 1


def test_an_expired_lease_can_be_taken_over_and_the_old_run_cannot_finish(store: JobStore) -> None:
    job = new_job(store)
    first = store.claim(job.job_id, 0.2)
    time.sleep(0.3)
    second = store.claim(job.job_id, 60)
    assert second.kind == "claimed" and second.job.attempts == 2
    assert store.finish(first.job, Event.SUCCEED, result={"from": "old"}) is None  # lost its lease
    assert store.finish(second.job, Event.SUCCEED, result={"from": "new"}).result == {"from": "new"}


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
    store.finish(claim.job, Event.FAIL, error=JobError("bad", "bad input", False))
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
    store.finish(store.claim(jobs[0].job_id, 60).job, Event.SUCCEED, result={})
    done, _ = store.list("acme", status=JobStatus.SUCCEEDED)
    queued, _ = store.list("acme", status=JobStatus.QUEUED)
    assert [j.job_id for j in done] == [jobs[0].job_id] and len(queued) == 4
    with pytest.raises(InvalidInput):
        store.list("globex", cursor=cursor)  # a cursor never crosses tenants


# --- the lifecycle, row by row, on both stores ---------------------------------------------
# (event, status, situation) -> the status after, or what the refusal is. Situations: "held"
# (the writer holds the live lease), "other" (a live lease that is not the writer's),
# "expired" (a lease past its time), "same"/"old" (QStash's word names the job's current
# message or an older one). Anything not listed is refused.
S = JobStatus
LIFECYCLE_SPEC: dict[tuple[Event, S, str], S | str] = {
    (Event.CLAIM, S.QUEUED, "-"): S.RUNNING,
    (Event.CLAIM, S.RETRYING, "-"): S.RUNNING,
    (Event.CLAIM, S.RUNNING, "other"): "busy",
    (Event.CLAIM, S.RUNNING, "expired"): S.RUNNING,
    **{(Event.CLAIM, s, "-"): "finished" for s in (S.SUCCEEDED, S.FAILED, S.DEAD, S.CANCELLED)},
    (Event.SUCCEED, S.RUNNING, "held"): S.SUCCEEDED,
    (Event.RETRY, S.RUNNING, "held"): S.RETRYING,
    (Event.FAIL, S.RUNNING, "held"): S.FAILED,
    (Event.EXHAUST, S.RUNNING, "held"): S.DEAD,
    (Event.GIVE_UP, S.QUEUED, "same"): S.DEAD,
    (Event.GIVE_UP, S.RETRYING, "same"): S.DEAD,
    (Event.GIVE_UP, S.RUNNING, "expired"): S.DEAD,
    (Event.UNDISPATCHED, S.QUEUED, "-"): S.FAILED,
    (Event.REQUEUE, S.FAILED, "-"): S.QUEUED,
    (Event.REQUEUE, S.DEAD, "-"): S.QUEUED,
    (Event.CANCEL, S.QUEUED, "-"): S.CANCELLED,
    (Event.CLAIM, S.WAITING, "open"): "waiting",
    (Event.CLAIM, S.WAITING, "done"): "waiting",
    (Event.CLAIM, S.WAITING, "early"): "waiting",
    (Event.CLAIM, S.WAITING, "due"): S.RUNNING,
    **{(Event.CANCEL, S.WAITING, s): S.CANCELLED for s in ("open", "done", "early", "due")},
    (Event.WAIT, S.RUNNING, "held"): S.WAITING,
    (Event.SUSPEND, S.RUNNING, "held"): S.WAITING,
    (Event.RESUME, S.WAITING, "done"): S.QUEUED,
    (Event.NUDGE, S.WAITING, "key"): S.QUEUED,
}
RUN_ENDS = (Event.SUCCEED, Event.RETRY, Event.FAIL, Event.EXHAUST, Event.WAIT, Event.SUSPEND)
RUN_SITUATIONS = {Event.CLAIM: ("other", "expired"), Event.GIVE_UP: ("other", "expired"),
                  **{e: ("held", "other", "expired") for e in RUN_ENDS}}
IDLE_SITUATIONS = {Event.GIVE_UP: ("same", "old"), **{e: ("held",) for e in RUN_ENDS}}
#: A waiting job with a child still open, or with every child counted; or one of steps, whose
#: wake-up is due or not yet, waiting for the event the writer names or another.
WAITING_SITUATIONS = {**IDLE_SITUATIONS, **{e: ("open", "done", "early", "due") for e in Event if e not in IDLE_SITUATIONS},
                      Event.NUDGE: ("key", "other_key")}


def _situations(status: JobStatus) -> dict[Event, tuple[str, ...]]:
    return RUN_SITUATIONS if status is S.RUNNING else WAITING_SITUATIONS if status is S.WAITING else IDLE_SITUATIONS


CASES = [(event, status, situation) for event in Event for status in S for situation in _situations(status).get(event, ("-",))]


def _job_in(store: JobStore, status: JobStatus, situation: str) -> Job:
    now, at = utc_now(), int(time.time() * 1000)
    lease = {"expired": at - 1000}.get(situation, at + 60_000) if status is S.RUNNING else None
    fan_out = status is S.WAITING and situation in ("open", "done")
    job = Job(new_job_id(), "acme", "text.hash", status, {"text": "x"}, now, now, message_id="msg_current",
              lease_until=lease, lease_token="token" if status is S.RUNNING else None,
              children=["job_child"] if fan_out else None, children_open=["job_child"] if situation == "open" else None,
              wake_at={"due": at - 1000, "early": at + 60_000, "key": at + 60_000, "other_key": at + 60_000}.get(situation),
              wait_key="k" if situation in ("key", "other_key") else None)
    return store.create(job)[0]


def _take(store: JobStore, event: Event, job: Job, situation: str) -> JobStatus | str | None:
    """Ask for `event` through the store's public API; the status after, or the refusal."""
    error = JobError("e", "e", True)
    if event is Event.CLAIM:
        claim = store.claim(job.job_id, 60)
        return claim.job.status if claim.kind == "claimed" else claim.kind
    if event in RUN_ENDS:
        writer = job if situation == "held" else Job(**{**job.__dict__, "lease_token": "not-mine"})
        if event is Event.WAIT:
            waiting = store.wait_for_children(writer, ["job_child"])
            return waiting.status if waiting else None
        if event is Event.SUSPEND:
            suspended = store.suspend(writer, Suspend("sleep", "nap", int(time.time() * 1000) + 1000), 1)
            return suspended.status if suspended else None
        done = store.finish(writer, event, error=None if event is Event.SUCCEED else error)
        return done.status if done else None
    if event is Event.RESUME:
        resumed = store.resume(job.job_id)
        return resumed.status if resumed else None
    if event is Event.NUDGE:
        nudged = store.nudge(job.job_id, "k" if situation == "key" else "other")
        return nudged.status if nudged else None
    if event is Event.GIVE_UP:
        dead = store.mark_dead(job.job_id, error, message_id="msg_old" if situation == "old" else "msg_current")
        return dead.status if dead else None
    try:
        if event is Event.UNDISPATCHED:
            return store.mark_undispatched(job, error).status
        return (store.requeue if event is Event.REQUEUE else store.cancel)("acme", job.job_id).status
    except CourierError as refused:
        return None if refused.status == 409 else refused.code


def test_every_transition_the_lifecycle_allows_and_only_those(store: JobStore) -> None:
    """Every event from every status, in every situation its guards tell apart."""
    wrong = []
    for event, status, situation in CASES:
        job = _job_in(store, status, situation)
        after = _take(store, event, job, situation)
        stored = store.get(job.job_id)
        expected = LIFECYCLE_SPEC.get((event, status, situation))
        kept = stored is not None and stored.status is (after if isinstance(after, JobStatus) else status)
        if after != expected or not kept:
            wrong.append(f"{event.value} from {status.value} ({situation}): {after}, expected {expected}")
    assert len(CASES) == 141 and not wrong, wrong


def test_progress_is_written_only_by_the_run_that_holds_the_job(store: JobStore) -> None:
    job = new_job(store)
    assert store.record_progress(job, {"stage": "scan", "fraction": 0.1}) is False  # queued: no run yet
    first = store.claim(job.job_id, 0.2).job
    assert store.record_progress(first, {"stage": "scan", "fraction": 0.2}) is True
    time.sleep(0.3)  # the first run's lease runs out; a new delivery takes the job
    second = store.claim(job.job_id, 60).job
    assert store.record_progress(first, {"stage": "scan", "fraction": 0.9}) is False
    assert store.record_progress(second, {"stage": "scan", "fraction": 0.3}) is True
    stored = store.get(job.job_id)
    assert stored is not None and stored.progress == {"stage": "scan", "fraction": 0.3}
    done = store.finish(second, Event.SUCCEED, result={}, progress={"stage": "done", "fraction": 1.0})
    assert done is not None and done.progress == {"stage": "done", "fraction": 1.0}
    assert store.record_progress(second, {"stage": "late", "fraction": 1.0}) is False
