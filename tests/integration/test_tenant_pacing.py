"""A tenant's rate on SQS: each job's delay comes from one slot counter per tenant and
worker in DynamoDB. Many senders at once (threads, as many API containers would be) on the
atomic-per-request local AWS must never share a slot: at a fixed instant, rate R a second
gives every job its own slot, one each 1/R s (each delay the slot's second, rounded up), however
the writes interleave."""

from __future__ import annotations

import math
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import boto3

from courier.jobs.dispatch import Dispatcher, Route
from courier.jobs.limits import TenantLimitsStore, cached_limits
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.pacing import RatePacer
from courier.jobs.store import new_job_id
from devstack.aws_resources import create_resources
from infra.config import CourierConfig

RATE, SENDERS, EACH, TRIALS = 5, 8, 5, 4


def test_concurrent_senders_never_share_a_slot(aws: str) -> None:
    table = create_resources(CourierConfig(stage="pace")).table_name
    for trial in range(TRIALS):
        pacer = RatePacer(table, clock=lambda at=1_000_000.0 + trial * 10_000: at)
        barrier = threading.Barrier(SENDERS)

        def send(pacer: RatePacer = pacer, barrier: threading.Barrier = barrier) -> list[int]:
            barrier.wait()
            return [pacer.delay("acme", "ai_router", RATE, 1) for _ in range(EACH)]

        with ThreadPoolExecutor(SENDERS) as pool:
            delays = [d for batch in [pool.submit(send) for _ in range(SENDERS)] for d in batch.result()]
        slots = Counter(math.ceil(k / RATE) for k in range(SENDERS * EACH))  # slot k starts k/RATE s from now
        assert Counter(delays) == slots, (trial, sorted(delays))


def test_a_period_longer_than_a_second_spreads_its_jobs_over_it(aws: str) -> None:
    table = create_resources(CourierConfig(stage="pace")).table_name
    pacer = RatePacer(table, clock=lambda: 2_000_000.0)
    assert [pacer.delay("acme", "video_processor", 3, 60) for _ in range(7)] == [0, 20, 40, 60, 80, 100, 120]
    assert pacer.delay("globex", "video_processor", 3, 60) == 0  # each tenant its own line


def test_sqs_dispatch_delays_what_is_over_the_tenants_rate(aws: str) -> None:
    resources = create_resources(CourierConfig(stage="pace"))
    table, queue_url = resources.table_name, resources.queues["ai_router"].queue_url
    TenantLimitsStore(table).set("acme", {"workers": {"ai_router": {"rate": 2, "period": 60}}})
    dispatcher = Dispatcher({"demo.sleep": Route("ai_router", "", queue_url, parallelism=4)}, mode="sqs",
                            limits=cached_limits(TenantLimitsStore(table)), pacer=RatePacer(table))
    now = utc_now()
    for tenant in ("acme",) * 5 + ("globex",) * 2:
        dispatcher.dispatch(Job(new_job_id(), tenant, "demo.sleep", JobStatus.QUEUED, {"seconds": 0}, now, now))
    sqs = boto3.client("sqs")
    visible = []
    for _ in range(4):
        visible += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       AttributeNames=["All"]).get("Messages", [])
    groups = Counter(m["Attributes"].get("MessageGroupId") for m in visible)
    assert groups == {"acme": 1, "globex": 2}  # acme's next ones come 30 s apart; globex has no limit
