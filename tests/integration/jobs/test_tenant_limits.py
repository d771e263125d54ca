"""A tenant's limits, set by an operator while jobs run: only an operator key reaches them,
the next dispatch applies them on QStash (the tenant's flow-control key) and its queued cap
refuses what is over it, with nothing recorded; clearing them brings the catalogue's back."""

from __future__ import annotations

import time
from typing import Any

from qstash import QStash

from courier.auth.api_keys import ApiKeyStore
from courier.jobs import catalog
from courier.jobs.fair_share import REBALANCE_SECONDS
from devstack.qstash import DEV_TOKEN
from tests.integration.jobs.conftest import Stack

LATER = {"type": "text.hash", "input": {"text": "later"}, "delaySeconds": 900, "transport": "qstash"}


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def test_only_an_operator_key_reads_or_changes_a_tenants_limits(stack: Stack) -> None:
    path = "/v1/tenants/acme/limits"
    assert stack.api.get(path).status_code == 401
    tenant_answer = stack.api.patch(path, json={"maxQueued": 1}, headers=stack.headers("acme"))
    assert tenant_answer.status_code == 403 and error_code(tenant_answer) == "operator_only"
    operator = {"Authorization": "Bearer " + ApiKeyStore(stack.resources.table_name).create(None, "ops", operator=True)[1]}
    as_tenant = stack.api.get("/v1/jobs", headers=operator)  # an operator key acts for no tenant
    assert as_tenant.status_code == 403 and error_code(as_tenant) == "operator_key"
    shown = stack.api.get(path, headers=operator)
    assert shown.status_code == 200, shown.text
    ai_router = catalog.load().worker("ai_router")
    assert shown.json()["workers"] == {} and shown.json()["inForce"]["ai_router"]["concurrency"] == ai_router.max_concurrency
    for bad, code in (({"workers": {"nope": {"concurrency": 1}}}, "unknown_worker"),
                      ({"workers": {"ai_router": {"concurrency": 0}}}, "invalid_limits"),
                      ({"workers": {"ai_router": {"burst": 3}}}, "invalid_limits"),
                      ({"maxQueued": -1}, "invalid_limits")):
        refused = stack.api.patch(path, json=bad, headers=operator)
        assert refused.status_code == 422 and error_code(refused) == code, (bad, refused.text)
    assert stack.api.get("/v1/tenants/not%20a%20tenant/limits", headers=operator).status_code == 422


def test_limits_apply_to_the_next_dispatch_without_a_deploy(stack: Stack) -> None:
    operator = {"Authorization": "Bearer " + ApiKeyStore(stack.resources.table_name).create(None, "ops", operator=True)[1]}
    path = "/v1/tenants/acme/limits"
    changed = stack.api.patch(path, json={"workers": {"ai_router": {"concurrency": 2, "rate": 5, "period": 10}}, "maxQueued": 2}, headers=operator)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["inForce"]["ai_router"] == {"concurrency": 2, "rate": 5, "period": 10} and body["maxQueuedInForce"] == 2
    assert body["inForce"]["video_processor"]["concurrency"] == catalog.load().worker("video_processor").max_concurrency

    first = stack.submit(LATER)
    qstash = QStash(DEV_TOKEN, base_url=stack.qstash.url)
    flow = qstash.flow_control.get("courier-test-ai_router.acme")
    assert (flow.parallelism_max, flow.rate_max, flow.rate_period) == (2, 5, 10)
    stack.submit(LATER)
    over = stack.api.post("/v1/jobs", json=LATER, headers=stack.headers("acme"))
    assert over.status_code == 429 and error_code(over) == "too_many_queued" and over.headers["retry-after"]
    assert len(stack.api.get("/v1/jobs?status=queued", headers=stack.headers("acme")).json()["jobs"]) == 2  # nothing recorded
    stack.submit(LATER, tenant="globex")  # another tenant's cap is the deployment's

    cleared = stack.api.patch(path, json={"workers": {"ai_router": {"concurrency": None, "rate": None}}, "maxQueued": None}, headers=operator)
    assert cleared.status_code == 200 and cleared.json()["workers"] == {} and cleared.json()["maxQueued"] is None
    time.sleep(REBALANCE_SECONDS)  # the key's share is set again at the next dispatch after this
    stack.submit(LATER)
    flow = qstash.flow_control.get("courier-test-ai_router.acme")
    assert flow.parallelism_max == catalog.load().worker("ai_router").max_concurrency and not flow.rate_max
    assert first["jobId"]
