"""Durable steps on the local stack, each on both transports: steps that survive a retry,
sleeps and waits for events that end the run, exactly once under duplicate wake-ups.

Every execution of a demo.steps run step writes one S3 object (results/{t}/{job}/runs/{step}/),
so "ran once" is counted by side effects, not by what the job says of itself."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import time
import uuid
from typing import Any

import boto3
import pytest
from qstash import QStash

from courier.jobs.messages import JobMessage
from devstack.qstash import DEV_TOKEN
from tests.integration.jobs.conftest import Stack, eventually
from tests.integration.jobs.test_failures import qstash_down
from tests.integration.jobs.test_http_request import allow
from tests.support.qstash_tokens import sign
from tests.support.receiver import Answer

TRANSPORTS = ["qstash", "sqs"]


def on(stack: Stack, transport: str) -> None:
    if transport == "sqs":
        qstash_down(stack)  # every message of the job, its wake-ups too, goes by SQS


def executions(stack: Stack, job_id: str, step: str, tenant: str = "acme") -> int:
    listed = boto3.client("s3").list_objects_v2(Bucket=stack.resources.bucket_name, Prefix=f"results/{tenant}/{job_id}/runs/{step}/")
    return int(listed.get("KeyCount", 0))


def steps_job(stack: Stack, steps: list[dict[str, Any]], tenant: str = "acme") -> str:
    return str(stack.submit({"type": "demo.steps", "input": {"steps": steps}}, tenant)["jobId"])


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_failing_step_is_retried_alone_and_the_steps_before_it_are_not_redone(stack: Stack, transport: str) -> None:
    on(stack, transport)
    job_id = steps_job(stack, [{"name": "fetch"}, {"name": "flaky", "failTimes": 2}, {"name": "finish"}])
    job = stack.wait_status(job_id, "succeeded", "failed", "dead", timeout=40)
    assert job["status"] == "succeeded", job
    assert [executions(stack, job_id, s) for s in ("fetch", "flaky", "finish")] == [1, 3, 1]
    assert job["result"]["steps"]["flaky"] == {"execution": 3}
    assert [(s["name"], s["kind"], s["status"], s["attempts"]) for s in job["steps"]] == [
        ("fetch", "run", "done", 1), ("flaky", "run", "done", 3), ("finish", "run", "done", 1)]
    assert job["transport"] == transport


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_step_that_keeps_failing_fails_the_job_after_its_attempts_and_retry_resumes_there(stack: Stack, transport: str) -> None:
    on(stack, transport)
    job_id = steps_job(stack, [{"name": "first"}, {"name": "stubborn", "failTimes": 2, "maxAttempts": 2}, {"name": "last"}])
    job = stack.wait_status(job_id, "failed", "dead", "succeeded", timeout=40)
    assert job["status"] == "failed" and job["error"]["code"] == "step_failed" and "stubborn" in job["error"]["message"]
    assert [executions(stack, job_id, s) for s in ("first", "stubborn", "last")] == [1, 2, 0]
    # The retry resumes at the failed step: the first keeps its result.
    assert stack.api.post(f"/v1/jobs/{job_id}/retry", headers=stack.headers()).status_code == 202
    job = stack.wait_status(job_id, "succeeded", "failed", "dead", timeout=40)
    assert job["status"] == "succeeded", job
    assert [executions(stack, job_id, s) for s in ("first", "stubborn", "last")] == [1, 3, 1]
    # From the start: every step again.
    assert stack.api.post(f"/v1/jobs/{job_id}/retry?fromStart=true", headers=stack.headers()).status_code == 409  # succeeded jobs stay
    fatal = steps_job(stack, [{"name": "one"}, {"name": "bad", "failTimes": 1, "fail": "fatal"}])
    assert stack.wait_status(fatal, "failed", "succeeded", timeout=30)["error"]["code"] == "demo_fatal"
    assert stack.api.post(f"/v1/jobs/{fatal}/retry?fromStart=true", headers=stack.headers()).status_code == 202
    assert stack.wait_status(fatal, "succeeded", "failed", timeout=30)["status"] == "succeeded"
    assert [executions(stack, fatal, s) for s in ("one", "bad")] == [2, 2]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_sleep_ends_the_run_and_a_delayed_message_wakes_the_job(stack: Stack, transport: str, monkeypatch: pytest.MonkeyPatch) -> None:
    on(stack, transport)
    monkeypatch.setenv("COURIER_SQS_MAX_DELAY_SECONDS", "1")  # a 5 s sleep is a chain of SQS delays
    job_id = steps_job(stack, [{"name": "before"}, {"name": "nap", "kind": "sleep", "seconds": 5}, {"name": "after"}])
    waiting = stack.wait_status(job_id, "waiting", "succeeded", "failed", timeout=20)
    assert waiting["status"] == "waiting", waiting
    assert waiting["waitingFor"]["kind"] == "sleep" and waiting["waitingFor"]["step"] == "nap"
    assert [s["status"] for s in waiting["steps"]] == ["done", "waiting"] and waiting["steps"][1]["until"] == waiting["waitingFor"]["until"]
    # No Lambda waits with it: the suspending invocation returns (the status is written just
    # before it does) well before the wake-up is due.
    eventually(lambda: stack.functions["ai_router"].active == 0, timeout=2.0, what="no worker running while the job sleeps")
    job = stack.wait_status(job_id, "succeeded", "failed", "dead", timeout=30)
    assert job["status"] == "succeeded", job
    assert "waitingFor" not in job and job["finishedAt"] >= waiting["waitingFor"]["until"]
    assert [executions(stack, job_id, s) for s in ("before", "after")] == [1, 1]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_duplicate_concurrent_wake_ups_run_the_next_step_once(stack: Stack, transport: str) -> None:
    on(stack, transport)
    job_id = steps_job(stack, [{"name": "a"}, {"name": "nap", "kind": "sleep", "seconds": 2}, {"name": "b"}, {"name": "c"}])
    stack.wait_status(job_id, "waiting", timeout=20)
    wake = JobMessage(jobId=job_id, type="demo.steps", wake=1).to_json()
    queue = stack.resources.queues["ai_router"].queue_url
    time.sleep(2.2)  # the sleep is over: each of these wake-ups may claim the job (a sleep of 1 s or less is slept in the run)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        if transport == "qstash":
            client = QStash(DEV_TOKEN, base_url=stack.qstash.url, retry=False)
            list(pool.map(lambda _: client.message.publish(url=stack.worker_urls["ai_router"], body=wake), range(6)))
        else:
            list(pool.map(lambda _: boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=wake), range(6)))
    job = stack.wait_status(job_id, "succeeded", "failed", "dead", timeout=30)
    assert job["status"] == "succeeded", job
    assert [executions(stack, job_id, s) for s in ("a", "b", "c")] == [1, 1, 1]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_job_waits_for_its_event_posted_twice_at_once_and_takes_it_once(stack: Stack, transport: str) -> None:
    on(stack, transport)
    key = f"approval:{uuid.uuid4().hex[:8]}"
    job_id = steps_job(stack, [{"name": "draft"}, {"name": "approve", "kind": "event", "key": key, "seconds": 60}, {"name": "publish"}])
    waiting = stack.wait_status(job_id, "waiting", "failed", timeout=20)
    assert waiting["waitingFor"]["kind"] == "event" and waiting["waitingFor"]["key"] == key
    # Another tenant's event of the same key is its own: it wakes nothing here.
    other = stack.api.post("/v1/events", json={"key": key, "data": {"by": "mallory"}}, headers=stack.headers("globex"))
    assert other.status_code == 202 and other.json()["woke"] == 0
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: stack.api.post("/v1/events", json={"key": key, "data": {"by": "ann"}}, headers=stack.headers()),
                                range(2)))
    assert all(a.status_code == 202 for a in answers) and sum(a.json()["woke"] for a in answers) == 1
    job = stack.wait_status(job_id, "succeeded", "failed", "dead", timeout=30)
    assert job["status"] == "succeeded", job
    assert job["result"]["steps"]["approve"] == {"by": "ann"}
    assert [executions(stack, job_id, s) for s in ("draft", "publish")] == [1, 1]


def test_an_event_published_through_qstash_to_the_signed_hook_wakes_its_tenants_job(stack: Stack) -> None:
    """A publisher without a tenant's API key (a QStash schedule, another service) sends the
    event through QStash; the tenant is in the signed URL, so it cannot be swapped."""
    key = f"approval:{uuid.uuid4().hex[:8]}"
    job_id = steps_job(stack, [{"name": "draft"}, {"name": "approve", "kind": "event", "key": key, "seconds": 60}, {"name": "publish"}])
    stack.wait_status(job_id, "waiting", "failed", timeout=20)
    hook = f"{stack.api_url}/v1/hooks/qstash/event?tenant="
    body = json.dumps({"key": key, "data": {"by": "scheduler"}}).encode()
    assert stack.api.post(hook + "acme", content=body).status_code == 401  # unsigned
    swapped = stack.api.post(hook + "acme", content=body, headers={"Upstash-Signature": sign(body, hook + "globex")})
    assert swapped.status_code == 401  # signed for another tenant's URL
    theirs = stack.api.post(hook + "globex", content=body, headers={"Upstash-Signature": sign(body, hook + "globex")})
    assert theirs.status_code == 202 and theirs.json()["woke"] == 0
    for bad, code in ((b'{"key": "no spaces please"}', "invalid_event_key"), (b"not json", "invalid_event")):
        refused = stack.api.post(hook + "acme", content=bad, headers={"Upstash-Signature": sign(bad, hook + "acme")})
        assert refused.status_code == 489 and refused.headers["upstash-nonretryable-error"] == "true", refused.text
        assert refused.json()["error"]["code"] == code
    assert stack.job(job_id)["status"] == "waiting"
    QStash(DEV_TOKEN, base_url=stack.qstash.url, retry=False).message.publish(url=hook + "acme", body=body.decode())
    job = stack.wait_status(job_id, "succeeded", "failed", "dead", timeout=30)
    assert job["status"] == "succeeded" and job["result"]["steps"]["approve"] == {"by": "scheduler"}
    assert [executions(stack, job_id, s) for s in ("draft", "publish")] == [1, 1]


def test_an_event_posted_just_before_the_wait_is_not_lost_and_a_timeout_is_a_result(stack: Stack) -> None:
    key = f"ready:{uuid.uuid4().hex[:8]}"
    assert stack.api.post("/v1/events", json={"key": key, "data": 7}, headers=stack.headers()).json()["woke"] == 0
    early = steps_job(stack, [{"name": "wait", "kind": "event", "key": key, "seconds": 30}])
    assert stack.wait_status(early, "succeeded", "failed", timeout=20)["result"]["steps"]["wait"] == 7
    late = steps_job(stack, [{"name": "wait", "kind": "event", "key": f"never:{uuid.uuid4().hex[:8]}", "seconds": 1}])
    job = stack.wait_status(late, "succeeded", "failed", timeout=20)
    assert job["result"]["steps"]["wait"] == {"timedOut": True}


def test_bad_steps_and_bad_events_are_clear_errors(stack: Stack) -> None:
    twice = steps_job(stack, [{"name": "same"}, {"name": "same"}])
    assert stack.wait_status(twice, "failed", "succeeded", timeout=20)["error"]["code"] == "step_name_reused"
    assert executions(stack, twice, "same") == 1
    forever = steps_job(stack, [{"name": "nap", "kind": "sleep", "seconds": 7 * 86400 + 1}])
    assert stack.wait_status(forever, "failed", "succeeded", timeout=20)["error"]["code"] == "sleep_too_long"
    bad = stack.api.post("/v1/events", json={"key": "no spaces please", "data": 1}, headers=stack.headers())
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_event_key"
    big = stack.api.post("/v1/events", json={"key": "big", "data": "x" * 70_000}, headers=stack.headers())
    assert big.status_code == 413 and big.json()["error"]["code"] == "event_too_large"
    assert stack.api.post("/v1/events", json={"key": "k", "data": 1}).status_code == 401


def test_a_sleeping_job_can_be_cancelled_and_its_wake_up_runs_nothing(stack: Stack) -> None:
    job_id = steps_job(stack, [{"name": "a"}, {"name": "nap", "kind": "sleep", "seconds": 2}, {"name": "b"}])
    stack.wait_status(job_id, "waiting", timeout=20)
    cancelled = stack.api.delete(f"/v1/jobs/{job_id}", headers=stack.headers())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    time.sleep(3)  # the wake-up came and went
    assert stack.job(job_id)["status"] == "cancelled" and executions(stack, job_id, "b") == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_call_is_made_by_qstash_while_no_lambda_waits_or_in_process_without_it(stack: Stack, transport: str) -> None:
    """On QStash the run ends while QStash calls the app (slowly) and posts the answer back;
    on SQS (QStash down) the same call is made in process: the same answer either way, a 503
    retried as the step's own failure, and the steps around it run once."""
    on(stack, transport)
    allow(stack, f"127.0.0.1:{stack.receiver.port}")
    path = f"/answer-{transport}"
    stack.receiver.script(path, Answer(503, {}, b"busy"), Answer(200, {"Content-Type": "application/json"}, b'{"score": 0.9}', delay=1.5))
    job_id = steps_job(stack, [{"name": "before"}, {"name": "ask", "kind": "call", "url": stack.receiver.url(path), "body": "hi"},
                               {"name": "after"}])
    if transport == "qstash":
        # The second try: QStash holds the app's slow answer (1.5 s) while no worker runs.
        seen = stack.wait_for(job_id, lambda j: j["status"] == "waiting" and j["waitingFor"]["kind"] == "call"
                              and [s["attempts"] for s in j.get("steps", []) if s["name"] == "ask"] == [2], timeout=20)
        assert seen["waitingFor"]["step"] == "ask" and len(stack.receiver.at(path)) == 1
        eventually(lambda: stack.functions["ai_router"].active == 0, timeout=1.0, what="no worker running while QStash waits")
    job = stack.wait_status(job_id, "succeeded", "failed", "dead", timeout=40)
    assert job["status"] == "succeeded", job
    answer = job["result"]["steps"]["ask"]
    assert answer["status"] == 200 and answer["json"] == {"score": 0.9} and answer["headers"]["content-type"] == "application/json"
    assert [r.body for r in stack.receiver.at(path)] == [b"hi", b"hi"]
    assert [executions(stack, job_id, s) for s in ("before", "after")] == [1, 1]
    assert [(s["name"], s["status"], s["attempts"]) for s in job["steps"]] == [("before", "done", 1), ("ask", "done", 2), ("after", "done", 1)]


def test_a_call_to_a_host_not_allowed_fails_before_anything_is_sent(stack: Stack) -> None:
    job_id = steps_job(stack, [{"name": "ask", "kind": "call", "url": "https://example.com/hook"}])
    job = stack.wait_status(job_id, "failed", "succeeded", timeout=20)
    assert job["error"]["code"] == "host_not_allowed", job["error"]
    forged = stack.api.post("/v1/events", json={"key": f"courier-call.{job_id}.0.1", "data": {"status": 200}}, headers=stack.headers())
    assert forged.status_code == 422 and forged.json()["error"]["code"] == "invalid_event_key"  # a tenant cannot answer a call


def test_a_call_answer_delivered_twice_at_once_wakes_the_job_once(stack: Stack) -> None:
    """QStash may deliver a callback more than once: two signed deliveries of one answer, at
    once, while the app is still slow to answer; the steps after the call run once, and the
    app's own late answer changes nothing."""
    allow(stack, f"127.0.0.1:{stack.receiver.port}")
    stack.receiver.script("/slow", Answer(200, {"Content-Type": "application/json"}, b'{"late": true}', delay=4))
    job_id = steps_job(stack, [{"name": "before"}, {"name": "ask", "kind": "call", "url": stack.receiver.url("/slow")}, {"name": "after"}])
    stack.wait_for(job_id, lambda j: j["status"] == "waiting" and j["waitingFor"]["kind"] == "call", timeout=20)
    key = f"courier-call.{job_id}.1.1"
    url = f"{stack.api_url}/v1/hooks/qstash/call?key={key}"
    body = json.dumps({"status": 200, "header": {"Content-Type": ["application/json"]},
                       "body": base64.b64encode(b'{"first": true}').decode()}).encode()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: stack.api.post(url, content=body, headers={"Upstash-Signature": sign(body, url)}), range(2)))
    assert [a.status_code for a in answers] == [200, 200]
    job = stack.wait_status(job_id, "succeeded", "failed", timeout=20)
    assert job["result"]["steps"]["ask"]["json"] == {"first": True}
    assert [executions(stack, job_id, s) for s in ("before", "after")] == [1, 1]
    unsigned = stack.api.post(url, content=body)
    assert unsigned.status_code == 401  # only QStash answers a call
    time.sleep(4.5)  # the app's own answer came back through QStash
    assert stack.job(job_id)["result"]["steps"]["ask"]["json"] == {"first": True} and executions(stack, job_id, "after") == 1
