"""A worker's intake, paused by an operator for maintenance (`courier flow pause WORKER`).

Pausing must hold every message, also a tenant's first (whose QStash flow-control key does
not exist yet, so pausing the keys QStash knows cannot hold it). While the worker is
paused, dispatch sends its jobs to its SQS queue, whose event source mapping the CLI has
disabled: they stay there, and the keys QStash already had are paused and hold theirs.
Resuming enables the mapping and resumes the keys, and both drain. A warm function reads
the flag at most every CACHE_SECONDS; the CLI waits that long before it pauses the keys,
so no key is made after it looked.
"""

from __future__ import annotations

from typing import Any

from courier.cached import Cached, forget, scope
from courier.dynamodb import Table, from_item, to_item
from courier.jobs.models import utc_now
from courier.jobs.table import FLOW_SK, worker_pk

CACHE_SECONDS = 5.0


class WorkerIntake(Table):
    def paused(self, worker: str) -> bool:
        response = self.client.get_item(TableName=self.table_name, Key=_key(worker), ConsistentRead=True)
        return bool(from_item(response["Item"]).get("paused")) if "Item" in response else False

    def set_paused(self, worker: str, paused: bool) -> None:
        self.client.put_item(TableName=self.table_name, Item={**_key(worker), **to_item({"paused": paused, "updatedAt": utc_now()})})
        forget(scope("intake", self.table_name), worker)


def cached_intake(intake: WorkerIntake, seconds: float = CACHE_SECONDS) -> Cached[bool]:
    """Whether a worker's intake is paused, as a warm function knows it."""
    return Cached(intake.paused, scope("intake", intake.table_name), seconds)


def _key(worker: str) -> dict[str, Any]:
    return to_item({"pk": worker_pk(worker), "sk": FLOW_SK})
