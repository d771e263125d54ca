"""The local stack as `courier dev up` runs it: a supervisor, moto, the QStash server
and one process per function, on free loopback ports, torn down with `courier dev down`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from courier.auth.api_keys import ApiKeyStore
from devstack.cli import alive, down, up
from devstack.environment import DevSettings, free_port_base
from devstack.model_server import ModelServer
from tests.support.jobs import FINISHED, wait_for_job
from tests.support.least_privilege import denials

#: A job lease shorter than the kill test needs to wait, longer than any job here runs.
LEASE_SECONDS = 3.0


@dataclass
class DevStack:
    settings: DevSettings
    api: httpx.Client
    key: str

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.settings.state_file.read_text())

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.settings.aws_url)

    def submit(self, job_type: str, data: dict[str, Any]) -> dict[str, Any]:
        response = self.api.post("/v1/jobs", json={"type": job_type, "input": data})
        assert response.status_code == 202, response.text
        return response.json()

    def job(self, job_id: str) -> dict[str, Any]:
        return self.api.get(f"/v1/jobs/{job_id}").json()

    def wait_for(self, job_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        return wait_for_job(self.job, job_id, done, timeout)

    def finished(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        return self.wait_for(job_id, lambda j: j["status"] in FINISHED, timeout)


@pytest.fixture(scope="module")
def devstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with running_stack(tmp_path_factory, backoff_scale=0.002) as stack:
        yield stack


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    """A fake OpenAI-compatible model server for the module's stack (see with_models)."""
    with ModelServer() as server:
        yield server


@contextmanager
def with_models(url: str, catalog: str) -> Iterator[None]:
    """The model settings the local stack passes to its workers, pointed at a fake model server."""
    saved = {k: os.environ.get(k) for k in ("AZURE_AI_FOUNDRY_ENDPOINT", "COURIER_AI_CATALOG")}
    os.environ.update(AZURE_AI_FOUNDRY_ENDPOINT=url, COURIER_AI_CATALOG=catalog)
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


@contextmanager
def running_stack(tmp_path_factory: pytest.TempPathFactory, *, backoff_scale: float) -> Iterator[DevStack]:
    """`courier dev up` on free ports; `courier dev down` after, checking it leaves nothing."""
    settings = DevSettings(
        directory=tmp_path_factory.mktemp("devstack"), port_base=free_port_base(), backoff_scale=backoff_scale, lease_seconds=LEASE_SECONDS,
    )
    state = up(settings, quiet=True)
    pids = [state["pid"], *state["processes"].values()]
    try:
        table = state["resources"]["table"]
        key = ApiKeyStore(table, client=boto3.client("dynamodb", endpoint_url=settings.aws_url)).create("acme", "e2e")[1]
        with httpx.Client(base_url=state["urls"]["api"], headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
            yield DevStack(settings, api, key)
    finally:
        pids += list(json.loads(settings.state_file.read_text())["processes"].values()) if settings.state_file.exists() else []
        bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        down(settings)
        leftovers = [pid for pid in pids if alive(pid)]
        assert not leftovers, f"courier dev down left {leftovers} running"
        assert not settings.state_file.exists()
        assert bystander.poll() is None, "courier dev down stopped a process it did not start"
        bystander.kill()
        bystander.wait()
    # Least privilege, by running: every call each function made, against its deployed role.
    refused = denials(settings.aws_audit_log, state["resources"])
    assert not refused, "the template's roles would refuse calls the functions made:\n" + "\n".join(refused)


def logs(stack: DevStack, name: str) -> str:
    return (Path(stack.state["logs"]) / f"{name}.log").read_text(errors="replace")
