"""Every way a job can go wrong ends in a known state, on both transports."""

from __future__ import annotations

import concurrent.futures
import json

import boto3
import httpx
import pytest
from qstash import QStash
from qstash.errors import QStashError

from courier.jobs.messages import JobMessage
from devstack.qstash import DEV_TOKEN
from tests.integration.jobs.conftest import LEASE_SECONDS, Stack, eventually


def qstash_down(stack: Stack) -> None:
    stack.qstash.stop()


def queue_depth(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_qstash_down_goes_by_sqs_and_still_calls_back(stack: Stack) -> None:
    qstash_down(stack)
    callback = stack.receiver.url("/cb")
    accepted = stack.submit({"type": "text.hash", "input": {"text": "via sqs"}, "callbackUrl": callback})
    assert accepted["transport"] == "sqs"
    job = stack.wait_status(accepted["jobId"], "succeeded")
    assert job["transport"] == "sqs" and job["attempts"] == 1
    [delivery] = stack.receiver.wait_count("/cb", 1)  # QStash is down: posted directly, signed the same way
    from qstash import Receiver

    from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY

    Receiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY).verify(signature=delivery.headers["Upstash-Signature"], body=delivery.body.decode(), url=callback)
    assert json.loads(delivery.body)["status"] == "succeeded"


def test_both_queues_down_is_503_and_the_job_is_kept(stack: Stack) -> None:
    qstash_down(stack)
    sqs = boto3.client("sqs")
    queue_url = stack.resources.queues["ai_router"].queue_url
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    sqs.delete_queue(QueueUrl=queue_url)
    body = {"type": "text.hash", "input": {"text": "kept"}, "idempotencyKey": "k-503"}
    response = stack.api.post("/v1/jobs", json=body, headers=stack.headers())
    assert response.status_code == 503 and response.headers["retry-after"]
    error = response.json()["error"]
    assert error["code"] == "queues_unavailable" and "job_" in error["message"]
    [job] = stack.api.get("/v1/jobs", headers=stack.headers()).json()["jobs"]
    assert job["status"] == "failed" and job["error"]["code"] == "dispatch_failed" and job["error"]["retryable"] is True
    # The queue is back: the same request again dispatches the same job.
    keep = {k: v for k, v in attributes.items() if k in ("VisibilityTimeout", "RedrivePolicy", "MessageRetentionPeriod")}
    sqs.create_queue(QueueName=queue_url.rsplit("/", 1)[1], Attributes=keep)
    again = stack.submit(body)
    assert again["jobId"] == job["jobId"] and again["transport"] == "sqs"
    stack.wait_status(job["jobId"], "succeeded", timeout=30)


def test_duplicate_and_concurrent_deliveries_run_once(stack: Stack) -> None:
    accepted = stack.submit({"type": "demo.sleep", "input": {"seconds": 1.0}, "delaySeconds": 1})
    message = JobMessage(jobId=accepted["jobId"], type="demo.sleep").to_json()
    client = QStash(DEV_TOKEN, base_url=stack.qstash.url, retry=False)
    url = stack.worker_urls["ai_router"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: client.message.publish(url=url, body=message), range(3)))
        boto3.client("sqs").send_message(QueueUrl=stack.resources.queues["ai_router"].queue_url, MessageBody=message)
    job = stack.wait_status(accepted["jobId"], "succeeded", timeout=30)
    assert job["attempts"] == 1 and job["result"]["attempt"] == 1  # five deliveries, one run
    # The duplicates were told "running elsewhere" (503 + Retry-After), then "done" (200).
    # (With this test's 1000x faster backoff QStash may give up on one first; its failure
    # callback then finds the job running and changes nothing.)
    eventually(lambda: queue_depth(stack.resources.queues["ai_router"].queue_url) == 0)
    assert stack.job(accepted["jobId"])["status"] == "succeeded"


def test_a_dead_workers_job_is_taken_again_after_its_lease(stack: Stack) -> None:
    qstash_down(stack)  # by SQS: redelivered after the visibility timeout, as in AWS
    accepted = stack.submit({"type": "text.hash", "input": {"text": "orphan"}, "delaySeconds": 1})
    claim = stack.store.claim(accepted["jobId"], LEASE_SECONDS)  # a worker took it ... and died
    assert claim.kind == "claimed"
    job = stack.wait_status(accepted["jobId"], "succeeded", timeout=30)
    assert job["attempts"] == 2  # the dead worker's attempt, and the one that finished it


@pytest.mark.parametrize("transport", ["qstash", "sqs"])
def test_retryable_failures_are_retried(stack: Stack, transport: str) -> None:
    if transport == "sqs":
        qstash_down(stack)
    accepted = stack.submit({"type": "demo.sleep", "input": {"failTimes": 2}})
    assert accepted["transport"] == transport
    job = stack.wait_status(accepted["jobId"], "succeeded", timeout=30)
    assert job["attempts"] == 3 and job["result"] == {"slept": 0.0, "attempt": 3}


@pytest.mark.parametrize("transport", ["qstash", "sqs"])
def test_non_retryable_failures_fail_once(stack: Stack, transport: str) -> None:
    if transport == "sqs":
        qstash_down(stack)
    callback = stack.receiver.url("/failed")
    accepted = stack.submit({"type": "demo.sleep", "input": {"failTimes": 1, "fail": "fatal"}, "callbackUrl": callback})
    job = stack.wait_status(accepted["jobId"], "failed")
    assert job["attempts"] == 1 and job["error"] == {"code": "demo_fatal", "message": "failing on purpose (attempt 1)", "retryable": False}
    [delivery] = stack.receiver.wait_count("/failed", 1)
    assert json.loads(delivery.body)["status"] == "failed"
    if transport == "qstash":
        client = QStash(DEV_TOKEN, base_url=stack.qstash.url, retry=False)
        stack.receiver.wait_for(lambda _: len(client.dlq.list().messages) == 1)
        assert client.dlq.list().messages[0].response_status == 489  # QStash did not retry it
    else:
        queues = stack.resources.queues["ai_router"]
        eventually(lambda: queue_depth(queues.queue_url) == 0)  # removed, not retried
        assert queue_depth(queues.dead_letter_queue_url) == 0
    assert stack.job(accepted["jobId"])["status"] == "failed"  # QStash's failure callback changed nothing


def test_exhausted_on_qstash_is_dead_with_the_last_response(stack: Stack) -> None:
    callback = stack.receiver.url("/dead")
    accepted = stack.submit({"type": "demo.sleep", "input": {"failTimes": 100}, "callbackUrl": callback})
    job = stack.wait_status(accepted["jobId"], "dead", timeout=30)
    assert job["attempts"] == 4  # the first delivery and QStash's 3 retries
    assert job["error"]["code"] == "retries_exhausted" and job["lastResponse"]["status"] == 503
    assert "failing on purpose" in job["lastResponse"]["body"]
    [delivery] = stack.receiver.wait_count("/dead", 1)
    assert json.loads(delivery.body)["status"] == "dead"


def test_exhausted_on_sqs_is_dead_and_in_the_dlq(stack: Stack) -> None:
    qstash_down(stack)
    accepted = stack.submit({"type": "demo.sleep", "input": {"failTimes": 100}})
    job = stack.wait_status(accepted["jobId"], "dead", timeout=40)
    assert job["attempts"] == 5 and job["error"]["code"] == "retries_exhausted"
    dlq = stack.resources.queues["ai_router"].dead_letter_queue_url
    eventually(lambda: queue_depth(dlq) == 1)


def test_cancel_a_queued_job_and_its_qstash_message(stack: Stack) -> None:
    accepted = stack.submit({"type": "text.hash", "input": {"text": "later"}, "delaySeconds": 600})
    cancelled = stack.api.delete(f"/v1/jobs/{accepted['jobId']}", headers=stack.headers())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    client = QStash(DEV_TOKEN, base_url=stack.qstash.url, retry=False)
    with pytest.raises(QStashError, match="404"):
        client.message.get(stack.job(accepted["jobId"])["messageId"])
    again = stack.api.delete(f"/v1/jobs/{accepted['jobId']}", headers=stack.headers())
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_cancellable"


def test_retry_a_failed_job(stack: Stack) -> None:
    accepted = stack.submit({"type": "demo.sleep", "input": {"failTimes": 1, "fail": "fatal"}})
    stack.wait_status(accepted["jobId"], "failed")
    retried = stack.api.post(f"/v1/jobs/{accepted['jobId']}/retry", headers=stack.headers())
    assert retried.status_code == 202 and retried.json()["status"] in ("queued", "running", "succeeded")
    job = stack.wait_status(accepted["jobId"], "succeeded")
    assert job["attempts"] == 2 and "error" not in job
    not_again = stack.api.post(f"/v1/jobs/{accepted['jobId']}/retry", headers=stack.headers())
    assert not_again.status_code == 409 and not_again.json()["error"]["code"] == "not_retriable"


def test_failure_hook_wants_a_qstash_signature(stack: Stack) -> None:
    forged = httpx.post(f"{stack.api_url}/v1/hooks/qstash/failure", json={"sourceBody": "e30=", "status": 500})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_signature"


def test_deliveries_signed_after_a_key_rotation_are_accepted(stack: Stack) -> None:
    client = QStash(DEV_TOKEN, base_url=stack.qstash.url, retry=False)
    client.signing_key.rotate()  # the workers still hold the old pair: the new current is their next
    accepted = stack.submit({"type": "text.hash", "input": {"text": "rotated"}})
    assert stack.wait_status(accepted["jobId"], "succeeded")["attempts"] == 1
