"""`GET /healthz` through the local HTTP API on the real jobs_api handler (imported afresh
for each test, so no report is cached from another): what a first deploy with missing or
wrong secrets looks like, and the job that shows why it went by SQS."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.jobs.conftest import Stack


def fresh_health(stack: Stack, *, key: bool = True) -> httpx.Response:
    return stack.api.get("/healthz", headers=stack.headers() if key else {})


def checks(response: httpx.Response) -> dict[str, dict]:
    return {c["name"]: c for c in response.json()["checks"]}


def test_a_complete_deployment_is_healthy_and_says_less_to_strangers(stack: Stack) -> None:
    response = fresh_health(stack)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert all(c["status"] == "ok" and c["detail"] for c in checks(response).values())
    anonymous = fresh_health(stack, key=False)
    assert anonymous.status_code == 200 and all(set(c) == {"name", "status"} for c in anonymous.json()["checks"])


def test_signing_keys_that_are_not_qstashs_are_a_503_naming_the_check(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QSTASH_CURRENT_SIGNING_KEY", "sig_not_the_current_one")
    monkeypatch.setenv("QSTASH_NEXT_SIGNING_KEY", "sig_not_the_next_one")
    response = fresh_health(stack)
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "misconfigured" and "qstash_signing_keys" in body["error"]["message"]
    assert checks(response)["qstash_signing_keys"]["status"] == "fail" and checks(response)["qstash_signing_keys"]["fix"]


def test_a_rotation_in_qstash_is_a_warning(stack: Stack) -> None:
    rotated = httpx.post(f"{stack.qstash.url}/v2/keys/rotate", headers={"Authorization": f"Bearer {_token()}"})
    assert rotated.status_code == 200
    response = fresh_health(stack)
    assert response.status_code == 200 and response.json()["status"] == "warn"
    assert checks(response)["qstash_signing_keys"]["status"] == "warn"


def test_without_a_token_the_check_fails_and_jobs_say_why_they_went_by_sqs(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QSTASH_TOKEN")
    response = fresh_health(stack)
    assert response.status_code == 503 and checks(response)["qstash_secret"]["status"] == "fail"
    accepted = stack.submit({"type": "text.hash", "input": {"text": "fallback"}})
    job = stack.wait_status(accepted["jobId"], "succeeded")
    assert job["transport"] == "sqs" and job["fallbackReason"] == "QStash: no QStash token configured"
    # A job QStash took has no reason to show.
    monkeypatch.setenv("QSTASH_TOKEN", _token())
    again = stack.wait_status(stack.submit({"type": "text.hash", "input": {"text": "qstash"}})["jobId"], "succeeded")
    assert again["transport"] == "qstash" and "fallbackReason" not in again


def test_qstash_unreachable_fails_its_check(stack: Stack) -> None:
    stack.qstash.stop()
    response = fresh_health(stack)
    assert response.status_code == 503 and checks(response)["qstash_signing_keys"]["status"] == "fail"
    assert checks(response)["table"]["status"] == "ok"


def _token() -> str:
    from devstack.qstash import DEV_TOKEN

    return DEV_TOKEN
