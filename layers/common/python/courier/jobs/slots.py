"""A tenant's concurrency on a worker, held exactly on both transports.

QStash holds it by the tenant's flow-control key; SQS has nothing of the kind (a fair queue
shares a worker between tenants, it caps none of them). So a run of a tenant whose limit is
below its worker's takes a slot before it claims its job, and gives it back when its
attempt ends: one item per tenant and worker (`TENANT#{t}` / `RUNNING#{worker}`) maps each
running job to the end of its lease, and a conditional write adds a job only while the map
has fewer than `limit` entries. A run that died keeps its slot until its lease ends; the
next taker that finds the map full removes the expired entries (each conditioned on its
value) and tries again. A delivery that finds no slot is not run and not failed: the job is
sent again a little later (courier.jobs.runner), so SQS's receive count is not spent on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from courier.dynamodb import Table, from_item, serialize, to_item
from courier.jobs.table import TABLE_TTL_ATTRIBUTE, running_sk, tenant_pk

logger = logging.getLogger(__name__)

#: Tries when another writer changed the map meanwhile (a creation race, a slot given back, an
#: expired entry).
TRIES = 3
KEEP_SECONDS = 3600
#: A delivery that found no slot is sent again after 2, 4, 8, 16, then every 30 seconds.
DEFER_SECONDS, MAX_DEFER_SECONDS = 2, 30


def defer_seconds(deferred: int) -> int:
    return int(min(MAX_DEFER_SECONDS, DEFER_SECONDS * 2 ** min(deferred - 1, 5)))


class TenantSlots(Table):
    def __init__(self, table_name: str, *, client: Any = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(table_name, client=client)
        self.clock = clock

    def take(self, tenant_id: str, worker: str, job_id: str, limit: int, lease_seconds: float) -> bool:
        """A slot for the job (again, if it has one: a redelivery), or False when `limit` of
        the tenant's jobs hold one."""
        key = _key(tenant_id, worker)
        now = self.clock()
        until = serialize(int((now + lease_seconds) * 1000))
        names = {"#runs": "runs", "#job": job_id, "#ttl": TABLE_TTL_ATTRIBUTE}
        ttl = serialize(int(now + lease_seconds + KEEP_SECONDS))
        for _ in range(TRIES):
            try:
                self.client.update_item(
                    TableName=self.table_name, Key=key, UpdateExpression="SET #runs.#job = :until, #ttl = :ttl",
                    ConditionExpression="attribute_exists(#runs) AND (size(#runs) < :limit OR attribute_exists(#runs.#job))",
                    ExpressionAttributeNames=names, ExpressionAttributeValues={":until": until, ":limit": serialize(limit), ":ttl": ttl},
                )
                return True
            except self.client.exceptions.ConditionalCheckFailedException:
                pass
            found = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
            if found is None:
                try:
                    self.client.put_item(TableName=self.table_name, Item={**key, "runs": {"M": {job_id: until}}, TABLE_TTL_ATTRIBUTE: ttl},
                                         ConditionExpression="attribute_not_exists(pk)")
                    return True
                except self.client.exceptions.ConditionalCheckFailedException:
                    continue  # another run created it first: take a slot in it
            runs = from_item(found).get("runs", {})
            if len(runs) < limit:
                continue  # made, or a slot given back, since the write was refused: try again
            expired = {job: int(end) for job, end in runs.items() if int(end) < now * 1000}
            if not expired:
                return False
            self._remove(key, expired)
        return False

    def give_back(self, tenant_id: str, worker: str, job_id: str) -> None:
        try:
            self.client.update_item(TableName=self.table_name, Key=_key(tenant_id, worker), UpdateExpression="REMOVE #runs.#job",
                                    ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames={"#runs": "runs", "#job": job_id})
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # no map: nothing held

    def _remove(self, key: dict[str, Any], expired: dict[str, int]) -> None:
        """Expired entries out, each only if still the value read (a renewed lease stays)."""
        names = {"#runs": "runs", **{f"#j{n}": job for n, job in enumerate(expired)}}
        values = {f":v{n}": serialize(end) for n, end in enumerate(expired.values())}
        try:
            self.client.update_item(
                TableName=self.table_name, Key=key,
                UpdateExpression="REMOVE " + ", ".join(f"#runs.#j{n}" for n in range(len(expired))),
                ConditionExpression=" AND ".join(f"#runs.#j{n} = :v{n}" for n in range(len(expired))),
                ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # another taker cleaned it, or a lease was renewed: read again


def _key(tenant_id: str, worker: str) -> dict[str, Any]:
    return to_item({"pk": tenant_pk(tenant_id), "sk": running_sk(worker)})


@dataclass
class TenantConcurrency:
    """A worker's side of its tenants' limits: which tenants need a slot, and the slots."""

    slots: TenantSlots
    worker: str
    #: The tenant's concurrency on this worker where it is below the worker's own, else None.
    limit: Callable[[str], int | None]
    lease_seconds: float

    def take(self, tenant_id: str, job_id: str) -> bool | None:
        """True: a slot is held (give it back); False: none is free; None: no limit applies."""
        limit = self.limit(tenant_id)
        if limit is None:
            return None
        return self.slots.take(tenant_id, self.worker, job_id, limit, self.lease_seconds)

    def give_back(self, tenant_id: str, job_id: str) -> None:
        """Never raises: a slot not given back frees itself when its lease ends."""
        try:
            self.slots.give_back(tenant_id, self.worker, job_id)
        except Exception as error:
            logger.warning("the slot of job %s was not given back (it frees when its lease ends): %s", job_id, error)
