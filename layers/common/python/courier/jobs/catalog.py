"""The catalogue: every job type and every worker, each declared once.

Everything that must agree about a job type reads it from here: the jobs API validates
inputs with its model and checks its tenancy rule; each worker registers the handlers of
its own types; CDK deploys each worker with its sizing, routes the types to it, and grants
model keys to the workers that call models; the local stack does the same offline.

Courier's own workers and types are declared here. A team's own worker lives in one
folder, `functions/<name>/`, whose `worker.py` declares its `WORKER` and `JOB_TYPES`
(`courier new worker` writes it); the catalogue gathers every such folder (the `functions`
package: the repository locally, the workers layer on Lambda). docs/architecture.md,
"Adding a job type, or a worker".

This module imports no CDK and no handler code: the handlers are named `module:function`
and imported on a worker's first job of the type (PyAV stays out of the cold start).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from courier.errors import InvalidInput
from courier.jobs.entries import VISIBILITY_TIMEOUT_FACTOR as VISIBILITY_TIMEOUT_FACTOR
from courier.jobs.entries import JobType as JobType
from courier.jobs.entries import Worker as Worker
from courier.jobs.inputs import JobInput

#: Courier's own domain packages, each declaring its workers and job types in its
#: `job_types` module beside its inputs and code; named, not imported, here, so the
#: catalogue depends on none of what it gathers.
DOMAIN_PACKAGES = ("courier.video", "courier.ai", "courier.outbound", "courier.builtin")


def _declared(module_name: str) -> tuple[tuple[Worker, ...], tuple[JobType, ...]]:
    module = importlib.import_module(module_name)
    return tuple(module.WORKERS), tuple(module.JOB_TYPES)


#: The package whose subpackages with a `worker` module are workers of their own.
WORKER_PACKAGE = "functions"


def worker_folders() -> list[str]:
    """The folders under functions/ that declare a worker (have a worker.py)."""
    try:
        package = importlib.import_module(WORKER_PACKAGE)
    except ImportError:  # a function without the workers layer: built-ins only
        return []
    return sorted(
        info.name for info in pkgutil.iter_modules(package.__path__)
        if info.ispkg and importlib.util.find_spec(f"{WORKER_PACKAGE}.{info.name}.worker") is not None
    )


def _gather() -> tuple[tuple[Worker, ...], tuple[JobType, ...]]:
    """Every worker and type: the domain packages', then each worker folder's. Each worker
    comes out knowing its types (`Worker.job_types`)."""
    workers: list[Worker] = []
    types: list[JobType] = []
    for package in DOMAIN_PACKAGES:
        declared_workers, declared_types = _declared(f"{package}.job_types")
        workers += declared_workers
        types += declared_types
    for folder in worker_folders():
        module = importlib.import_module(f"{WORKER_PACKAGE}.{folder}.worker")
        declared: Worker = module.WORKER
        if declared.name != folder:
            raise ValueError(f"functions/{folder}/worker.py declares a worker named {declared.name!r}; name it {folder!r}")
        workers.append(declared)
        types.extend(module.JOB_TYPES)
    return tuple(replace(w, job_types=tuple(t.name for t in types if t.worker == w.name)) for w in workers), tuple(types)


WORKERS, JOB_TYPES = _gather()
_BY_NAME = {t.name: t for t in JOB_TYPES}

#: The worker folders this repository ships (Courier's worked example). Every other folder
#: under functions/ is a team's own: the shipped docs, figures and tests describe these
#: and the built-ins, and hold for any folder a team adds beside them.
SHIPPED_WORKER_FOLDERS = ("web_digest",)
_BUILTIN_WORKER_NAMES = {w.name for package in DOMAIN_PACKAGES for w in _declared(f"{package}.job_types")[0]}
SHIPPED_WORKERS = tuple(w for w in WORKERS if w.name in _BUILTIN_WORKER_NAMES or w.name in SHIPPED_WORKER_FOLDERS)
SHIPPED_JOB_TYPES = tuple(t for t in JOB_TYPES if t.worker in {w.name for w in SHIPPED_WORKERS})
_WORKER_TIMEOUTS = {w.name: w.timeout_seconds for w in WORKERS}



def validate_input(job_type: str, data: Any) -> JobInput:
    """The input as its type's model reads it, or InvalidInput naming the first problems."""
    declared = _BY_NAME.get(job_type)
    if declared is None:
        raise InvalidInput(f"unknown job type {job_type!r}", code="unknown_job_type", status=400)
    try:
        validated = declared.input.model_validate(data)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in error.errors()[:5]
        )
        raise InvalidInput(f"invalid input for {job_type}: {details}", code="invalid_input") from None
    validated.check()
    needed, limit = validated.run_seconds(), _WORKER_TIMEOUTS[declared.worker]
    if needed is not None and needed >= limit:
        raise InvalidInput(f"{job_type} runs on {declared.worker}, whose timeout is {limit} s: this input needs {needed:g} s",
                           code="exceeds_worker_timeout")
    return validated


def redacted_input(job_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """A stored input as every view shows it: its type's secrets hidden (`JobInput.redact`)."""
    declared = _BY_NAME.get(job_type)
    return declared.input.redact(data) if declared else data


def admit(job_type: str, tenant_id: str, validated: JobInput) -> None:
    """The type's tenant rule (`JobType.admit`), if it has one."""
    target = _BY_NAME[job_type].admit
    if target:
        module, _, function = target.partition(":")
        getattr(importlib.import_module(module), function)(tenant_id, validated)


def upload_keys(job_type: str, validated: JobInput) -> dict[str, str]:
    """The uploaded objects an input names, by field (the type's tenancy rule)."""
    declared = _BY_NAME[job_type]
    data = validated.model_dump(by_alias=True)
    return {name: str(data[name]) for name in declared.upload_fields if data.get(name) is not None}



def check() -> None:
    """The catalogue is consistent: unique names, every type's worker declared, every worker
    with at least one type (a test runs this; so does CDK before it synthesizes)."""
    names = [t.name for t in JOB_TYPES]
    if len(set(names)) != len(names):
        raise ValueError(f"a job type is declared twice: {sorted(names)}")
    workers = {w.name for w in WORKERS}
    if len(workers) != len(WORKERS):
        raise ValueError("a worker is declared twice")
    for t in JOB_TYPES:
        if t.worker not in workers:
            raise ValueError(f"{t.name} runs on {t.worker!r}, which is not a declared worker")
        unknown = set(t.upload_fields) - {f.alias or n for n, f in t.input.model_fields.items()}
        if unknown:
            raise ValueError(f"{t.name}: upload_fields {sorted(unknown)} are not fields of {t.input.__name__}")
    idle = [w.name for w in WORKERS if not w.job_types]
    if idle:
        raise ValueError(f"workers without a job type: {idle}")
