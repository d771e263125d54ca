"""Job messages, the type registry, job inputs and the built-in job types."""

from __future__ import annotations

import hashlib

import pytest

from courier.builtin.jobs import demo_sleep, text_hash
from courier.errors import CourierError, InvalidInput
from courier.jobs.catalog import load
from courier.jobs.context import JobContext
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobStatus
from courier.jobs.registry import JobRegistry


def context(job_type: str, data: dict, attempt: int = 1) -> JobContext:
    job = Job("job_1", "acme", job_type, JobStatus.RUNNING, data, "t", "t", attempts=attempt)
    return JobContext(job=job, input=load().validate_input(job_type, data), bucket=None)


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
    registry = JobRegistry.for_worker("ai_router")
    with pytest.raises(ValueError):
        registry.register("text.hash")(text_hash)
    with pytest.raises(InvalidInput) as caught:
        registry.handler_for("video.analyze")
    assert caught.value.code == "unknown_job_type"
    assert registry.job_types == ("ai.route", "batch.run", "demo.sleep", "demo.steps", "http.request", "text.hash")
    assert registry.handler_for("text.hash") is text_hash


@pytest.mark.parametrize(
    "job_type, data, problem",
    [
        ("text.hash", {}, "text"),
        ("text.hash", {"text": "x", "algorithm": "crc32"}, "algorithm"),
        ("demo.sleep", {"seconds": -1}, "seconds"),
        ("video.analyze", {}, "exactly one"),
        ("video.analyze", {"videoKey": "k", "videoUrl": "https://x/v.mp4"}, "exactly one"),
        ("video.analyze", {"videoUrl": "ftp://x/v.mp4"}, "https"),
        ("video.analyze", {"videoKey": "k", "options": {"maxKeyframes": 0}}, "maxKeyframes"),
        ("ai.route", {"type": "generation"}, "prompt or messages"),
        ("text.hash", {"text": "x", "unexpected": True}, "unexpected"),
    ],
)
def test_inputs_are_validated(job_type: str, data: dict, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load().validate_input(job_type, data)
    assert problem in caught.value.message and caught.value.status == 422


def test_unknown_type_is_400() -> None:
    with pytest.raises(InvalidInput) as caught:
        load().validate_input("nope", {})
    assert caught.value.status == 400 and caught.value.code == "unknown_job_type"
    shipped = {"text.hash", "demo.sleep", "demo.steps", "video.analyze", "video.part", "ai.route", "http.request", "batch.run", "web.digest", "web.page"}
    assert {t.name for t in load().shipped_job_types} == shipped and shipped <= {t.name for t in load().job_types}


def test_text_hash() -> None:
    result = text_hash(context("text.hash", {"text": "héllo", "algorithm": "blake2b"}))
    assert result == {"algorithm": "blake2b", "digest": hashlib.blake2b("héllo".encode()).hexdigest(), "length": 5}


def test_demo_sleep_fails_its_first_attempts_as_asked() -> None:
    with pytest.raises(CourierError) as retryable:
        demo_sleep(context("demo.sleep", {"failTimes": 2}, attempt=2))
    assert retryable.value.retryable and retryable.value.code == "demo_retryable"
    with pytest.raises(InvalidInput):
        demo_sleep(context("demo.sleep", {"failTimes": 1, "fail": "fatal"}, attempt=1))
    assert demo_sleep(context("demo.sleep", {"failTimes": 2}, attempt=3)) == {"slept": 0.0, "attempt": 3}


def test_a_results_files_are_only_those_in_its_own_folder() -> None:
    from courier.jobs.payloads import stored_files

    result = {
        "keyframes": [{"image": "results/acme/j1/a.jpg"}, {"image": "results/globex/j2/b.jpg"}],
        "crafted": "results/acme/j1/../../globex/j2/b.jpg", "other": ["results/acme/j1/a.jpg", "results/acme/j1/c.jpg", 3, None],
        "lookalike": "results/acme/j10/d.jpg",
    }
    assert stored_files(result, "acme", "j1") == ["results/acme/j1/a.jpg", "results/acme/j1/c.jpg"]
    assert stored_files(None, "acme", "j1") == []
