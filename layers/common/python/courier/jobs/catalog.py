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

The catalogue is one object (`Catalog`), gathered once per process by `load()`; a test
builds its own from declarations it makes up. This module imports no CDK and no handler code: the handlers are named `module:function`
and imported on a worker's first job of the type (PyAV stays out of the cold start).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from courier.errors import InvalidInput, problems
from courier.jobs.entries import VISIBILITY_TIMEOUT_FACTOR as VISIBILITY_TIMEOUT_FACTOR
from courier.jobs.entries import JobType as JobType
from courier.jobs.entries import Worker as Worker
from courier.jobs.inputs import JobInput

#: Courier's own domain packages, each declaring its workers and job types in its
#: `job_types` module beside its inputs and code; named, not imported, here, so the
#: catalogue depends on none of what it gathers.
DOMAIN_PACKAGES = ("courier.video", "courier.ai", "courier.outbound", "courier.builtin")
#: The package whose folders with a `worker.py` are workers of their own.
WORKER_PACKAGE = "functions"
#: The worker folders this repository ships (Courier's worked example). Every other folder
#: under functions/ is a team's own: the shipped docs, figures and tests describe these
#: and the built-ins, and hold for any folder a team adds beside them.
SHIPPED_WORKER_FOLDERS = ("web_digest",)


def worker_folders(root: Path) -> list[str]:
    """The folders under `root` that declare a worker (have a worker.py): the one way
    workers are found, by CDK's build (the repository) and by the catalogue (the
    `functions` package, wherever it is: the repository locally, the workers layer on Lambda)."""
    return sorted(p.parent.name for p in root.glob("*/worker.py"))


def _package_folders() -> list[str]:
    try:
        package = importlib.import_module(WORKER_PACKAGE)
    except ImportError:  # a function without the workers layer: built-ins only
        return []
    return sorted({name for path in package.__path__ for name in worker_folders(Path(path))})


@dataclass(frozen=True)
class Catalog:
    """Every worker and job type, and what the API, the workers and CDK ask of them."""

    workers: tuple[Worker, ...]
    job_types: tuple[JobType, ...]
    #: The workers Courier itself declares (its domain packages') and ships (its example).
    shipped_worker_names: frozenset[str] = frozenset()
    _by_name: dict[str, JobType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {t.name: t for t in self.job_types})

    @classmethod
    def of(cls, workers: Sequence[Worker], job_types: Sequence[JobType], shipped: frozenset[str] = frozenset()) -> Catalog:
        """From declarations: each worker comes out knowing its types (`Worker.job_types`)."""
        return cls(tuple(replace(w, job_types=tuple(t.name for t in job_types if t.worker == w.name)) for w in workers),
                   tuple(job_types), shipped)

    @classmethod
    def gather(cls) -> Catalog:
        """The domain packages' declarations, then each worker folder's."""
        workers: list[Worker] = []
        types: list[JobType] = []
        for package in DOMAIN_PACKAGES:
            module = importlib.import_module(f"{package}.job_types")
            workers += module.WORKERS
            types += module.JOB_TYPES
        shipped = {w.name for w in workers} | set(SHIPPED_WORKER_FOLDERS)
        for folder in _package_folders():
            module = importlib.import_module(f"{WORKER_PACKAGE}.{folder}.worker")
            declared: Worker = module.WORKER
            if declared.name != folder:
                raise ValueError(f"functions/{folder}/worker.py declares a worker named {declared.name!r}; name it {folder!r}")
            workers.append(declared)
            types.extend(module.JOB_TYPES)
        return cls.of(workers, types, frozenset(shipped))

    @property
    def shipped_workers(self) -> tuple[Worker, ...]:
        return tuple(w for w in self.workers if w.name in self.shipped_worker_names)

    @property
    def shipped_job_types(self) -> tuple[JobType, ...]:
        return tuple(t for t in self.job_types if t.worker in self.shipped_worker_names)

    def worker(self, name: str) -> Worker:
        return next(w for w in self.workers if w.name == name)

    def job_type(self, name: str) -> JobType:
        """The declared type, or InvalidInput (400 unknown_job_type)."""
        declared = self._by_name.get(name)
        if declared is None:
            known = sorted(self._by_name)
            near = difflib.get_close_matches(str(name), known, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InvalidInput(f"unknown job type {name!r}; {hint}the job types are {', '.join(known)}", code="unknown_job_type", status=400)
        return declared

    def validate_input(self, job_type: str, data: Any) -> JobInput:
        """The input as its type's model reads it, or InvalidInput naming the first problems."""
        declared = self.job_type(job_type)
        try:
            validated = declared.input.model_validate(data)
        except ValidationError as error:
            raise InvalidInput(f"invalid input for {job_type}: {problems(error.errors())}", code="invalid_input") from None
        validated.check()
        needed, limit = validated.run_seconds(), self.worker(declared.worker).timeout_seconds
        if needed is not None and needed >= limit:
            raise InvalidInput(f"{job_type} runs on {declared.worker}, whose timeout is {limit} s: this input needs {needed:g} s",
                               code="exceeds_worker_timeout")
        return validated

    def redacted_input(self, job_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """A stored input as every view shows it: its type's secrets hidden (`JobInput.redact`)."""
        declared = self._by_name.get(job_type)
        return declared.input.redact(data) if declared else data

    def admit(self, job_type: str, tenant_id: str, validated: JobInput) -> None:
        """The type's tenant rule (`JobType.admit`), if it has one."""
        target = self.job_type(job_type).admit
        if target:
            module, _, function = target.partition(":")
            getattr(importlib.import_module(module), function)(tenant_id, validated)

    def upload_keys(self, job_type: str, validated: JobInput) -> dict[str, str]:
        """The uploaded objects an input names, by field (the type's tenancy rule)."""
        declared = self.job_type(job_type)
        data = validated.model_dump(by_alias=True)
        return {name: str(data[name]) for name in declared.upload_fields if data.get(name) is not None}

    def check(self) -> None:
        """Consistent: unique names, every type's worker declared, every worker with at least
        one type (a test runs this; so does CDK before it synthesizes)."""
        names = [t.name for t in self.job_types]
        if len(set(names)) != len(names):
            raise ValueError(f"a job type is declared twice: {sorted(names)}")
        workers = {w.name for w in self.workers}
        if len(workers) != len(self.workers):
            raise ValueError("a worker is declared twice")
        for t in self.job_types:
            if t.worker not in workers:
                raise ValueError(f"{t.name} runs on {t.worker!r}, which is not a declared worker")
            unknown = set(t.upload_fields) - {f.alias or n for n, f in t.input.model_fields.items()}
            if unknown:
                raise ValueError(f"{t.name}: upload_fields {sorted(unknown)} are not fields of {t.input.__name__}")
        idle = [w.name for w in self.workers if not w.job_types]
        if idle:
            raise ValueError(f"workers without a job type: {idle}")


@cache
def load() -> Catalog:
    """This process's catalogue, gathered on first use."""
    return Catalog.gather()
