"""Faults on the running local stack (the short forms; `make soak` runs the long ones).

For each: every job ends succeeded, failed or dead (never stuck, never lost), none ran
twice (counted by its side effect, an S3 object per run, not by its status), and the
reason is visible through the API. QStash's retry delays run at a fifth of their real
length here, so a receiver that is down for a second is retried within seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from qstash import QStash

from courier.jobs.messages import JobMessage
from devstack.model_server import ModelServer, Step
from devstack.qstash import DEV_TOKEN
from tests.e2e.conftest import DevStack, running_stack, with_models
from tests.support.models import DEFAULT_DEPLOYMENTS
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

#: The burst sizes and outage lengths; `make soak` sets COURIER_SOAK=1 for the long forms.
SOAK = os.environ.get("COURIER_SOAK") == "1"
BURST = 200 if SOAK else 40
#: Longer than a publish and its one retry wait (2 x 5 s), so some jobs go by SQS.
QSTASH_OUTAGE_SECONDS = 30 if SOAK else 12
AWS_OUTAGE_SECONDS = 5 if SOAK else 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, models: ModelServer) -> Iterator[DevStack]:
    catalog = {"deployments": [{"name": n, "keySecret": None, "timeoutSeconds": 2} for n in DEFAULT_DEPLOYMENTS],
               "retry": {"attemptsPerDeployment": 3, "baseDelaySeconds": 0.1}}
    with with_models(models.url, json.dumps(catalog)), running_stack(tmp_path_factory, backoff_scale=0.2) as devstack:
        yield devstack


def runs(stack: DevStack, job_id: str) -> int:
    """How many times the job's code ran: the S3 objects its runs wrote."""
    listing = stack.client("s3").list_objects_v2(Bucket=stack.state["resources"]["bucket"], Prefix=f"results/acme/{job_id}/runs/")
    return listing.get("KeyCount", 0)


def burst(stack: DevStack, count: int, during: Callable[[], None] | None = None, threads: int = 8) -> list[dict[str, Any]]:
    """Enqueue `count` marked jobs from `threads` threads, calling `during` once a quarter are in."""
    def submit(n: int) -> dict[str, Any]:
        if n == count // 4 and during:
            during()
        return stack.submit("demo.sleep", {"seconds": 0.05, "markRuns": True})

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(submit, range(count)))


def all_ran_once(stack: DevStack, accepted: list[dict[str, Any]], timeout: float = 120) -> list[dict[str, Any]]:
    jobs = [stack.finished(a["jobId"], timeout=timeout) for a in accepted]
    unfinished = [{k: j.get(k) for k in ("jobId", "status", "error", "lastResponse", "transport", "fallbackReason", "attempts")}
                  for j in jobs if j["status"] != "succeeded"]
    assert not unfinished, f"{len(unfinished)} of {len(jobs)} jobs did not succeed: {json.dumps(unfinished, indent=1)}"
    assert [runs(stack, j["jobId"]) for j in jobs] == [1] * len(jobs)
    return jobs


def pause(stack: DevStack, process: str, seconds: float) -> Callable[[], None]:
    """SIGSTOP a part of the stack now, SIGCONT it `seconds` later (it keeps its state)."""
    def go() -> None:
        pid = stack.state["processes"][process]
        os.kill(pid, signal.SIGSTOP)
        threading.Timer(seconds, os.kill, args=(pid, signal.SIGCONT)).start()

    return go


def test_qstash_stopped_during_a_burst(stack: DevStack) -> None:
    accepted = burst(stack, BURST, during=pause(stack, "qstash", QSTASH_OUTAGE_SECONDS))
    jobs = all_ran_once(stack, accepted)
    transports = {j["transport"] for j in jobs}
    assert "sqs" in transports, "jobs enqueued during the outage went by SQS"


def test_local_aws_stopped_during_a_burst(stack: DevStack) -> None:
    all_ran_once(stack, burst(stack, BURST, during=pause(stack, "aws", AWS_OUTAGE_SECONDS)))


def test_duplicate_deliveries_on_both_transports_at_once_run_the_job_once(stack: DevStack) -> None:
    qstash = QStash(DEV_TOKEN, base_url=stack.state["urls"]["qstash"])
    sqs = stack.client("sqs")
    worker_url = stack.state["urls"]["functionUrls"]["ai_router"]
    queue_url = stack.state["resources"]["queues"]["ai_router"]

    def sqs_holds_nothing() -> bool:
        counts = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return set(counts.values()) == {"0"}

    # The queue starts empty, so that "empty again" below speaks of these duplicates only.
    eventually(sqs_holds_nothing, timeout=60, what="the worker queue drained by the tests before")
    accepted = stack.submit("demo.sleep", {"seconds": 1.0, "markRuns": True})
    body = JobMessage(jobId=accepted["jobId"], type="demo.sleep").to_json()
    with ThreadPoolExecutor(8) as pool:
        sends = [pool.submit(qstash.message.publish, url=worker_url, body=body, content_type="application/json") for _ in range(4)]
        sends += [pool.submit(sqs.send_message, QueueUrl=queue_url, MessageBody=body) for _ in range(4)]
        published = [sent.result().message_id for sent in sends[:4]]
        for sent in sends[4:]:
            sent.result()
    job = stack.finished(accepted["jobId"])
    assert job["status"] == "succeeded" and runs(stack, accepted["jobId"]) == 1

    def delivered(message_id: str) -> bool:
        return any(e.state.value == "DELIVERED" for e in qstash.log.list(filter={"message_id": message_id}).logs)

    # The duplicates that met the running job come back after its lease and find it done:
    # QStash delivered each, and SQS deleted each (none left, none in flight).
    eventually(lambda: all(delivered(m) for m in published) and sqs_holds_nothing(), timeout=60,
               what="every duplicate delivery answered")
    assert runs(stack, accepted["jobId"]) == 1 and stack.job(accepted["jobId"])["attempts"] == 1


def test_an_upstream_that_throttles_fails_and_hangs_falls_back_to_an_answer(stack: DevStack, models: ModelServer) -> None:
    """429 with Retry-After, then 500, then no answer within its 2 s timeout: three attempts
    on the deployment, then the route's next one answers; every attempt is in the result."""
    models.script("DeepSeek-V3-0324", Step(429, headers={"Retry-After": "1"}), Step(500), Step(200, delay=4))
    accepted = stack.submit("ai.route", {"type": "generation", "prompt": "trends?"})
    job = stack.finished(accepted["jobId"])
    assert job["status"] == "succeeded", job
    attempts = job["result"]["attempts"]
    assert [a.get("httpStatus") for a in attempts[:2]] == [429, 500]
    assert attempts[2]["error"] == "timeout" and attempts[-1]["outcome"] == "ok"
    assert [a["deployment"] for a in attempts] == ["DeepSeek-V3-0324"] * 3 + [job["result"]["deployment"]]
    assert job["result"]["deployment"] != "DeepSeek-V3-0324" and job["attempts"] == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_callback_receiver_that_is_down_gets_the_outcome_when_it_is_back(stack: DevStack) -> None:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/done"
    response = stack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "tell me"}, "callbackUrl": callback})
    assert response.status_code == 202, response.text
    job = stack.finished(response.json()["jobId"])
    assert job["status"] == "succeeded"
    time.sleep(1.0)  # the first delivery of the callback meets a closed port
    with Receiver(port=port) as receiver:
        [delivery] = receiver.wait_count("/done", 1, timeout=30)
    assert json.loads(delivery.body)["jobId"] == job["jobId"]
    assert stack.job(job["jobId"])["callbackDelivery"]["status"] == "sent"
