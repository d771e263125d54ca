"""The shapes of the catalogue's entries: a job type and a worker.

Their own module so a domain package's `job_types` or a worker folder's `worker.py` can
declare its entries while the catalogue (courier.jobs.catalog) is gathering them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from courier.jobs.inputs import JobInput

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
    #: `module:function` run once all the children a run started (`context.fan_out`) have
    #: ended, with their outcomes in `context.children`; its result is the job's.
    continuation: str | None = None
    #: `module:function(tenant_id, input)` that may refuse a request for the tenant at
    #: enqueue (raising InvalidInput), for rules that need the tenant's own data.
    admit: str | None = None
    #: What its runs return (the continuation's, for a type that fans out), a JobOutput: typed in the
    #: OpenAPI document and the TypeScript client, and checked when a run ends. None: any object.
    result: type[BaseModel] | None = None


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
    #: Dependency layers (names in infra.layer_sources.DEPENDENCY_LAYERS) besides the shared library.
    layers: tuple[str, ...] = ("deps",)
    #: Its jobs call AI models: it gets the model keys and the model catalog.
    calls_models: bool = False
    #: The types it runs: filled in by the catalogue, which gathers both (leave it out).
    job_types: tuple[str, ...] = ()

    @property
    def visibility_timeout_seconds(self) -> int:
        return self.timeout_seconds * VISIBILITY_TIMEOUT_FACTOR

    @property
    def reserved(self) -> int | None:
        """The reservation CDK sets (None: none)."""
        if self.reserved_concurrency == 0:
            return None
        return self.reserved_concurrency or 2 * self.max_concurrency
