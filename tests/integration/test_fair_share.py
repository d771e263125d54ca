"""Tenants share a worker fairly, on both transports: while tenant A's backlog drains, tenant
B's job starts among the first, not after A's whole line. Through the real dispatcher, the
local QStash server (a flow-control key per tenant) and local AWS (a standard queue whose
messages are grouped by tenant: an SQS fair queue) with the local event source mapping;
the same runs with fairness off show the line each would wait in otherwise."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from qstash import QStash

from courier.jobs.dispatch import Dispatcher, Route
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.store import new_job_id
from devstack.qstash import DEV_TOKEN, QStashServer, ServerConfig
from devstack.runtime.sqs_poller import SqsPoller
from tests.support.receiver import Answer, Receiver

BACKLOG, PARALLELISM = 8, 2


def job(tenant: str) -> Job:
    now = utc_now()
    return Job(new_job_id(), tenant, "demo.sleep", JobStatus.QUEUED, {"seconds": 0}, now, now)


@pytest.mark.parametrize("fair", [True, False])
def test_qstash_a_tenant_with_a_backlog_does_not_hold_back_another(fair: bool, tmp_path: Path) -> None:
    with Receiver() as receiver, QStashServer(ServerConfig(port=0, db=tmp_path / "q.sqlite3", backoff_scale=0.001)) as server:
        # A's first ones hold the worker while the rest are sent (a loaded machine sends slowly).
        receiver.script("/worker", *[Answer(200, delay=4.0)] * PARALLELISM, *[Answer(200, delay=0.2)] * BACKLOG)
        route = Route("ai_router", receiver.url("/worker"), "", flow_key="courier-fair-ai_router", parallelism=PARALLELISM)
        dispatcher = Dispatcher({"demo.sleep": route}, mode="qstash", qstash=lambda: QStash(DEV_TOKEN, base_url=server.url), fair=fair)
        for _ in range(BACKLOG):
            dispatcher.dispatch(job("tenant-a"))
        b = job("tenant-b")
        dispatcher.dispatch(b)
        arrivals = receiver.wait_count("/worker", BACKLOG + 1, timeout=30)
    place = next(n for n, r in enumerate(arrivals) if JobMessage.model_validate_json(r.body).job_id == b.job_id)
    if fair:
        assert place <= PARALLELISM  # started with A's first ones, beside them: its own key had room
    else:
        assert place == BACKLOG  # behind every job of A's, in the worker's one line


@pytest.mark.parametrize("share_out", [True, False])
def test_qstash_many_busy_tenants_share_the_workers_concurrency(share_out: bool, tmp_path: Path) -> None:
    """Four tenants each send a backlog at once to a worker of concurrency 4: each key is
    pinned to its share, so once the first deliveries end at most 4 run at once (and never
    more than the worker's reservation, 2 x 4, on the way); without sharing, 16 run."""
    tenants, each, length = 4, 6, 1.0
    with Receiver() as receiver, QStashServer(ServerConfig(port=0, db=tmp_path / "q.sqlite3", backoff_scale=0.001)) as server:
        receiver.script("/worker", *[Answer(200, delay=length)] * (tenants * each))
        route = Route("ai_router", receiver.url("/worker"), "", flow_key="courier-share-ai_router", parallelism=PARALLELISM * 2)
        dispatcher = Dispatcher({"demo.sleep": route}, mode="qstash", qstash=lambda: QStash(DEV_TOKEN, base_url=server.url), share_out=share_out)
        for n in range(tenants):
            for _ in range(each):
                dispatcher.dispatch(job(f"tenant-{n}"))
        sent = time.time()
        arrivals = receiver.wait_count("/worker", tenants * each, timeout=60)
    worker = PARALLELISM * 2

    def running(at: float) -> int:
        return sum(1 for r in arrivals if r.started <= at < r.at)

    moments = sorted({r.started for r in arrivals} | {r.at - 0.001 for r in arrivals})
    steady = max((running(t) for t in moments if t > sent + length * 1.5), default=0)
    if share_out:
        assert max(running(t) for t in moments) <= 2 * worker
        assert steady <= worker, steady
    else:  # every key at the worker's parallelism: far past the reservation (16 when all start within a delivery's length)
        assert max(running(t) for t in moments) > 2 * worker


@pytest.mark.parametrize("worker_ticks", [True, False])
def test_qstash_a_share_comes_back_when_the_other_tenants_line_empties(worker_ticks: bool, tmp_path: Path) -> None:
    """A has a backlog, B a few jobs: while both are busy each has half the worker; once B's
    line is empty, the worker's ticks after its deliveries give A the whole worker back (as
    the worker runtime does after each QStash delivery). Without them A stays at half."""
    worker, length = PARALLELISM * 2, 1.0
    with Receiver() as receiver, QStashServer(ServerConfig(port=0, db=tmp_path / "q.sqlite3", backoff_scale=0.001)) as server:
        receiver.script("/worker", *[Answer(200, delay=length)] * 20)
        route = Route("ai_router", receiver.url("/worker"), "", flow_key="courier-back-ai_router", parallelism=worker)
        dispatcher = Dispatcher({"demo.sleep": route}, mode="qstash", qstash=lambda: QStash(DEV_TOKEN, base_url=server.url))
        for _ in range(16):
            dispatcher.dispatch(job("tenant-a"))
        for _ in range(2):
            dispatcher.dispatch(replace(job("tenant-b"), job_id="b-" + new_job_id()))
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(0.2):
                dispatcher.delivered("demo.sleep")

        ticker = threading.Thread(target=tick, daemon=True)
        if worker_ticks:
            ticker.start()
        try:
            arrivals = receiver.wait_count("/worker", 18, timeout=60)
            a_share = QStash(DEV_TOKEN, base_url=server.url).flow_control.get("courier-back-ai_router.tenant-a").parallelism_max
        finally:
            stop.set()
    b_done = max(r.at for r in arrivals if JobMessage.model_validate_json(r.body).job_id.startswith("b-"))
    after = [r for r in arrivals if r.started > b_done]
    peak_after = max((sum(1 for r in after if r.started <= t < r.at) for t in [r.started for r in after]), default=0)
    if worker_ticks:
        assert a_share == worker and peak_after == worker, (a_share, peak_after)
    else:
        assert a_share == worker // 2 and peak_after == worker // 2, (a_share, peak_after)


class Recording:
    """A function that notes whose job each invocation ran, in start order; its first
    PARALLELISM invocations (A's first jobs) hold their slots until the test lets each go."""

    name = "ai_router"

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = [threading.Event() for _ in range(PARALLELISM)]
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any], *, wait_for_slot: bool = False) -> Any:
        with self._lock:
            self.started += [JobMessage.model_validate_json(r["body"]).job_id for r in event["Records"]]
            place = len(self.started) - 1
        if place < PARALLELISM:
            self.release[place].wait(30)
        else:
            time.sleep(0.2)
        return {"batchItemFailures": []}


@pytest.mark.parametrize("fair", [True, False])
def test_sqs_a_tenant_with_a_backlog_does_not_hold_back_another(fair: bool, aws: str) -> None:
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"fair-{fair}")["QueueUrl"]
    dispatcher = Dispatcher({"demo.sleep": Route("ai_router", "", queue_url)}, mode="sqs", fair=fair)
    backlog = [job("tenant-a") for _ in range(BACKLOG)]
    for queued in backlog[:PARALLELISM]:
        dispatcher.dispatch(queued)
    function = Recording()
    poller = SqsPoller(sqs, queue_url, function, wait_seconds=0, idle_seconds=0.05, max_concurrency=PARALLELISM).start()
    try:
        deadline = time.monotonic() + 10
        while len(function.started) < PARALLELISM and time.monotonic() < deadline:
            time.sleep(0.01)
        for queued in backlog[PARALLELISM:]:  # A's backlog, while its first jobs run
            dispatcher.dispatch(queued)
        b = job("tenant-b")
        dispatcher.dispatch(b)
        function.release[0].set()  # one slot frees while A still has a job in flight, B none
        while len(function.started) < PARALLELISM + 1 and time.monotonic() < deadline + 20:
            time.sleep(0.02)
        function.release[1].set()
        while len(function.started) < BACKLOG + 1 and time.monotonic() < deadline + 20:
            time.sleep(0.02)
        time.sleep(0.4)  # the last batches end (and delete their messages) before the poller stops
    finally:
        poller.stop()
    place = function.started.index(b.job_id)
    if fair:
        assert place == PARALLELISM  # the next to start: A has a job in flight, B none
    else:
        assert place == BACKLOG
