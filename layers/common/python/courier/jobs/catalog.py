"""The catalogue: every job type and every worker, each declared once.

Everything that must agree about a job type reads it from here: the jobs API validates
inputs with its model and checks its tenancy rule; each worker registers the handlers of
its own types; CDK deploys each worker with its sizing, routes the types to it, and grants
model keys to the workers that call models; the local stack does the same offline.
Adding a job type is one `JobType` here and its handler; adding a worker is one `Worker`
here and its folder under functions/ (docs/architecture.md, "Adding a worker").

This module imports no CDK and no handler code: the handlers are named `module:function`
and imported on a worker's first job of the type (PyAV stays out of the cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from courier.errors import InvalidInput
from courier.jobs.inputs import AiRouteInput, DemoSleepInput, JobInput, TextHashInput, VideoAnalyzeInput

#: AWS guidance: a queue's visibility timeout is at least six times its function's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6


@dataclass(frozen=True)
class JobType:
    name: str
    #: The worker (a `Worker.name`) whose function runs it.
    worker: str
    #: What it accepts, with its limits (checked at enqueue and again at run).
    input: type[JobInput]
    #: `module:function` taking a JobContext and returning the result (a JSON object).
    handler: str
    #: Tenancy: input fields (by their JSON names) that name stored objects, which must be
    #: the caller's own uploads (`uploads/{tenant}/...`); checked at enqueue and where read.
    upload_fields: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Worker:
    """A queued worker: one Lambda reachable by Function URL (QStash) and by SQS."""

    name: str
    memory_mb: int
    timeout_seconds: int
    ephemeral_storage_mb: int = 512
    batch_size: int = 1
    #: The most invocations at once, by either queue: QStash's flow-control parallelism and
    #: the SQS event source's maximum concurrency.
    max_concurrency: int = 10
    #: Optional cap on deliveries started per second (QStash flow-control rate).
    rate_per_second: int | None = None
    #: Lambda reserved concurrency: the Function URL is public, so without a reservation
    #: a flood of unsigned requests could take the whole account's concurrency from the
    #: API. None reserves room for both queues at full parallelism (2 x `max_concurrency`:
    #: QStash's flow control and the SQS event source each take up to `max_concurrency`,
    #: and a throttled SQS receive counts toward the DLQ); 0 reserves nothing.
    reserved_concurrency: int | None = None
    #: Dependency layers (names in infra.assets.DEPENDENCY_LAYERS) besides the shared library.
    layers: tuple[str, ...] = ("deps",)
    #: Its jobs call AI models: it gets the model keys and the model catalog.
    calls_models: bool = False

    @property
    def job_types(self) -> tuple[str, ...]:
        return tuple(t.name for t in JOB_TYPES if t.worker == self.name)

    @property
    def visibility_timeout_seconds(self) -> int:
        return self.timeout_seconds * VISIBILITY_TIMEOUT_FACTOR

    @property
    def reserved(self) -> int | None:
        """The reservation CDK sets (None: none)."""
        if self.reserved_concurrency == 0:
            return None
        return self.reserved_concurrency or 2 * self.max_concurrency


WORKERS: tuple[Worker, ...] = (
    Worker(
        name="video_processor", memory_mb=3008, timeout_seconds=900, ephemeral_storage_mb=4096,
        layers=("deps", "video-deps"), calls_models=True,
    ),
    Worker(name="ai_router", memory_mb=512, timeout_seconds=300, max_concurrency=20, calls_models=True),
)

JOB_TYPES: tuple[JobType, ...] = (
    JobType("video.analyze", "video_processor", VideoAnalyzeInput, "courier.video.job:analyze_job",
            upload_fields=("videoKey",), summary="shot cuts, keyframes, frame metrics, optional captions"),
    JobType("ai.route", "ai_router", AiRouteInput, "courier.ai.jobs:route_job",
            summary="a prompt answered by the model its task type routes to"),
    JobType("text.hash", "ai_router", TextHashInput, "courier.jobs.builtin:text_hash",
            upload_fields=("uploadKey",), summary="a digest of text or of an upload (tests, doctor)"),
    JobType("demo.sleep", "ai_router", DemoSleepInput, "courier.jobs.builtin:demo_sleep",
            summary="waits and fails on purpose (retries, leases, DLQ)"),
)

_BY_NAME = {t.name: t for t in JOB_TYPES}



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
    return validated


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
