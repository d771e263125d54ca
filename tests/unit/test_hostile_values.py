"""Values a hostile input or upstream can send, each refused or made harmless where it
enters: infinite waits, NaN, JSON nested past what a view can show, non-ASCII cron digits."""

from __future__ import annotations

import json
import math

import pytest

from courier import strict_json
from courier.adapters.worker import qstash_answer
from courier.ai.retries import retry_after_seconds
from courier.cron import Cron
from courier.errors import MAX_RETRY_AFTER_SECONDS, CourierError, InvalidInput
from courier.jobs.runner import Outcome, Verdict


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("headers", [{"retry-after": "inf"}, {"retry-after": "1e400"}, {"retry-after": "nan"},
                                     {"retry-after-ms": "inf"}, {"retry-after-ms": "-inf"}, {"retry-after": "-Infinity"}])
def test_an_infinite_or_nan_retry_after_is_no_wait(headers: dict[str, str]) -> None:
    assert retry_after_seconds(headers) is None


def test_a_huge_finite_retry_after_is_capped_at_twelve_hours() -> None:
    assert retry_after_seconds({"retry-after": "1e300"}) == MAX_RETRY_AFTER_SECONDS
    assert retry_after_seconds({"retry-after-ms": "2500"}) == 2.5


@pytest.mark.parametrize("wait", [math.inf, -math.inf, math.nan, 1e400])
def test_the_worker_answers_qstash_whatever_wait_an_error_carries(wait: float) -> None:
    error = CourierError("upstream busy", code="http_unavailable", status=503, retry_after=wait)
    status, body, headers = qstash_answer(Outcome(Verdict.RETRY, "job_1", error=error))
    assert status == 503 and body["error"]["code"] == "http_unavailable"
    assert headers == {}  # no wait known: QStash backs off as it would


def test_depth_is_measured_without_recursion() -> None:
    assert not strict_json.depth_exceeds(nested(64), 64)
    assert strict_json.depth_exceeds(nested(65), 64)
    assert strict_json.depth_exceeds(nested(100_000), 64)  # no RecursionError


def test_inputs_too_deep_or_with_nan_are_refused_with_their_codes() -> None:
    with pytest.raises(InvalidInput) as deep:
        strict_json.require_standard({"json": nested(300)})
    assert deep.value.code == "input_too_deep" and deep.value.status == 422
    with pytest.raises(InvalidInput) as nan:
        strict_json.require_standard({"x": [1.0, math.nan]})
    assert nan.value.code == "invalid_number"
    strict_json.require_standard({"x": [1.0, {"y": "z"}]})


def test_results_become_standard_json() -> None:
    cleaned = strict_json.finite({"a": math.nan, "b": [math.inf, 1.5], "c": {"d": -math.inf}})
    assert cleaned == {"a": None, "b": [None, 1.5], "c": {"d": None}}
    assert json.loads(strict_json.dumps(cleaned)) == cleaned
    with pytest.raises(ValueError):
        strict_json.dumps({"a": math.nan})
    with pytest.raises(InvalidInput) as deep:
        strict_json.finite(nested(200))
    assert deep.value.code == "result_too_deep"


@pytest.mark.parametrize("text", ['{"a": NaN}', '[Infinity]', "[" * 5000 + "]" * 5000, json.dumps(nested(200))])
def test_loads_refuses_what_is_not_standard_or_too_deep(text: str) -> None:
    with pytest.raises(ValueError):
        strict_json.loads(text)


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 0 31 4 *", "٣ * * * *", "* ١ * * *", "*/٢ * * * *"])
def test_a_cron_that_never_fires_or_has_non_ascii_digits_is_refused(cron: str) -> None:
    with pytest.raises(ValueError):
        Cron.parse(cron)


def test_a_cron_that_fires_rarely_is_kept() -> None:
    assert Cron.parse("0 0 29 2 *").months == frozenset({2})
