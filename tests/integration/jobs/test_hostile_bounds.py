"""The third hostile-input pass, each defect reproduced against the real handlers, moto and
the local QStash server: bounded depth, strict JSON, bounded creation, redacted secrets,
replayed firings, and requests aimed at Courier itself. Each ends in a clear 4xx or a job
in a known state, with nothing half made."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.store import new_job_id
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign
from tests.integration.jobs.conftest import Stack
from tests.integration.jobs.test_hostile_input import assert_error
from tests.support.receiver import Answer


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def allow_receiver(stack: Stack) -> None:
    assert stack.api.put("/v1/allowed-hosts", json={"hosts": ["127.0.0.1"]}, headers=stack.headers()).status_code == 200


def strict(text: bytes) -> Any:
    """JSON as a browser's JSON.parse reads it: NaN and Infinity are errors."""
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))


# --- 1, 2, 7: depth and strict JSON --------------------------------------------------------
def test_inputs_nested_past_the_limit_are_422_for_jobs_and_schedules_and_nothing_is_kept(stack: Stack) -> None:
    deep = {"url": "https://app.example.com/x", "json": nested(300)}
    assert_error(stack.api.post("/v1/jobs", json={"type": "http.request", "input": deep}, headers=stack.headers()), 422, "input_too_deep")
    schedule = {"cron": "* * * * *", "type": "http.request", "input": deep}
    assert_error(stack.api.post("/v1/schedules", json=schedule, headers=stack.headers()), 422, "input_too_deep")
    nan = stack.api.post("/v1/jobs", content=b'{"type":"demo.sleep","input":{"seconds":NaN}}',
                         headers={**stack.headers(), "Content-Type": "application/json"})
    assert_error(nan, 422, "invalid_number")
    assert stack.api.get("/v1/jobs", headers=stack.headers()).json()["jobs"] == []
    assert stack.api.get("/v1/schedules", headers=stack.headers()).json()["schedules"] == []


@pytest.mark.parametrize("answer", [b"[" * 5000 + b"]" * 5000, json.dumps(nested(300)).encode(), b'{"x": NaN, "y": Infinity}'],
                         ids=["5000-deep", "300-deep", "nan"])
def test_an_app_answering_deep_or_non_standard_json_leaves_every_read_working(stack: Stack, answer: bytes) -> None:
    allow_receiver(stack)
    stack.receiver.script("/deep", Answer(200, {"Content-Type": "application/json"}, answer))
    callback = stack.receiver.url("/outcome")
    accepted = stack.submit({"type": "http.request", "input": {"url": stack.receiver.url("/deep"), "maxResponseBytes": 262144},
                             "callbackUrl": callback})
    done = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead")
    assert done["status"] == "succeeded" and done["attempts"] == 1, done  # not retried into the app again
    assert "json" not in done["result"] and done["result"]["jsonError"]
    listed = stack.api.get("/v1/jobs", headers=stack.headers())
    assert listed.status_code == 200 and accepted["jobId"] in [j["jobId"] for j in listed.json()["jobs"]]
    [delivery] = stack.receiver.wait_count("/outcome", 1, timeout=20)
    assert strict(delivery.body)["status"] == "succeeded"


# --- 4: bounded creation, children checked at enqueue --------------------------------------
def test_a_batch_that_would_lead_to_too_many_jobs_is_refused_before_anything_is_recorded(stack: Stack) -> None:
    digest = {"type": "web.digest", "input": {"urls": [f"https://site{i}.example.com/" for i in range(20)]}}
    response = stack.api.post("/v1/jobs", json={"type": "batch.run", "input": {"jobs": [digest] * 100}}, headers=stack.headers())
    error = assert_error(response, 422, "too_many_descendants")
    assert "2100" in error["message"]
    assert stack.api.get("/v1/jobs", headers=stack.headers()).json()["jobs"] == []


@pytest.mark.parametrize("child, status, code", [
    ({"type": "no.such.type", "input": {}}, 400, "unknown_job_type"),
    ({"type": "text.hash", "input": {}}, 422, "invalid_input"),
    ({"type": "http.request", "input": {"url": "https://not-allowed.example.com/"}}, 403, "host_not_allowed"),
    ({"type": "text.hash", "input": {"uploadKey": "uploads/globex/1/secret.txt"}}, 403, "forbidden_key"),
], ids=["unknown-type", "bad-input", "host-off-allowlist", "other-tenants-upload"])
def test_batch_children_are_checked_at_enqueue(stack: Stack, child: dict[str, Any], status: int, code: str) -> None:
    good = {"type": "text.hash", "input": {"text": "fine"}}
    response = stack.api.post("/v1/jobs", json={"type": "batch.run", "input": {"jobs": [good, child]}}, headers=stack.headers())
    error = assert_error(response, status, code)
    assert error["message"].startswith("child 1 ")
    assert stack.api.get("/v1/jobs", headers=stack.headers()).json()["jobs"] == []


def test_a_tenant_keeps_a_bounded_number_of_schedules(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURIER_MAX_SCHEDULES", "3")
    body = {"cron": "* * * * *", "type": "text.hash", "input": {"text": "tick"}}
    for _ in range(3):
        assert stack.api.post("/v1/schedules", json=body, headers=stack.headers()).status_code == 201
    assert_error(stack.api.post("/v1/schedules", json=body, headers=stack.headers()), 429, "too_many_schedules")
    assert len(stack.api.get("/v1/schedules", headers=stack.headers()).json()["schedules"]) == 3
    assert stack.api.post("/v1/schedules", json=body, headers=stack.headers("globex")).status_code == 201  # per tenant


# --- 6: a replayed firing --------------------------------------------------------------------
def test_a_replayed_firing_with_new_message_ids_makes_one_job(stack: Stack) -> None:
    schedule = stack.api.post("/v1/schedules", json={"cron": "0 3 * * *", "type": "text.hash", "input": {"text": "x"}},
                              headers=stack.headers()).json()
    url = stack.api_url + "/v1/hooks/qstash/schedule"
    body = json.dumps({"scheduleId": schedule["scheduleId"]}).encode()
    signature = sign(DEV_CURRENT_SIGNING_KEY, url=url, body=body)
    first = httpx.post(url, content=body, headers={"Upstash-Signature": signature, "Upstash-Message-Id": "msg_firing_1"})
    assert first.status_code == 200 and first.json()["jobId"]
    again = httpx.post(url, content=body, headers={"Upstash-Signature": signature, "Upstash-Message-Id": "msg_firing_1"})
    assert again.json()["jobId"] == first.json()["jobId"]  # QStash's own redelivery: the same job
    for n in range(2, 5):
        replay = httpx.post(url, content=body, headers={"Upstash-Signature": signature, "Upstash-Message-Id": f"msg_forged_{n}"})
        assert_error(replay, 401, "invalid_signature")
    fresh = sign(DEV_CURRENT_SIGNING_KEY, url=url, body=body)
    long_id = httpx.post(url, content=body, headers={"Upstash-Signature": fresh, "Upstash-Message-Id": "m" * 5000})
    assert_error(long_id, 422, "invalid_firing")
    jobs = [j for j in stack.api.get("/v1/jobs", headers=stack.headers()).json()["jobs"] if j.get("scheduleId") == schedule["scheduleId"]]
    assert len(jobs) == 1


# --- 9: cursors bound to their query ---------------------------------------------------------
def test_a_cursor_sent_with_another_filter_is_a_422(stack: Stack) -> None:
    for _ in range(3):
        stack.submit({"type": "text.hash", "input": {"text": "page"}})
    page = stack.api.get("/v1/jobs", params={"limit": 1, "type": "text.hash"}, headers=stack.headers()).json()
    assert page["cursor"]
    for params in ({}, {"status": "queued"}, {"status": "succeeded", "type": "text.hash"}, {"type": "demo.sleep"}):
        response = stack.api.get("/v1/jobs", params={"cursor": page["cursor"], **params}, headers=stack.headers())
        assert_error(response, 422, "invalid_cursor")
    same = stack.api.get("/v1/jobs", params={"limit": 1, "type": "text.hash", "cursor": page["cursor"]}, headers=stack.headers())
    assert same.status_code == 200 and same.json()["jobs"][0]["jobId"] != page["jobs"][0]["jobId"]


# --- 11, 12, 14: refused at enqueue --------------------------------------------------------
@pytest.mark.parametrize("headers", [{"X-A": "one\r\nInjected: yes"}, {"X:A": "v"}, {"X-A": "caf\u00e9"}, {"X-A": "\u4e2d"}],
                         ids=["crlf", "colon-in-name", "latin-1", "non-latin-1"])
def test_unsendable_headers_are_refused_at_enqueue(stack: Stack, headers: dict[str, str]) -> None:
    allow_receiver(stack)
    body = {"type": "http.request", "input": {"url": stack.receiver.url("/h"), "headers": headers}}
    assert_error(stack.api.post("/v1/jobs", json=body, headers=stack.headers()), 422, "invalid_input")


def test_a_sleep_longer_than_its_workers_timeout_is_refused(stack: Stack) -> None:
    response = stack.api.post("/v1/jobs", json={"type": "demo.sleep", "input": {"seconds": 600}}, headers=stack.headers())
    assert "300" in assert_error(response, 422, "exceeds_worker_timeout")["message"]


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "\u0663 * * * *"], ids=["never-fires", "arabic-digit"])
def test_a_cron_that_never_fires_or_is_not_ascii_is_400(stack: Stack, cron: str) -> None:
    response = stack.api.post("/v1/schedules", json={"cron": cron, "type": "text.hash", "input": {"text": "x"}}, headers=stack.headers())
    assert_error(response, 400, "invalid_cron")


# --- 13: child ids that cannot be pre-claimed ------------------------------------------------
def test_courier_s_own_idempotency_keys_cannot_be_taken_by_a_caller(stack: Stack) -> None:
    for key in ("courier:child:job_0123:0", "courier:schedule:sched_1:msg_1"):
        body = {"type": "demo.sleep", "input": {"seconds": 0}, "idempotencyKey": key}
        assert_error(stack.api.post("/v1/jobs", json=body, headers=stack.headers()), 422, "reserved_idempotency_key")
    batch = stack.submit({"type": "batch.run", "input": {"jobs": [{"type": "text.hash", "input": {"text": "a"}}]}})
    done = stack.wait_status(batch["jobId"], "succeeded", "failed", "dead", timeout=30)
    assert done["status"] == "succeeded" and done["result"]["succeeded"] == 1


# --- 15: secrets never shown back ------------------------------------------------------------
def test_credentials_in_request_headers_are_redacted_in_every_view(stack: Stack) -> None:
    allow_receiver(stack)
    stack.receiver.script("/sync", Answer(200, {}, b"ok"))
    headers = {"Authorization": "Bearer app-secret", "X-Api-Key": "key-123", "Cookie": "s=1", "X-Trace": "visible"}
    accepted = stack.submit({"type": "http.request", "input": {"url": stack.receiver.url("/sync"), "headers": headers}})
    done = stack.wait_status(accepted["jobId"], "succeeded")
    shown = done["input"]["headers"]
    assert shown == {"Authorization": "[redacted]", "X-Api-Key": "[redacted]", "Cookie": "[redacted]", "X-Trace": "visible"}
    listed = stack.api.get("/v1/jobs", headers=stack.headers()).text
    assert "app-secret" not in listed and "key-123" not in listed
    (request,) = stack.receiver.at("/sync")
    assert {k.lower(): v for k, v in request.headers.items()}["authorization"] == "Bearer app-secret"  # the run had it
    schedule = stack.api.post("/v1/schedules", json={"cron": "0 3 * * *", "type": "http.request", "input": {
        "url": stack.receiver.url("/sync"), "headers": headers}}, headers=stack.headers())
    assert schedule.status_code == 201 and "app-secret" not in schedule.text


# --- 16: misconfiguration fails at once --------------------------------------------------------
def test_a_child_that_meets_a_missing_configuration_fails_at_once_and_the_batch_ends(stack: Stack) -> None:
    batch = stack.submit({"type": "batch.run", "input": {"jobs": [
        {"type": "text.hash", "input": {"text": "a"}}, {"type": "ai.route", "input": {"type": "generation", "prompt": "hi"}},
    ]}})
    done = stack.wait_status(batch["jobId"], "succeeded", "failed", "dead", timeout=30)
    assert done["status"] == "succeeded" and done["result"]["failed"] == 1
    child = done["result"]["jobs"][1]
    assert child["status"] == "failed" and child["error"]["code"] == "no_deployment" and child["error"]["retryable"] is False
    assert "AZURE_AI_FOUNDRY_ENDPOINT" in child["error"]["message"]  # the fix, in the message


# --- 17: Courier aimed at itself ---------------------------------------------------------------
def test_a_callback_url_aimed_at_courier_itself_is_refused(stack: Stack) -> None:
    for url in (stack.worker_urls["ai_router"], stack.worker_urls["video_processor"] + "x", stack.api_url + "/v1/hooks/qstash/failure"):
        body = {"type": "text.hash", "input": {"text": "x"}, "callbackUrl": url}
        assert_error(stack.api.post("/v1/jobs", json=body, headers=stack.headers()), 400, "invalid_callback_url")


def test_a_signed_message_sent_to_the_wrong_worker_leaves_the_job_untouched(stack: Stack) -> None:
    now = utc_now()
    job, _ = stack.store.create(Job(new_job_id(), "acme", "text.hash", JobStatus.QUEUED, {"text": "x"}, now, now))
    url = stack.worker_urls["video_processor"]
    body = JobMessage(jobId=job.job_id, type="text.hash").to_json().encode()
    response = httpx.post(url, content=body, headers={"Upstash-Signature": sign(DEV_CURRENT_SIGNING_KEY, url=url, body=body)})
    assert_error(response, 489, "wrong_worker")
    untouched = stack.store.get(job.job_id)
    assert untouched.status is JobStatus.QUEUED and untouched.attempts == 0


def test_a_failure_callback_without_its_source_message_kills_nothing(stack: Stack) -> None:
    now = utc_now()
    job, _ = stack.store.create(Job(new_job_id(), "acme", "text.hash", JobStatus.QUEUED, {"text": "x"}, now, now))
    stack.store.record_dispatch(job.job_id, "qstash", "msg_1")
    url = stack.api_url + "/v1/hooks/qstash/failure"
    body = json.dumps({"status": 500, "retried": 3,
                       "sourceBody": base64.b64encode(JobMessage(jobId=job.job_id, type="text.hash").to_json().encode()).decode()}).encode()
    response = stack.api.post("/v1/hooks/qstash/failure", content=body, headers={"Upstash-Signature": sign(DEV_CURRENT_SIGNING_KEY, url=url, body=body)})
    assert_error(response, 422, "invalid_callback")
    assert stack.store.get(job.job_id).status is JobStatus.QUEUED


# --- the gateway answers every method in JSON ---------------------------------------------------
@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "FOO"])
def test_methods_the_api_does_not_know_are_answered_in_json(stack: Stack, method: str) -> None:
    for url in (stack.api_url + "/v1/jobs", stack.api_url + "/healthz", stack.api_url + "/", stack.worker_urls["ai_router"]):
        response = httpx.request(method, url, headers=stack.headers(), timeout=10)
        assert 400 <= response.status_code < 500, (method, url, response.status_code)
        assert response.headers["content-type"].startswith("application/json"), (method, url, response.text[:200])
        document = response.json()
        assert "error" in document or "message" in document



def test_a_tenant_with_its_most_jobs_waiting_is_told_to_come_back(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Delayed jobs stay queued: at the cap a new request is 429 with Retry-After and nothing
    is recorded; another tenant is not held back, and the same tenant's answer is 4xx, not lost."""
    monkeypatch.setenv("COURIER_MAX_QUEUED_JOBS", "3")
    waiting = {"type": "text.hash", "input": {"text": "later"}, "delaySeconds": 900}
    for _ in range(3):
        stack.submit(waiting)
    over = stack.api.post("/v1/jobs", json=waiting, headers=stack.headers())
    assert_error(over, 429, "too_many_queued")
    assert int(over.headers["retry-after"]) > 0
    assert len(stack.api.get("/v1/jobs", headers=stack.headers()).json()["jobs"]) == 3
    stack.submit(waiting, tenant="globex")
