"""The job lifecycle's decisions, table by table, without AWS: the runner over the in-memory
store, the worker adapter's answers to QStash and SQS, the dispatcher's choice of queue."""

from __future__ import annotations

from typing import Any

import pytest

from courier.adapters.worker import NON_RETRYABLE_STATUS, qstash_answer, sqs_reports_failure
from courier.errors import CourierError
from courier.jobs import lifecycle
from courier.jobs.context import JobContext
from courier.jobs.dispatch import transports
from courier.jobs.lifecycle import TRANSITIONS, Event
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.runner import Outcome, Verdict, attempt_ending, claim_verdict
from courier.jobs.store import Claim, new_job_id
from tests.support.memory_runner import deliver, memory_runner

S = JobStatus
RETRYABLE = CourierError("upstream 503", code="upstream_unavailable")
PERMANENT = CourierError("bad input", code="invalid_input", status=400, retryable=False)


# --- the table itself ----------------------------------------------------------------------
def test_each_event_leads_to_one_status_and_finished_jobs_leave_only_by_requeue() -> None:
    for event in Event:
        assert lifecycle.transitions(event), f"{event} has no row"
        lifecycle.target(event)  # raises when an event's rows disagree on where it leads
    leaving_finished = {t.event for t in TRANSITIONS if any(s.terminal for s in t.sources)}
    assert leaving_finished == {Event.REQUEUE}
    assert {t.target for t in TRANSITIONS} | {S.QUEUED} == set(S)  # every status is reachable
    # A run ends with a result or an error (finish), by waiting for the children it started,
    # or suspended (a sleep, a step's backoff, an event).
    assert lifecycle.RUN_ENDINGS | {Event.WAIT, Event.SUSPEND} == {e for e in Event if lifecycle.sources(e) == {S.RUNNING}}


def test_describe_is_the_table_in_words() -> None:
    rows = lifecycle.describe()
    assert len(rows) == len(TRANSITIONS)
    assert [r[:4] for r in rows if r[0] == "claim"] == [("claim", "queued, retrying", "running", "-"),
                                                        ("claim", "running", "running", "lease_expired"),
                                                        ("claim", "waiting", "running", "wake_due")]
    assert ("give_up", "queued, retrying", "dead", "same_message") in [r[:4] for r in rows]
    assert all(why for *_, why in rows)  # every row says why it exists


# --- the runner's decisions ------------------------------------------------------------------
@pytest.mark.parametrize(
    "error, last_attempt, event, verdict",
    [
        (None, False, Event.SUCCEED, Verdict.DONE),
        (None, True, Event.SUCCEED, Verdict.DONE),
        (RETRYABLE, False, Event.RETRY, Verdict.RETRY),
        (RETRYABLE, True, Event.EXHAUST, Verdict.RETRY),  # reported, so SQS moves it to the DLQ
        (PERMANENT, False, Event.FAIL, Verdict.REJECT),
        (PERMANENT, True, Event.FAIL, Verdict.REJECT),
    ],
)
def test_how_an_attempt_ends(error: CourierError | None, last_attempt: bool, event: Event, verdict: Verdict) -> None:
    assert attempt_ending(error, last_attempt=last_attempt) == (event, verdict)


def _job(status: S = S.QUEUED) -> Job:
    """A job not yet stored (the store's `create` takes it)."""
    now = utc_now()
    return Job(new_job_id(), "acme", "demo.sleep", status, {"seconds": 0}, now, now)


@pytest.mark.parametrize("kind, verdict", [("claimed", None), ("finished", Verdict.DONE), ("busy", Verdict.RETRY)])
def test_what_a_delivery_that_found_the_job_does(kind: str, verdict: Verdict | None) -> None:
    assert claim_verdict(Claim(kind, _job())) is verdict  # type: ignore[arg-type]


class _Flaky:
    """A handler that fails `times` times with `error`, then succeeds."""

    def __init__(self, times: int, error: CourierError) -> None:
        self.left, self.error, self.calls = times, error, 0

    def __call__(self, context: JobContext) -> dict[str, Any]:
        self.calls += 1
        if self.left:
            self.left -= 1
            raise self.error
        return {"attempt": context.attempt}


@pytest.mark.parametrize(
    "failures, error, deliveries, statuses, verdicts",
    [
        (0, RETRYABLE, 1, [S.SUCCEEDED], [Verdict.DONE]),
        (2, RETRYABLE, 3, [S.RETRYING, S.RETRYING, S.SUCCEEDED], [Verdict.RETRY, Verdict.RETRY, Verdict.DONE]),
        (1, PERMANENT, 1, [S.FAILED], [Verdict.REJECT]),
        (9, RETRYABLE, 3, [S.RETRYING, S.RETRYING, S.DEAD], [Verdict.RETRY, Verdict.RETRY, Verdict.RETRY]),
    ],
)
def test_the_runner_walks_the_lifecycle(failures: int, error: CourierError, deliveries: int,
                                        statuses: list[S], verdicts: list[Verdict]) -> None:
    handler = _Flaky(failures, error)
    runner, store = memory_runner(handler)
    job, _ = store.create(_job())
    outcomes = [deliver(runner, job, last=n == deliveries - 1 and failures >= deliveries) for n in range(deliveries)]
    assert [o.verdict for o in outcomes] == verdicts
    assert [o.status for o in outcomes] == statuses
    final = store.get(job.job_id)
    assert final is not None and final.status is statuses[-1] and final.attempts == deliveries
    assert [event for _, event, _, _ in store.history][::2] == [Event.CLAIM] * deliveries
    if final.status is S.DEAD:
        assert final.error is not None and final.error.code == "retries_exhausted" and not final.error.retryable


def test_a_finished_or_cancelled_job_is_acknowledged_without_running() -> None:
    handler = _Flaky(0, RETRYABLE)
    runner, store = memory_runner(handler)
    done, _ = store.create(_job())
    deliver(runner, done)
    cancelled, _ = store.create(_job())
    store.cancel("acme", cancelled.job_id)
    again = [deliver(runner, done), deliver(runner, cancelled)]
    assert [o.verdict for o in again] == [Verdict.DONE, Verdict.DONE] and handler.calls == 1
    assert [o.status for o in again] == [S.SUCCEEDED, S.CANCELLED]


def test_a_job_running_elsewhere_comes_back_after_its_lease() -> None:
    runner, store = memory_runner(_Flaky(0, RETRYABLE))
    job, _ = store.create(_job())
    store.claim(job.job_id, 60)  # another delivery holds it
    outcome = deliver(runner, job)
    assert outcome.verdict is Verdict.RETRY and outcome.error is not None
    assert outcome.error.code == "job_running" and outcome.error.retry_after and outcome.error.retry_after > 50


def test_an_unknown_job_is_rejected_for_good() -> None:
    runner, _ = memory_runner(_Flaky(0, RETRYABLE))
    outcome = deliver(runner, _job())  # never stored
    assert outcome.verdict is Verdict.REJECT and outcome.error is not None and outcome.error.code == "job_not_found"


# --- what the transports are told -----------------------------------------------------------
BUSY = CourierError("running elsewhere", code="job_running", status=503, retry_after=42.4)


@pytest.mark.parametrize(
    "outcome, status, headers, sqs_reported",
    [
        (Outcome(Verdict.DONE, "job_1", S.SUCCEEDED), 200, {}, False),
        (Outcome(Verdict.DONE, "job_1"), 200, {}, False),
        (Outcome(Verdict.RETRY, "job_1", S.RETRYING, RETRYABLE), 500, {}, True),
        (Outcome(Verdict.RETRY, "job_1", S.RUNNING, BUSY), 503, {"Retry-After": "42"}, True),
        (Outcome(Verdict.RETRY, "job_1", S.DEAD, CourierError("x", status=400)), 503, {}, True),
        (Outcome(Verdict.REJECT, "job_1", S.FAILED, PERMANENT), NON_RETRYABLE_STATUS, {"Upstash-NonRetryable-Error": "true"}, False),
    ],
)
def test_what_qstash_and_sqs_are_told(outcome: Outcome, status: int, headers: dict[str, str], sqs_reported: bool) -> None:
    answered, body, sent_headers = qstash_answer(outcome)
    assert (answered, sent_headers) == (status, headers)
    assert ("error" in body) is (outcome.verdict is not Verdict.DONE)
    assert sqs_reports_failure(outcome) is sqs_reported


@pytest.mark.parametrize("mode, order", [("auto", ("qstash", "sqs")), ("qstash", ("qstash",)), ("sqs", ("sqs",))])
def test_which_queues_a_job_may_take(mode: str, order: tuple[str, ...]) -> None:
    assert transports(mode) == order  # type: ignore[arg-type]
