"""Each tenant's limits: how many of its jobs a worker runs at once, how many it starts per
period, and how many may wait. Data, not configuration: an operator changes them while jobs
run (`courier tenants set`, or `PUT /v1/tenants/{id}/limits` with an operator key) and the
next dispatch applies them, with no deploy.

A limit is set per worker, or for every worker at once (`*`); what is not set comes from the
catalogue (the worker's own parallelism and rate). A tenant's concurrency never exceeds its
worker's: the worker's total is the ceiling every tenant shares.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from courier.cached import Cached, forget, scope
from courier.dynamodb import Table, attr, expressions, from_item, to_item
from courier.errors import Conflict, InvalidInput, problems
from courier.jobs.models import utc_now
from courier.jobs.table import LIMITS_SK, tenant_pk

#: Every worker: a limit set here applies where no worker-specific one is.
ALL_WORKERS = "*"
#: QStash's longest flow-control period is a week.
MAX_PERIOD_SECONDS = 7 * 24 * 3600
#: How long a warm function trusts the limits it read: a change takes effect within it.
CACHE_SECONDS = 5.0
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class WorkerLimit(_Model):
    """One worker's limits for a tenant; None: the catalogue's."""

    concurrency: int | None = Field(None, ge=1, le=10_000, description="jobs of the tenant running at once on the worker")
    rate: int | None = Field(None, ge=1, le=1_000_000, description="jobs of the tenant started per period; more wait, none is refused")
    period: int | None = Field(None, ge=1, le=MAX_PERIOD_SECONDS, description="the rate's period in seconds (1 when not set)")

    def over(self, base: WorkerLimit) -> WorkerLimit:
        """This limit where it is set, `base` elsewhere (a rate brings its own period)."""
        if self.rate is not None:
            return WorkerLimit(concurrency=self.concurrency or base.concurrency, rate=self.rate, period=self.period or 1)
        return WorkerLimit(concurrency=self.concurrency or base.concurrency, rate=base.rate, period=base.period)


class TenantLimits(_Model):
    """What an operator set for one tenant (`workers`: by worker name, or `*`)."""

    tenant_id: str
    workers: dict[str, WorkerLimit] = Field(default_factory=dict)
    max_queued: int | None = Field(None, ge=1, le=10_000_000, description="jobs that may wait to run; past it 429 too_many_queued")
    updated_at: str | None = None
    version: int = 0

    def on(self, worker: str, default: WorkerLimit) -> WorkerLimit:
        """The limits in force on `worker`: its own, then `*`, then the catalogue's; the
        concurrency capped at the worker's own."""
        limit = default
        for name in (ALL_WORKERS, worker):
            if name in self.workers:
                limit = self.workers[name].over(limit)
        if default.concurrency and limit.concurrency and limit.concurrency > default.concurrency:
            limit = WorkerLimit(concurrency=default.concurrency, rate=limit.rate, period=limit.period)
        return limit


def parse_rate(text: str) -> tuple[int, int]:
    """`5/s`, `30/min`, `100/10s`, `1000/h` -> (rate, period in seconds)."""
    match = _RATE.match(text.lower())
    word = match.group(3) if match else ""
    unit = _UNITS.get(word) or _UNITS.get(word[:-1] if word.endswith("s") else word)
    if not match or unit is None or int(match.group(1)) < 1:
        raise InvalidInput(f"a rate is N/s, N/min, N/h or N/10s, not {text!r}", code="invalid_rate")
    period = int(match.group(2) or 1) * unit
    if period > MAX_PERIOD_SECONDS:
        raise InvalidInput(f"a rate's period is 1 s to 7 days, not {text!r}", code="invalid_rate")
    return int(match.group(1)), period


def limits_document(limits: TenantLimits, in_force: dict[str, WorkerLimit], max_queued: int) -> dict[str, Any]:
    """The tenant's limits as the API and the CLI's --json show them: what was set, and what
    each worker applies (`inForce`)."""
    return {**limits.model_dump(by_alias=True), "inForce": {worker: limit.model_dump(by_alias=True) for worker, limit in in_force.items()},
            "maxQueuedInForce": max_queued}


def shown_rate(limit: WorkerLimit) -> str | None:
    return f"{limit.rate}/{limit.period or 1}s" if limit.rate else None


class TenantLimitsStore(Table):
    """One item a tenant (`TENANT#{t}` / `LIMITS`), changed by read, merge and a write
    conditioned on the version read, so two operators' changes never overwrite each other."""

    def get(self, tenant_id: str) -> TenantLimits:
        response = self.client.get_item(TableName=self.table_name, Key=_key(tenant_id), ConsistentRead=True)
        if "Item" not in response:
            return TenantLimits(tenant_id=tenant_id, max_queued=None)
        item = from_item(response["Item"])
        return TenantLimits.model_validate({**json.loads(item["limits"]), "tenantId": tenant_id,
                                            "updatedAt": item.get("updatedAt"), "version": int(item.get("version", 0))})

    def set(self, tenant_id: str, changes: dict[str, Any]) -> TenantLimits:
        """Merge `changes` ({worker: {concurrency, rate, period}} under `workers`, and
        `maxQueued`; a None value clears the field) into the tenant's limits."""
        current = self.get(tenant_id)
        merged = current.model_dump(by_alias=True, exclude={"tenant_id", "updated_at", "version"}, exclude_none=True)
        for worker, fields in (changes.get("workers") or {}).items():
            if not isinstance(fields, dict):
                raise InvalidInput(f"workers.{worker} is an object of concurrency, rate and period", code="invalid_limits")
            entry = {**merged["workers"].get(worker, {}), **fields}
            if fields.get("rate", 0) is None:
                entry.pop("period", None)
            entry = {k: v for k, v in entry.items() if v is not None}
            merged["workers"][worker] = entry
            if not entry:
                del merged["workers"][worker]
        if "maxQueued" in changes:
            merged["maxQueued"] = changes["maxQueued"]
        try:
            limits = TenantLimits.model_validate({**merged, "tenantId": tenant_id})
        except ValidationError as error:
            raise InvalidInput(problems(error.errors(), root="limits"), code="invalid_limits") from None
        stored = limits.model_dump(by_alias=True, exclude={"tenant_id", "updated_at", "version"}, exclude_none=True)
        now = utc_now()
        condition = attr("version").eq(current.version) if current.version else attr("pk").not_exists()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={**_key(tenant_id), **to_item({"tenantId": tenant_id, "limits": json.dumps(stored), "updatedAt": now,
                                                    "version": current.version + 1})},
                **expressions(condition=condition),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise Conflict(f"tenant {tenant_id}'s limits changed meanwhile; read them and try again", code="limits_changed") from None
        forget(scope("limits", self.table_name), tenant_id)
        return limits.model_copy(update={"updated_at": now, "version": current.version + 1})


def cached_limits(store: TenantLimitsStore, seconds: float = CACHE_SECONDS) -> Cached[TenantLimits]:
    """A tenant's limits as a warm function knows them, read at most every `seconds`."""
    return Cached(store.get, scope("limits", store.table_name), seconds)


def _key(tenant_id: str) -> dict[str, Any]:
    return to_item({"pk": tenant_pk(tenant_id), "sk": LIMITS_SK})
