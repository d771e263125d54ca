"""Defects a hostile-input pass found, each reproduced here against the real handlers, moto,
and the QStash server: every one ends in a clear 4xx or a job in a known state."""

from __future__ import annotations

import base64
import json
import sys
import time

import boto3
import httpx
import pytest

from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.store import new_job_id
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign
from tests.integration.jobs.conftest import Stack

HOOK = "/v1/hooks/qstash/failure"


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and error["message"]
    if code:
        assert error["code"] == code, error
    return error


@pytest.mark.parametrize("characters", [67412, 67413, 100_000])
def test_inputs_near_and_over_the_item_limit_are_stored_in_s3_and_run(stack: Stack, characters: int) -> None:
    """'中' is six bytes once stored as JSON text: 67413 of them made the job's item too
    large to create (a 500 after dispatch), one fewer too large to update (stuck running)."""
    text = "中" * characters
    accepted = stack.submit({"type": "text.hash", "input": {"text": text}})
    job = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead")
    assert job["status"] == "succeeded" and job["result"]["length"] == characters
    assert job["input"] == {} and job["inputRef"]["size"] > 64 * 1024
    stored = boto3.client("s3").get_object(Bucket=stack.resources.bucket_name, Key=job["inputRef"]["key"])
    assert json.loads(stored["Body"].read()) == {"text": text, "algorithm": "sha256"}


def test_an_input_over_the_stored_limit_is_refused_before_anything_is_recorded(stack: Stack) -> None:
    response = stack.api.post("/v1/jobs", json={"type": "ai.route", "input": {"type": "generation", "prompt": "中" * 200_000}},
                              headers=stack.headers())
    assert_error(response, 413, "input_too_large")
    assert stack.api.get("/v1/jobs", headers=stack.headers()).json()["jobs"] == []


def test_a_prompt_over_the_router_limit_is_refused(stack: Stack) -> None:
    response = stack.api.post("/v1/jobs", json={"type": "ai.route", "input": {"type": "generation", "prompt": "x" * 600_000}},
                              headers=stack.headers())
    assert_error(response, 422, "prompt_too_large")


def failure_callback(stack: Stack, job_id: str, job_type: str, source_message_id: str) -> httpx.Response:
    body = json.dumps({
        "sourceMessageId": source_message_id, "status": 500, "retried": 3,
        "sourceBody": base64.b64encode(JobMessage(jobId=job_id, type=job_type).to_json().encode()).decode(),
        "body": base64.b64encode(b'{"error":{"code":"x","message":"old"}}').decode(),
    }).encode()
    url = stack.api_url + HOOK
    return stack.api.post(HOOK, content=body, headers={"Upstash-Signature": sign(DEV_CURRENT_SIGNING_KEY, url=url, body=body)})


def test_a_late_failure_callback_never_kills_a_retried_job(stack: Stack) -> None:
    accepted = stack.submit({"type": "demo.sleep", "input": {"failTimes": 1, "fail": "fatal"}})
    failed = stack.wait_status(accepted["jobId"], "failed")
    old_message = failed["messageId"]
    retried = stack.api.post(f"/v1/jobs/{accepted['jobId']}/retry", headers=stack.headers())
    assert retried.status_code == 202
    late = failure_callback(stack, accepted["jobId"], "demo.sleep", old_message)  # QStash's word on the first message
    assert late.status_code == 200 and late.json()["status"] == "ignored"
    job = stack.wait_status(accepted["jobId"], "succeeded", "dead", "failed")
    assert job["status"] == "succeeded" and job["messageId"] != old_message
    # The current message's failure callback still counts (the job is finished now, so it is ignored too).
    assert failure_callback(stack, accepted["jobId"], "demo.sleep", job["messageId"]).json()["status"] == "ignored"


def test_a_failure_callback_for_the_current_message_kills_a_stuck_job(stack: Stack) -> None:
    now = utc_now()
    job, _ = stack.store.create(Job(new_job_id(), "acme", "text.hash", JobStatus.QUEUED, {"text": "x"}, now, now))
    stack.store.record_dispatch(job.job_id, "qstash", "msg_current")
    assert failure_callback(stack, job.job_id, "text.hash", "msg_other").json()["status"] == "ignored"
    assert failure_callback(stack, job.job_id, "text.hash", "msg_current").json()["status"] == "dead"
    assert stack.job(job.job_id)["error"]["code"] == "retries_exhausted"


HAND_MADE_CURSORS = [
        base64.urlsafe_b64encode(json.dumps({"t": "acme", "k": {"foo": "bar"}}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"t": "acme", "k": {"pk": {"S": "x"}, "sk": {"N": "1"}}}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"t": "acme", "k": {
            "pk": {"S": "JOB#1"}, "sk": {"S": "JOB"}, "gsi2pk": {"S": "TENANT#globex"}, "gsi2sk": {"S": "x"},
        }}).encode()).decode(),
        base64.urlsafe_b64encode(b"[1,2]").decode(), "not-base64!",
]


def test_hand_made_cursors_are_422s(stack: Stack) -> None:
    for cursor in HAND_MADE_CURSORS:
        assert_error(stack.api.get("/v1/jobs", params={"cursor": cursor}, headers=stack.headers()), 422, "invalid_cursor")


BAD_CONTENT_PARTS = [
        ([{"type": "text", "text": 123}], "invalid_input"),
        ([{"type": "image_url", "image_url": {"url": "https://169.254.169.254/latest/meta-data/"}}], "invalid_image"),
        ([{"type": "image_url", "image_url": {"url": "https://[::ffff:127.0.0.1]/x.png"}}], "invalid_image"),
        ([{"type": "audio", "data": "x"}], "invalid_input"),
        (["just a string"], "invalid_input"),
]


def test_router_content_parts_are_validated(stack: Stack) -> None:
    for content, code in BAD_CONTENT_PARTS:
        messages = [{"role": "user", "content": content}]
        as_job = stack.api.post("/v1/jobs", json={"type": "ai.route", "input": {"type": "vision", "messages": messages}}, headers=stack.headers())
        assert_error(as_job, 422, code)  # refused at enqueue, never retried as internal_error


def test_the_runner_runs_the_jobs_type_not_the_messages(stack: Stack) -> None:
    now = utc_now()
    job, _ = stack.store.create(Job(new_job_id(), "acme", "demo.sleep", JobStatus.QUEUED, {"seconds": 0}, now, now))
    lying = JobMessage(jobId=job.job_id, type="text.hash").to_json().encode()
    url = stack.worker_urls["ai_router"]
    response = httpx.post(url, content=lying, headers={"Upstash-Signature": sign(DEV_CURRENT_SIGNING_KEY, url=url, body=lying)})
    assert response.status_code == 200, response.text
    assert stack.job(job.job_id)["result"] == {"slept": 0.0, "attempt": 1}


def test_an_idempotency_key_reused_for_another_request_is_a_409(stack: Stack) -> None:
    first = stack.submit({"type": "text.hash", "input": {"text": "a"}, "idempotencyKey": "order-1"})
    again = stack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "a"}, "idempotencyKey": "order-1"}, headers=stack.headers())
    assert again.status_code == 202 and again.json()["jobId"] == first["jobId"]
    for body in ({"type": "text.hash", "input": {"text": "b"}}, {"type": "demo.sleep", "input": {}}):
        conflict = stack.api.post("/v1/jobs", json={**body, "idempotencyKey": "order-1"}, headers=stack.headers())
        assert_error(conflict, 409, "idempotency_conflict")
    big = {"type": "text.hash", "input": {"text": "中" * 20_000}, "idempotencyKey": "order-2"}
    stored = stack.submit(big)
    assert stack.submit(big)["jobId"] == stored["jobId"]  # compared through the S3 copy's digest
    assert_error(stack.api.post("/v1/jobs", json={**big, "input": {"text": "中" * 20_001}}, headers=stack.headers()), 409)


def test_unsafe_callback_urls_are_400s_under_the_deployed_policy(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from courier.network import NetworkPolicy

    monkeypatch.setattr(sys.modules["functions.jobs_api.handler"].service, "policy", NetworkPolicy())
    for url in ("https://localhost/cb", "https://0x7f000001/cb", "https://metadata.google.internal/x", "http://example.com/cb"):
        response = stack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "x"}, "callbackUrl": url}, headers=stack.headers())
        assert_error(response, 400, "invalid_callback_url")


# --- signatures, over HTTP, on the Function URL and on the failure hook -----------------
def _token(url: str, body: bytes, *, key: str = DEV_CURRENT_SIGNING_KEY, issued: float | None = None, drop: str | None = None) -> str:
    import jwt

    from courier.signatures import body_hash

    now = int(time.time() if issued is None else issued)
    claims = {"iss": "Upstash", "sub": url, "iat": now, "nbf": now, "exp": now + 300, "body": body_hash(body)}
    claims.pop(drop or "", None)
    return jwt.encode(claims, key, algorithm="HS256")


def _attacks(url: str, body: bytes) -> dict[str, tuple[dict[str, str], bytes]]:
    return {
        "missing": ({}, body),
        "forged": ({"Upstash-Signature": _token(url, body, key="sig_notTheRealKey0000000000")}, body),
        "expired": ({"Upstash-Signature": _token(url, body, issued=time.time() - 3600)}, body),
        "future-nbf": ({"Upstash-Signature": _token(url, body, issued=time.time() + 3600)}, body),
        "other-url": ({"Upstash-Signature": _token("https://elsewhere.example/", body)}, body),
        "tampered-body": ({"Upstash-Signature": _token(url, body)}, body + b" "),
        "no-body-claim": ({"Upstash-Signature": _token(url, body, drop="body")}, body),
        "not-utf8": ({"Upstash-Signature": _token(url, b"\xff\xfe" + body)}, b"\xff\xfe" + body),
        "garbage": ({"Upstash-Signature": "a.b.c"}, body),
    }


def test_signature_attacks_on_a_function_url_leave_the_job_untouched(stack: Stack) -> None:
    now = utc_now()
    job, _ = stack.store.create(Job(new_job_id(), "acme", "demo.sleep", JobStatus.QUEUED, {"markRuns": True}, now, now))
    url = stack.worker_urls["ai_router"]
    body = JobMessage(jobId=job.job_id, type="demo.sleep").to_json().encode()
    for name, (headers, content) in _attacks(url, body).items():
        response = httpx.post(url, content=content, headers=headers)
        assert_error(response, 401, "invalid_signature"), name
    untouched = stack.store.get(job.job_id)
    assert untouched.status is JobStatus.QUEUED and untouched.attempts == 0
    # A valid delivery runs it once; replaying that delivery later is acknowledged, not run again.
    signature = sign(DEV_CURRENT_SIGNING_KEY, url=url, body=body)
    assert httpx.post(url, content=body, headers={"Upstash-Signature": signature}).status_code == 200
    replay = httpx.post(url, content=body, headers={"Upstash-Signature": signature})
    assert replay.status_code == 200 and replay.json()["status"] == "succeeded"
    runs = boto3.client("s3").list_objects_v2(Bucket=stack.resources.bucket_name, Prefix=f"results/acme/{job.job_id}/runs/")
    assert runs["KeyCount"] == 1 and stack.store.get(job.job_id).attempts == 1


def test_signature_attacks_on_the_failure_hook_kill_nothing(stack: Stack) -> None:
    now = utc_now()
    job, _ = stack.store.create(Job(new_job_id(), "acme", "text.hash", JobStatus.QUEUED, {"text": "x"}, now, now))
    stack.store.record_dispatch(job.job_id, "qstash", "msg_1")
    url = stack.api_url + HOOK
    body = json.dumps({"sourceMessageId": "msg_1", "status": 500, "retried": 3,
                       "sourceBody": base64.b64encode(JobMessage(jobId=job.job_id, type="text.hash").to_json().encode()).decode()}).encode()
    for name, (headers, content) in _attacks(url, body).items():
        assert_error(stack.api.post(HOOK, content=content, headers=headers), 401, "invalid_signature"), name
    assert stack.store.get(job.job_id).status is JobStatus.QUEUED


# --- sizes, nesting, names, tenants, queues -----------------------------------------
def test_bodies_over_the_limits_headers_over_size_and_deep_nesting_are_4xx(stack: Stack) -> None:
    over = stack.api.post("/v1/jobs", content=b'{"type":"text.hash","input":{"text":"' + b"x" * (7 * 1024 * 1024) + b'"}}',
                          headers={**stack.headers(), "Content-Type": "application/json"})
    assert over.status_code == 413
    long_text = stack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "x" * 100_001}}, headers=stack.headers())
    assert_error(long_text, 422, "invalid_input")
    huge_header = stack.api.get("/v1/jobs", headers={**stack.headers(), "X-Padding": "x" * 70_000})
    assert 400 <= huge_header.status_code < 500
    deep = b'{"type":"text.hash","input":{"text":"x","nested":' + b"[" * 50_000 + b"]" * 50_000 + b"}}"
    nested = stack.api.post("/v1/jobs", content=deep, headers={**stack.headers(), "Content-Type": "application/json"})
    assert_error(nested, 400)  # FastAPI cannot parse it: a 400 in the error shape, not a 500


def test_upload_names_cannot_leave_the_tenants_prefix(stack: Stack) -> None:
    for filename in ("../../../etc/passwd", "..\\..\\win.ini", "/abs/path.mp4", "a/../../b.mp4", "%2e%2e%2fx.mp4", "\u0000.mp4"):
        response = stack.api.post("/v1/uploads", json={"contentType": "video/mp4", "sizeBytes": 10, "filename": filename}, headers=stack.headers())
        assert response.status_code == 200, response.text
        key = response.json()["key"]
        assert key.startswith("uploads/acme/") and ".." not in key.split("/") and "\\" not in key and len(key.split("/")) == 4, key


def test_another_tenants_job_ids_and_object_keys_are_not_found_on_every_route(stack: Stack) -> None:
    theirs = stack.submit({"type": "demo.sleep", "input": {"failTimes": 1, "fail": "fatal"}}, tenant="globex")
    stack.wait_status(theirs["jobId"], "failed", tenant="globex")
    job_id = theirs["jobId"]
    for method, path in (("GET", f"/v1/jobs/{job_id}"), ("DELETE", f"/v1/jobs/{job_id}"), ("POST", f"/v1/jobs/{job_id}/retry")):
        assert_error(stack.api.request(method, path, headers=stack.headers("acme")), 404, "not_found")
    assert job_id not in [j["jobId"] for j in stack.api.get("/v1/jobs", headers=stack.headers("acme")).json()["jobs"]]
    stolen = stack.api.post("/v1/jobs", json={"type": "video.analyze", "input": {"videoKey": "uploads/globex/1/v.mp4"}}, headers=stack.headers("acme"))
    assert_error(stolen, 403, "forbidden_key")
    assert stack.job(job_id, tenant="globex")["status"] == "failed"  # still theirs, untouched


def test_malformed_sqs_records_are_removed_not_retried_forever(stack: Stack) -> None:
    from tests.support.events import sqs_event

    bad = ["not json", "{}", '{"jobId": 1, "type": "text.hash"}', '{"jobId": "job_nope", "type": "text.hash"}', "[]", "\u0000"]
    now = utc_now()
    good, _ = stack.store.create(Job(new_job_id(), "acme", "text.hash", JobStatus.QUEUED, {"text": "ok"}, now, now))
    event = sqs_event(*bad, JobMessage(jobId=good.job_id, type="text.hash").to_json())
    answer = stack.functions["ai_router"].invoke(event, wait_for_slot=True)
    assert answer == {"batchItemFailures": []}  # the bad records are dropped (and logged), the good one ran
    assert stack.store.get(good.job_id).status is JobStatus.SUCCEEDED
