"""Fan-in counting under concurrent and duplicate child completions, on both stores.

Each trial: a parent waits for eight children; every child's end is reported twice at once
(16 threads released by a barrier: a finishing run and a redelivery), through the local
AWS the stack runs. The parent must resume exactly once, and its continuation be sent
exactly once. The control does the same with a read-then-write count, and loses counts:
the harness can see a race when there is one.
"""

from __future__ import annotations

import concurrent.futures
import threading

import boto3
import pytest

from courier.jobs.dispatch import Dispatcher, Route
from courier.jobs.dynamodb_store import DynamoJobStore
from courier.jobs.lifecycle import Event
from courier.jobs.memory_store import MemoryJobStore
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.notify import Notifier
from courier.jobs.service import JobService
from courier.jobs.store import JobStore, new_job_id
from devstack.aws_resources import create_resources
from infra.config import CourierConfig

CHILDREN, TRIALS = 8, 12


@pytest.fixture(params=["dynamodb", "memory"])
def service(request: pytest.FixtureRequest, aws: str) -> JobService:
    resources = create_resources(CourierConfig(stage="fanin"))
    store: JobStore = MemoryJobStore() if request.param == "memory" else DynamoJobStore(resources.table_name)
    queue = resources.queues["ai_router"].queue_url
    routes = {t: Route("ai_router", "", queue) for t in ("batch.run", "text.hash")}
    notifier = Notifier(None, lambda: None, log=store)  # type: ignore[arg-type, return-value]
    return JobService(store, Dispatcher(routes, mode="sqs"), notifier)


def waiting_parent(service: JobService) -> tuple[Job, list[Job]]:
    """A batch.run parent that waits for CHILDREN finished children (their ends not counted yet)."""
    now, store = utc_now(), service.store
    parent, _ = store.create(Job(new_job_id(), "acme", "batch.run", JobStatus.QUEUED, {"jobs": []}, now, now))
    running = store.claim(parent.job_id, 60).job
    children = [service.submit("acme", "text.hash", {"text": str(i)}, parent_id=parent.job_id, hold=True)[0] for i in range(CHILDREN)]
    waiting = store.wait_for_children(running, [c.job_id for c in children])
    assert waiting is not None and waiting.status is JobStatus.WAITING
    finished = []
    for child in children:
        done = store.finish(store.claim(child.job_id, 60).job, Event.SUCCEED, result={"ok": True})
        assert done is not None
        finished.append(done)
    return waiting, finished


def report_twice_at_once(pool: concurrent.futures.Executor, children: list[Job], report: object) -> None:
    start = threading.Barrier(2 * len(children))

    def both(child: Job) -> None:
        start.wait()
        report(child)  # type: ignore[operator]

    list(pool.map(both, children + children))


def test_every_child_is_counted_once_and_the_parent_resumes_once(service: JobService) -> None:
    wrong = []
    with concurrent.futures.ThreadPoolExecutor(2 * CHILDREN) as pool:
        for trial in range(TRIALS):
            parent, children = waiting_parent(service)
            report_twice_at_once(pool, children, service.fan_in.child_finished)
            after = service.store.get(parent.job_id)
            assert after is not None
            if (after.status, after.dispatches, after.children_open) != (JobStatus.QUEUED, 1, None):
                wrong.append(f"trial {trial}: {after.status.value}, sent {after.dispatches}x, open {after.children_open}")
    assert not wrong, wrong


def test_the_control_a_read_then_write_count_loses_children(aws: str) -> None:
    """The same concurrency against a count kept by get-then-put: some trial must lose a
    child (if none did, the test above would prove nothing about races)."""
    table = create_resources(CourierConfig(stage="control")).table_name
    client = boto3.client("dynamodb")
    lost = 0
    with concurrent.futures.ThreadPoolExecutor(2 * CHILDREN) as pool:
        for trial in range(TRIALS):
            key = {"pk": {"S": f"CONTROL#{trial}"}, "sk": {"S": "JOB"}}
            client.put_item(TableName=table, Item={**key, "open": {"N": str(CHILDREN)}})

            start = threading.Barrier(CHILDREN)

            def naive(child: int, key: dict[str, dict[str, str]] = key, start: threading.Barrier = start) -> None:
                start.wait()
                seen = int(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["open"]["N"])
                client.put_item(TableName=table, Item={**key, "open": {"N": str(seen - 1)}})

            list(pool.map(naive, range(CHILDREN)))
            left = int(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["open"]["N"])
            lost += left != 0
    assert lost > 0, "no trial lost a count: the harness shows no concurrency"
