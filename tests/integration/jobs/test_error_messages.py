"""What a new user's mistakes are told, through the real jobs API (issue 27, point 8): each
message says what is wrong in the user's own terms and how to mend it."""

from __future__ import annotations

from tests.integration.jobs.conftest import Stack
from tests.integration.jobs.test_hostile_input import assert_error


def test_a_body_that_is_not_json_says_why_and_where(stack: Stack) -> None:
    headers = {**stack.headers(), "content-type": "application/json"}
    error = assert_error(stack.api.post("/v1/jobs", content=b'{"type": "text.hash",, "input": {}}', headers=headers), 422, "invalid_request")
    assert error["message"].startswith("body is not valid JSON (Expecting property name") and "at character 21" in error["message"], error
    assert "JSON decode error" not in error["message"]


def test_a_json_body_sent_without_its_media_type_is_told_to_send_it(stack: Stack) -> None:
    sent = stack.api.post("/v1/jobs", content=b'{"type": "text.hash", "input": {"text": "a"}}',
                          headers={**stack.headers(), "content-type": "text/plain"})
    error = assert_error(sent, 422, "invalid_request")
    assert "Content-Type: application/json" in error["message"] and "'text/plain'" in error["message"], error


def test_an_unknown_job_type_suggests_the_nearest_and_lists_them_all(stack: Stack) -> None:
    error = assert_error(stack.api.post("/v1/jobs", json={"type": "text.hsh", "input": {"text": "a"}}, headers=stack.headers()),
                         400, "unknown_job_type")
    assert "did you mean 'text.hash'?" in error["message"] and "video.analyze" in error["message"], error


def test_an_unknown_time_zone_is_named_as_the_user_wrote_it(stack: Stack) -> None:
    schedule = {"cron": "0 3 * * *", "timezone": "Mars/Olympus", "type": "text.hash", "input": {"text": "a"}}
    error = assert_error(stack.api.post("/v1/schedules", json=schedule, headers=stack.headers()), 400, "invalid_timezone")
    assert "'Mars/Olympus'" in error["message"] and "CRON_TZ" not in error["message"], error
    bad_cron = {**schedule, "cron": "0 25 * * *", "timezone": "Europe/Berlin"}
    error = assert_error(stack.api.post("/v1/schedules", json=bad_cron, headers=stack.headers()), 400, "invalid_cron")
    assert error["message"].startswith("invalid cron '0 25 * * *'") and "CRON_TZ" not in error["message"], error


def test_a_validators_own_words_come_without_pydantics_prefix(stack: Stack) -> None:
    error = assert_error(stack.api.post("/v1/jobs", json={"type": "ai.route", "input": {"type": "summarize"}}, headers=stack.headers()),
                         422, "invalid_input")
    assert "prompt or messages" in error["message"] and "Value error" not in error["message"], error
