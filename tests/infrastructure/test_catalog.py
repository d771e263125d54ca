"""One catalogue of job types and workers; everything that must agree with it is read here
and compared: the workers' registries and folders, the synthesized stack's routes,
variables and grants, and the local stack's. Drift between any of them fails this file."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from courier.jobs import catalog
from courier.jobs.catalog import Catalog, JobType
from courier.jobs.registry import JobRegistry
from devstack.aws_resources import LocalResources, WorkerQueues
from devstack.environment import DevSettings, function_environment
from infra.config import CourierConfig
from tests.infrastructure.test_stack import functions_by_service

ROOT = Path(__file__).resolve().parents[2]
CATALOG = catalog.load()
WORKERS, JOB_TYPES = CATALOG.workers, CATALOG.job_types
ROUTED = {t.name: t.worker for t in JOB_TYPES}


def test_the_catalogue_is_consistent() -> None:
    CATALOG.check()
    assert catalog.load() is CATALOG  # gathered once per process
    stray = JobType("x.y", "no_such_worker", JOB_TYPES[0].input, "m:f")
    with pytest.raises(ValueError, match="not a declared worker"):
        Catalog.of(WORKERS, (*JOB_TYPES, stray)).check()
    bad_field = JobType("x.z", "ai_router", JOB_TYPES[0].input, "m:f", upload_fields=("nope",))
    with pytest.raises(ValueError, match="upload_fields"):
        Catalog.of(WORKERS, (*JOB_TYPES, bad_field)).check()
    with pytest.raises(ValueError, match="workers without a job type"):
        Catalog.of(WORKERS, [t for t in JOB_TYPES if t.worker != "ai_router"]).check()


@pytest.mark.parametrize("worker", [w.name for w in WORKERS])
def test_each_workers_registry_runs_exactly_its_catalogue_types(worker: str) -> None:
    registry = JobRegistry.for_worker(worker)
    assert set(registry.job_types) == {t.name for t in JOB_TYPES if t.worker == worker}
    for job_type in registry.job_types:
        assert callable(registry.handler_for(job_type))  # every handler target imports
    for declared in JOB_TYPES:
        if declared.worker == worker and declared.continuation:
            assert callable(registry.continuation_for(declared.name))  # and every continuation
    handler = (ROOT / "functions" / worker / "handler.py").read_text()
    assert f'queued_worker_handler("{worker}", settings' in handler  # one way of building a worker's handler


def test_every_function_folder_is_declared() -> None:
    folders = {p.name for p in (ROOT / "functions").iterdir() if (p / "handler.py").exists()}
    assert folders == {f.name for f in CourierConfig().functions}


def _routes_in(text: str) -> dict[str, str]:
    return dict(re.findall(r'"([a-z0-9_.-]+)":\{"worker":"([a-z0-9_]+)"', text.replace('\\"', '"')))


def test_the_stack_routes_deploys_and_grants_by_the_catalogue(resources) -> None:
    functions = functions_by_service(resources)
    routes = functions["jobs_api"]["Environment"]["Variables"]["COURIER_JOB_TYPES"]
    assert _routes_in(json.dumps(routes)) == ROUTED
    for worker in WORKERS:
        variables = functions[worker.name]["Environment"]["Variables"]
        assert variables["WORKER_JOB_TYPES"] == ",".join(worker.job_types)
        assert ("MODEL_KEYS_SECRET_REF" in variables) is worker.calls_models
        assert functions[worker.name]["Timeout"] == worker.timeout_seconds
        assert functions[worker.name]["MemorySize"] == worker.memory_mb


def test_the_local_stack_routes_and_runs_by_the_catalogue() -> None:
    settings = DevSettings(lease_seconds=3)
    local = LocalResources("t", "b", {w.name: WorkerQueues(f"q-{w.name}", f"dlq-{w.name}") for w in WORKERS})
    api = function_environment(settings, "jobs_api", local)
    assert {k: v["worker"] for k, v in json.loads(api["COURIER_JOB_TYPES"]).items()} == ROUTED
    for worker in WORKERS:
        env = function_environment(settings, worker.name, local)
        assert env["WORKER_JOB_TYPES"] == ",".join(worker.job_types)
        assert ("MODEL_KEYS_SECRET_REF" in env) is worker.calls_models


def test_api_validation_knows_each_type_by_its_model() -> None:
    for declared in JOB_TYPES:
        module, _, name = declared.handler.partition(":")
        assert callable(getattr(importlib.import_module(module), name))
        with pytest.raises(Exception) as caught:
            CATALOG.validate_input(declared.name, {"certainly_not_a_field": 1})
        assert getattr(caught.value, "code", None) == "invalid_input"
