"""A job enqueued through the API runs once and ends in a known state (issue: jobs end to end)."""

from __future__ import annotations

import hashlib
import json
import os

import boto3
import httpx
import pytest
from qstash import Receiver as SignatureReceiver

from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY
from infra.config import CourierConfig
from tests.integration.jobs.conftest import Stack


def test_enqueue_runs_through_qstash_and_calls_back(stack: Stack) -> None:
    callback = stack.receiver.url("/done")
    accepted = stack.submit({"type": "text.hash", "input": {"text": "hello"}, "callbackUrl": callback})
    # Local QStash is fast: the worker may have claimed the job before the API answered.
    assert accepted["status"] in ("queued", "running", "succeeded") and accepted["transport"] == "qstash"
    assert accepted["statusUrl"] == f"{stack.api_url}/v1/jobs/{accepted['jobId']}"
    job = stack.wait_status(accepted["jobId"], "succeeded")
    assert job["result"] == {"algorithm": "sha256", "digest": hashlib.sha256(b"hello").hexdigest(), "length": 5}
    assert job["attempts"] == 1 and job["transport"] == "qstash" and job["finishedAt"]
    [delivery] = stack.receiver.wait_count("/done", 1)
    SignatureReceiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY).verify(
        signature=delivery.headers["Upstash-Signature"], body=delivery.body.decode(), url=callback
    )
    assert json.loads(delivery.body) == {
        "jobId": accepted["jobId"], "type": "text.hash", "status": "succeeded",
        "result": job["result"], "finishedAt": job["finishedAt"],
    }


def test_same_idempotency_key_same_job(stack: Stack) -> None:
    body = {"type": "text.hash", "input": {"text": "once"}, "idempotencyKey": "order-42"}
    first = stack.submit(body)
    again = stack.submit(body)
    assert again["jobId"] == first["jobId"]
    other_tenant = stack.submit(body, tenant="globex")  # keys are per tenant
    assert other_tenant["jobId"] != first["jobId"]
    stack.wait_status(first["jobId"], "succeeded")
    assert stack.job(first["jobId"])["attempts"] == 1


def test_bad_requests_get_the_error_shape(stack: Stack) -> None:
    cases = [
        ({"type": "no.such.type", "input": {}}, 400, "unknown_job_type"),
        ({"type": "text.hash", "input": {"text": 5}}, 422, "invalid_input"),
        ({"type": "text.hash", "input": {"text": "x", "extra": 1}}, 422, "invalid_input"),
        ({"type": "video.analyze", "input": {"videoUrl": "http://insecure.example/v.mp4"}}, 422, "invalid_input"),
        ({"type": "text.hash", "input": {"text": "x"}, "delaySeconds": 3600}, 422, "invalid_request"),
        ({"type": "text.hash"}, 422, "invalid_input"),
        ({"input": {}}, 422, "invalid_request"),
    ]
    for body, status, code in cases:
        response = stack.api.post("/v1/jobs", json=body, headers=stack.headers())
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


def test_api_keys(stack: Stack) -> None:
    assert stack.api.get("/v1/jobs").status_code == 401
    wrong = stack.api.get("/v1/jobs", headers={"Authorization": "Bearer ck_not-a-key"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    assert stack.api.get("/v1/jobs", headers={"x-api-key": stack.keys["acme"]}).status_code == 200
    from courier.auth.api_keys import ApiKeyStore, _cache

    keys = ApiKeyStore(stack.resources.table_name)
    record = next(k for k in keys.list("globex"))
    keys.revoke(record.key_id)
    _cache.clear()  # the API container's cache is per process: here, the test's own
    assert stack.api.get("/v1/jobs", headers=stack.headers("globex")).status_code == 401


def test_tenant_isolation(stack: Stack) -> None:
    mine = stack.submit({"type": "text.hash", "input": {"text": "acme's"}})
    theirs = stack.submit({"type": "text.hash", "input": {"text": "globex's"}}, tenant="globex")
    stack.wait_status(mine["jobId"], "succeeded")
    hidden = stack.api.get(f"/v1/jobs/{theirs['jobId']}", headers=stack.headers("acme"))
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    for path in (f"/v1/jobs/{theirs['jobId']}/retry",):
        assert stack.api.post(path, headers=stack.headers("acme")).status_code == 404
    assert stack.api.delete(f"/v1/jobs/{theirs['jobId']}", headers=stack.headers("acme")).status_code == 404
    listed = stack.api.get("/v1/jobs", headers=stack.headers("acme")).json()["jobs"]
    assert [j["jobId"] for j in listed] == [mine["jobId"]]
    foreign_key = stack.api.post(
        "/v1/jobs", json={"type": "video.analyze", "input": {"videoKey": "uploads/globex/x/v.mp4"}}, headers=stack.headers()
    )
    assert foreign_key.status_code == 403 and foreign_key.json()["error"]["code"] == "forbidden_key"
    cursor_of_globex = stack.api.get("/v1/jobs", headers=stack.headers("globex"), params={"limit": 1}).json()["cursor"]
    if cursor_of_globex:
        assert stack.api.get("/v1/jobs", headers=stack.headers(), params={"cursor": cursor_of_globex}).status_code == 422


def test_list_filters_and_pages(stack: Stack) -> None:
    ids = [stack.submit({"type": "text.hash", "input": {"text": str(i)}})["jobId"] for i in range(3)]
    failing = stack.submit({"type": "demo.sleep", "input": {"failTimes": 1, "fail": "fatal"}})["jobId"]
    for job_id in ids:
        stack.wait_status(job_id, "succeeded")
    stack.wait_status(failing, "failed")
    page = stack.api.get("/v1/jobs", headers=stack.headers(), params={"limit": 2}).json()
    rest = stack.api.get("/v1/jobs", headers=stack.headers(), params={"limit": 10, "cursor": page["cursor"]}).json()
    assert [j["jobId"] for j in page["jobs"] + rest["jobs"]] == [failing, *reversed(ids)]  # newest first
    succeeded = stack.api.get("/v1/jobs", headers=stack.headers(), params={"status": "succeeded", "type": "text.hash"}).json()
    assert {j["jobId"] for j in succeeded["jobs"]} == set(ids)
    failed = stack.api.get("/v1/jobs", headers=stack.headers(), params={"status": "failed"}).json()
    assert [j["jobId"] for j in failed["jobs"]] == [failing]
    bad = stack.api.get("/v1/jobs", headers=stack.headers(), params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_status"


def test_uploads_presign_under_the_tenant_prefix(stack: Stack) -> None:
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100
    response = stack.api.post("/v1/uploads", json={"contentType": "video/mp4", "sizeBytes": len(video), "filename": "../my clip.mp4"}, headers=stack.headers())
    assert response.status_code == 200, response.text
    upload = response.json()
    assert upload["key"].startswith("uploads/acme/") and upload["key"].endswith("/my_clip.mp4")
    put = httpx.put(upload["uploadUrl"], content=video, headers=upload["headers"])
    assert put.status_code == 200, put.text
    import boto3

    stored = boto3.client("s3").get_object(Bucket=stack.resources.bucket_name, Key=upload["key"])
    assert stored["Body"].read() == video and stored["ContentType"] == "video/mp4"
    refused = stack.api.post("/v1/uploads", json={"contentType": "application/x-msdownload", "sizeBytes": 10}, headers=stack.headers())
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_media_type"
    too_big = stack.api.post("/v1/uploads", json={"contentType": "image/png", "sizeBytes": 10**9}, headers=stack.headers())
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "too_large"



def test_a_burst_waits_in_qstash_within_the_workers_concurrency(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flow control: QStash holds a burst back to the worker's parallelism, so the worker
    never answers 429 (which QStash's exponential backoff would turn into minutes)."""
    import dataclasses
    import sys

    dispatcher = sys.modules["functions.jobs_api.handler"].service.dispatcher
    limited = {t: dataclasses.replace(r, parallelism=3) for t, r in dispatcher.routes.items()}
    monkeypatch.setattr(dispatcher, "routes", limited)
    # The workers read the same routes from SSM (they share the worker's concurrency out).
    ssm = boto3.client("ssm")
    name = CourierConfig(stage="test").job_routes_parameter
    routes = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    ssm.put_parameter(Name=name, Value=json.dumps({t: {**r, "parallelism": "3"} for t, r in routes.items()}), Type="String", Overwrite=True)
    worker = stack.functions["ai_router"]
    ids = [stack.submit({"type": "demo.sleep", "input": {"seconds": 0.3}})["jobId"] for _ in range(12)]
    for job_id in ids:
        assert stack.wait_status(job_id, "succeeded", "failed", "dead")["status"] == "succeeded"
    # Without flow control all twelve arrive at once: ten run (the local slots) and two get 429.
    assert 2 <= worker.peak <= 3 and worker.throttles == 0


def test_a_running_job_shows_its_progress(stack: Stack) -> None:
    accepted = stack.submit({"type": "demo.sleep", "input": {"seconds": 2.5}})
    running = stack.wait_for(accepted["jobId"], lambda job: job["status"] == "running" and "progress" in job)
    progress = running["progress"]
    assert progress["stage"] == "sleeping" and 0 <= progress["fraction"] < 1 and progress["message"].endswith("s to go")
    later = stack.wait_for(accepted["jobId"], lambda job: job.get("progress", {}).get("fraction", 0) > progress["fraction"])
    assert later["progress"]["updatedAt"] > progress["updatedAt"]
    done = stack.wait_status(accepted["jobId"], "succeeded")
    assert (done["progress"]["stage"], done["progress"]["fraction"]) == ("done", 1.0)  # not a stale "sleeping 93%"


def test_a_jobs_metrics_need_no_powertools_variable(stack: Stack, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 30: in a function with none of Powertools' variables, enqueueing and running a
    job write their metrics to Courier's own namespace and nothing raises."""
    for name in [n for n in os.environ if n.startswith("POWERTOOLS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "courier-test-function")
    capfd.readouterr()
    accepted = stack.submit({"type": "text.hash", "input": {"text": "no variables"}})
    stack.wait_status(accepted["jobId"], "succeeded")
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    written = {metric["Name"]: directive["Namespace"] for line in lines
               for directive in line["_aws"]["CloudWatchMetrics"] for metric in directive["Metrics"]}
    assert written.get("JobsEnqueued") == written.get("JobsSucceeded") == written.get("JobAttempts") == "Courier", written
