"""`GET /v1/usage`: each tenant's jobs and compute seconds this month, counted atomically."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from courier.jobs.usage import UsageStore, current_month
from devstack.aws_resources import create_resources
from infra.config import CourierConfig
from tests.integration.jobs.conftest import Stack


def test_jobs_and_their_compute_are_counted_per_tenant_and_type(stack: Stack) -> None:
    done = [stack.submit({"type": "text.hash", "input": {"text": f"t{n}"}}) for n in range(3)]
    failing = stack.submit({"type": "demo.sleep", "input": {"failTimes": 1}})
    for accepted in [*done, failing]:
        assert stack.wait_status(accepted["jobId"], "succeeded")["status"] == "succeeded"
    usage = stack.api.get("/v1/usage", headers=stack.headers()).json()
    assert usage["month"] == current_month() and usage["jobs"] == 4
    assert usage["byType"]["text.hash"]["jobs"] == 3 and usage["byType"]["demo.sleep"]["jobs"] == 1
    # Both attempts of the job that failed once count; every attempt takes at least a millisecond.
    assert usage["byType"]["demo.sleep"]["computeSeconds"] >= 0.002
    assert usage["computeSeconds"] == pytest.approx(sum(t["computeSeconds"] for t in usage["byType"].values()), abs=0.002)
    # An idempotent repeat is the same job: not counted again.
    key = {"type": "text.hash", "input": {"text": "once"}, "idempotencyKey": "once"}
    stack.submit(key), stack.submit(key)
    assert stack.api.get("/v1/usage", headers=stack.headers()).json()["jobs"] == 5
    other = stack.api.get("/v1/usage", headers=stack.headers("globex")).json()
    assert other == {"month": current_month(), "jobs": 0, "computeSeconds": 0.0, "byType": {}}


def test_another_month_and_a_bad_month(stack: Stack) -> None:
    assert stack.api.get("/v1/usage", params={"month": "2020-01"}, headers=stack.headers()).json()["jobs"] == 0
    bad = stack.api.get("/v1/usage", params={"month": "2020-13"}, headers=stack.headers())
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_month"
    assert stack.api.get("/v1/usage").status_code == 401


def test_concurrent_counts_are_never_lost(aws: str) -> None:
    """Many writers at once, as many workers finish at once: every count lands. A read-then-write
    counter loses some of these; DynamoDB's ADD (and the local AWS, serialised per request) does not."""
    table = create_resources(CourierConfig(stage="usage")).table_name
    store = UsageStore(table, client=boto3.client("dynamodb"))
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: store.add("acme", "video.analyze" if n % 2 else "text.hash", jobs=1, compute_ms=7), range(400)))
    month = store.month("acme")
    assert (month["jobs"], month["computeSeconds"]) == (400, 2.8)
    assert month["byType"] == {"text.hash": {"jobs": 200, "computeSeconds": 1.4}, "video.analyze": {"jobs": 200, "computeSeconds": 1.4}}
