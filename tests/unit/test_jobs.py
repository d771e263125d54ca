"""Job messages, the type registry, and how a run's failure becomes a verdict."""

from __future__ import annotations

import pytest

from courier.errors import CourierError, InvalidInput, NotImplementedYet
from courier.jobs.execution import Verdict, run_message
from courier.jobs.messages import JobMessage
from courier.jobs.registry import JobRegistry


def make_registry(behaviour):
    registry = JobRegistry()
    registry.register("demo.echo")(behaviour)
    return registry


def test_message_round_trip() -> None:
    message = JobMessage.parse('{"jobId": "j-1", "type": "demo.echo", "extra": 1}')
    assert (message.job_id, message.type) == ("j-1", "demo.echo")
    assert JobMessage.parse(message.to_json()) == message


@pytest.mark.parametrize("body", ["", "not json", "[]", '{"type": "x"}', '{"jobId": "", "type": "x"}'])
def test_bad_message_is_invalid(body: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        JobMessage.parse(body)
    assert caught.value.code == "invalid_message"


def test_registry_refuses_duplicates_and_unknown_types() -> None:
    registry = make_registry(lambda m: {})
    with pytest.raises(ValueError):
        registry.register("demo.echo")(lambda m: {})
    with pytest.raises(InvalidInput) as caught:
        registry.handler_for("video.analyze")
    assert caught.value.code == "unknown_job_type"
    assert registry.job_types == ("demo.echo",)


def test_success_is_done() -> None:
    outcome = run_message(make_registry(lambda m: {"echo": m.job_id}), '{"jobId":"j-9","type":"demo.echo"}')
    assert outcome.verdict is Verdict.DONE and outcome.result == {"echo": "j-9"} and outcome.job_id == "j-9"


@pytest.mark.parametrize(
    "error, verdict",
    [
        (InvalidInput("bad"), Verdict.REJECT),
        (NotImplementedYet("later"), Verdict.RETRY),
        (CourierError("flaky", retryable=True), Verdict.RETRY),
        (RuntimeError("bug"), Verdict.RETRY),
    ],
)
def test_failures_become_verdicts(error: Exception, verdict: Verdict) -> None:
    def fail(message):
        raise error

    outcome = run_message(make_registry(fail), '{"jobId":"j-1","type":"demo.echo"}')
    assert outcome.verdict is verdict
    assert outcome.error is not None and outcome.job_id == "j-1"


def test_unexpected_errors_do_not_leak_details() -> None:
    def fail(message):
        raise RuntimeError("password=hunter2")

    outcome = run_message(make_registry(fail), '{"jobId":"j-1","type":"demo.echo"}')
    assert "hunter2" not in outcome.error.message
    assert outcome.error.to_body() == {"error": {"code": "internal_error", "message": "unexpected RuntimeError"}}


def test_unknown_type_and_garbage_are_rejected_not_retried() -> None:
    registry = make_registry(lambda m: {})
    assert run_message(registry, '{"jobId":"j","type":"nope"}').verdict is Verdict.REJECT
    assert run_message(registry, "garbage").verdict is Verdict.REJECT
