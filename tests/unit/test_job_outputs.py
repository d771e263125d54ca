"""A job type's declared result: checked when a run ends, so a handler that breaks the shape
the TypeScript client types fails its job at once (not retried) instead of breaking clients."""

from __future__ import annotations

from typing import Any

import pytest

from courier.jobs import InvalidInput, JobContext, JobOutput, catalog
from courier.jobs.models import JobStatus
from courier.jobs.outputs import check_result
from tests.support.memory_runner import JOB_TYPE, deliver, memory_runner, queued


def runner_returning(result: dict[str, Any]) -> tuple[Any, Any]:
    def handler(context: JobContext) -> dict[str, Any]:
        return result

    return memory_runner(handler, catalog.load())  # demo.sleep with its declared DemoSleepResult


def test_a_result_of_another_shape_fails_the_job_once_naming_the_field() -> None:
    runner, store = runner_returning({"slept": "a while", "attempts": 1})
    job = queued(store)
    deliver(runner, job)
    final = store.get(job.job_id)
    assert final is not None and final.status is JobStatus.FAILED and final.attempts == 1
    assert final.error is not None and final.error.code == "invalid_result" and not final.error.retryable
    assert "DemoSleepResult" in final.error.message
    assert "slept:" in final.error.message and "attempt: Field required" in final.error.message
    assert final.result is None


def test_a_result_of_the_declared_shape_is_stored_as_returned_with_its_extra_fields() -> None:
    runner, store = runner_returning({"slept": 0, "attempt": 1, "note": "more than declared"})
    job = queued(store)
    deliver(runner, job)
    final = store.get(job.job_id)
    assert final is not None and final.status is JobStatus.SUCCEEDED
    assert final.result == {"slept": 0, "attempt": 1, "note": "more than declared"}


def test_every_shipped_type_declares_its_result_with_camel_case_names() -> None:
    shipped = catalog.load().shipped_job_types
    assert [t.name for t in shipped if t.result is None] == []
    video = catalog.load().job_type("video.analyze").result
    assert video is not None and "hookScore" in video.model_json_schema(by_alias=True)["$defs"]["VideoMetrics"]["properties"]


def test_fields_are_read_by_their_json_names_only_and_no_declared_result_takes_any_object() -> None:
    """A handler returning `words_seen` where clients read `wordsSeen` breaks them: refused."""
    check_result(None, JOB_TYPE, {"anything": [1, 2]})

    class Counted(JobOutput):
        words_seen: int

    check_result(Counted, "x.count", {"wordsSeen": 3})
    with pytest.raises(InvalidInput, match="wordsSeen: Field required") as refused:
        check_result(Counted, "x.count", {"words_seen": 3})
    assert refused.value.code == "invalid_result"
