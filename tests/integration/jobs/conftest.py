"""The jobs system on loopback: moto (server mode), the local QStash server, the real
handlers behind local Function URLs, SQS pollers and an HTTP API, wired as CDK wires them."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from courier.auth.api_keys import ApiKeyStore
from courier.jobs.dynamodb_store import DynamoJobStore
from courier.network import LOOPBACK_SETTING
from devstack.aws_resources import LocalResources, create_resources
from devstack.model_server import ModelServer
from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN, QStashServer, ServerConfig
from devstack.runtime.http_gateway import LambdaHttpServer
from devstack.runtime.invoke import LocalFunction
from devstack.runtime.sqs_poller import SqsPoller
from infra.config import CourierConfig
from infra.environment import job_type_routes
from tests.support.jobs import wait_for_job
from tests.support.models import catalog_override
from tests.support.receiver import Receiver
from tests.support.waiting import eventually  # noqa: F401 - the jobs tests import it from here

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log

#: Short leases and visibility timeouts: a dead worker's job is free again in seconds.
LEASE_SECONDS = 2
VISIBILITY_SECONDS = 1
#: An idle poller's longest pause (a message made visible by time, not sent, waits this long).
POLL_IDLE_SECONDS = 0.25
_POLLERS: list[SqsPoller] = []


def _wake_pollers(**_: Any) -> None:
    for poller in list(_POLLERS):
        poller.wake()


# Everything in this process (the API, the workers, the tests) sends by clients of boto3's own
# session: a send wakes the pollers, so they can pause long between empty receives (idle short
# polls of every worker's queue took a fifth of a core for the whole run).
if boto3.DEFAULT_SESSION is None:
    boto3.setup_default_session()
for _call in ("SendMessage", "SendMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"):
    boto3.DEFAULT_SESSION.events.register(f"after-call.sqs.{_call}", _wake_pollers)  # type: ignore[union-attr]


@dataclass
class Stack:
    api: httpx.Client
    api_url: str
    qstash: QStashServer
    resources: LocalResources
    receiver: Receiver
    keys: dict[str, str]
    store: DynamoJobStore
    worker_urls: dict[str, str]
    functions: dict[str, LocalFunction] = field(default_factory=dict)

    def headers(self, tenant: str = "acme") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[tenant]}"}

    def submit(self, body: dict[str, Any], tenant: str = "acme", expect: int = 202) -> dict[str, Any]:
        response = self.api.post("/v1/jobs", json=body, headers=self.headers(tenant))
        assert response.status_code == expect, response.text
        return response.json()

    def job(self, job_id: str, tenant: str = "acme") -> dict[str, Any]:
        response = self.api.get(f"/v1/jobs/{job_id}", headers=self.headers(tenant))
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for(self, job_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0, tenant: str = "acme") -> dict[str, Any]:
        return wait_for_job(lambda j: self.job(j, tenant), job_id, predicate, timeout)

    def wait_status(self, job_id: str, *statuses: str, timeout: float = 20.0, tenant: str = "acme") -> dict[str, Any]:
        return self.wait_for(job_id, lambda job: job["status"] in statuses, timeout, tenant)


def load_handler(name: str) -> Any:
    module = f"functions.{name}.handler"
    sys.modules.pop(module, None)
    return importlib.import_module(module).handler


@pytest.fixture
def stack(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    config = CourierConfig(stage="test")
    resources = create_resources(config, visibility_timeout_seconds=VISIBILITY_SECONDS)
    qstash = QStashServer(ServerConfig(port=0, db=tmp_path / "qstash.sqlite3", backoff_scale=0.001)).start()
    env = {
        "TABLE_NAME": resources.table_name,
        "BUCKET_NAME": resources.bucket_name,
        "QSTASH_URL": qstash.url,
        "QSTASH_TOKEN": DEV_TOKEN,
        "QSTASH_CURRENT_SIGNING_KEY": DEV_CURRENT_SIGNING_KEY,
        "QSTASH_NEXT_SIGNING_KEY": DEV_NEXT_SIGNING_KEY,
        "DISPATCH_MODE": "auto",
        LOOPBACK_SETTING: "true",
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "POWERTOOLS_SERVICE_NAME": "courier-test",
        "COURIER_SOURCES_KEY": resources.sources_key,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    servers: list[Any] = [qstash]
    functions: dict[str, LocalFunction] = {}
    worker_urls: dict[str, str] = {}
    pollers = []
    sqs = boto3.client("sqs")
    with Receiver() as receiver:
        try:
            # The API first: the workers send jobs too (children, continuations), through it
            # for QStash's failure hook, and by the routes parameter, written once URLs are known.
            api_holder: dict[str, LocalFunction] = {}
            api_server = LambdaHttpServer(lambda method, path: (api_holder["fn"], f"{method} {path}"), kind="http_api").start()
            servers.append(api_server)
            monkeypatch.setenv("PUBLIC_API_URL", api_server.url)
            monkeypatch.setenv("COURIER_JOB_TYPES_PARAMETER", config.job_routes_parameter)
            for spec in config.workers:
                holder: dict[str, LocalFunction] = {}
                server = LambdaHttpServer(lambda method, path, h=holder: (h["fn"], "$default"), kind="function_url").start()
                servers.append(server)
                url = server.url + "/"
                monkeypatch.setenv("WORKER_NAME", spec.name)
                monkeypatch.setenv("WORKER_JOB_TYPES", ",".join(spec.job_types))
                monkeypatch.setenv("WORKER_PUBLIC_URL", url)
                monkeypatch.setenv("WORKER_TIMEOUT_SECONDS", "30")
                function = LocalFunction(spec.name, load_handler(spec.name), timeout_seconds=30, max_concurrency=10)
                holder["fn"] = functions[spec.name] = function
                worker_urls[spec.name] = url
                queue_url = resources.queues[spec.name].queue_url
                # One batch at a time: these tests' lease is 2 s, so a redelivery running beside
                # a longer run would take the job over by design (the stack's lease outlives a run).
                pollers.append(SqsPoller(sqs, queue_url, function, batch_size=spec.batch_size, wait_seconds=0,
                                         idle_seconds=POLL_IDLE_SECONDS).start())
            _POLLERS[:] = pollers
            job_types = job_type_routes(config.workers, worker_urls.__getitem__, lambda w: resources.queues[w].queue_url, stage=config.stage)
            for route in job_types.values():
                route["timeoutSeconds"] = "30"
            boto3.client("ssm").put_parameter(Name=config.job_routes_parameter, Value=json.dumps(job_types), Type="String", Overwrite=True)
            for name in ("WORKER_NAME", "WORKER_JOB_TYPES", "WORKER_PUBLIC_URL", "WORKER_TIMEOUT_SECONDS", "COURIER_JOB_TYPES_PARAMETER"):
                monkeypatch.delenv(name)
            monkeypatch.setenv("COURIER_JOB_TYPES", json.dumps(job_types))
            api_holder["fn"] = functions["jobs_api"] = LocalFunction("jobs_api", load_handler("jobs_api"), timeout_seconds=29)
            key_store = ApiKeyStore(resources.table_name)
            keys = {tenant: key_store.create(tenant, "test")[1] for tenant in ("acme", "globex")}
            with httpx.Client(base_url=api_server.url, timeout=30) as api:
                yield Stack(api, api_server.url, qstash, resources, receiver, keys, DynamoJobStore(resources.table_name), worker_urls, functions)
        finally:
            _POLLERS.clear()
            for poller in pollers:
                poller.request_stop()  # their long polls end together, not one after another
            for poller in pollers:
                poller.stop()
            for server in reversed(servers):
                server.stop()


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    """Model deployments (a fake OpenAI-compatible server) configured for the workers."""
    with ModelServer() as server:
        monkeypatch.setenv("AZURE_AI_FOUNDRY_ENDPOINT", server.url)
        monkeypatch.setenv("COURIER_AI_CATALOG", catalog_override(server.url))
        yield server
