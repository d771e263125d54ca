"""Schedules in the jobs table: one item each, listed per tenant through the tenant index
(on a partition of their own, so a tenant's job list never meets them)."""

from __future__ import annotations

import json
from typing import Any

from courier.dynamodb import Table, attr, expressions, from_item, key, to_item
from courier.errors import NotFound, Unauthorized
from courier.jobs.models import utc_now
from courier.jobs.table import GSI_KEYS, GSI_TENANT, SCHEDULE_SK, SIGNATURE_SK, schedule_pk, signature_pk, tenant_schedules_pk
from courier.schedules.models import LAST_RUNS, Schedule

_PLAIN = {"schedule_id": "scheduleId", "tenant_id": "tenantId", "cron": "cron", "type": "type", "timezone": "timezone",
          "callback_url": "callbackUrl", "paused": "paused", "runs": "runs", "created_at": "createdAt", "updated_at": "updatedAt"}
_JSON = {"input": "input", "last_runs": "lastRuns"}
#: Attempts at recording a firing against concurrent firings of the same schedule.
_RECORD_ATTEMPTS = 5


def schedule_key(schedule_id: str) -> dict[str, Any]:
    return to_item({"pk": schedule_pk(schedule_id), "sk": SCHEDULE_SK})


def tenant_partition(tenant_id: str) -> str:
    return tenant_schedules_pk(tenant_id)


class ScheduleStore(Table):
    def bind_signature(self, signature_id: str, message_id: str, expires_at: int) -> None:
        """Tie a firing's signature (its `jti`) to the one message id it came with. QStash
        signs every delivery afresh; the message id header is not signed, so a captured
        firing replayed with new ids would otherwise make a new job each time."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=to_item({"pk": signature_pk(signature_id), "sk": SIGNATURE_SK, "messageId": message_id, "ttl": expires_at + 60}),
                **expressions(condition=attr("pk").not_exists() | attr("messageId").eq(message_id)),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise Unauthorized("this signature was already used for another message: a replay", code="invalid_signature") from None

    def count(self, tenant_id: str) -> int:
        partition = GSI_KEYS[GSI_TENANT][0]
        request: dict[str, Any] = {
            "TableName": self.table_name, "IndexName": GSI_TENANT, "Select": "COUNT",
            **expressions(key=key(partition).eq(tenant_partition(tenant_id))),
        }
        total = 0
        while True:
            response = self.client.query(**request)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                return total
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def create(self, schedule: Schedule) -> None:
        self.client.put_item(TableName=self.table_name, Item=_item(schedule), **expressions(condition=attr("pk").not_exists()))

    def get(self, schedule_id: str) -> Schedule | None:
        response = self.client.get_item(TableName=self.table_name, Key=schedule_key(schedule_id), ConsistentRead=True)
        return _schedule(response["Item"]) if "Item" in response else None

    def get_for_tenant(self, tenant_id: str, schedule_id: str) -> Schedule:
        found = self.get(schedule_id)
        if found is None or found.tenant_id != tenant_id:  # another tenant's schedule does not exist for you
            raise NotFound(f"schedule {schedule_id} not found", code="schedule_not_found")
        return found

    def list(self, tenant_id: str) -> list[Schedule]:
        partition = GSI_KEYS[GSI_TENANT][0]
        request: dict[str, Any] = {
            "TableName": self.table_name, "IndexName": GSI_TENANT, "ScanIndexForward": False,
            **expressions(key=key(partition).eq(tenant_partition(tenant_id))),
        }
        return [_schedule(item) for item in self.query_all(request)]

    def set_paused(self, schedule: Schedule, paused: bool) -> Schedule:
        schedule.paused, schedule.updated_at = paused, utc_now()
        self._put_if(schedule, attr("pk").exists())
        return schedule

    def delete(self, schedule_id: str) -> None:
        self.client.delete_item(TableName=self.table_name, Key=schedule_key(schedule_id))

    def record_run(self, schedule_id: str, run: dict[str, Any]) -> None:
        """Add a firing to the newest LAST_RUNS (a redelivered firing is there already).
        Read and written back on the condition that no other firing came between."""
        for _ in range(_RECORD_ATTEMPTS):
            schedule = self.get(schedule_id)
            if schedule is None or any(r.get("messageId") == run["messageId"] for r in schedule.last_runs):
                return
            seen = schedule.runs
            schedule.runs += 1
            schedule.last_runs = [run, *schedule.last_runs][:LAST_RUNS]
            try:
                self._put_if(schedule, attr("runs").eq(seen))
                return
            except self.client.exceptions.ConditionalCheckFailedException:
                continue

    def _put_if(self, schedule: Schedule, condition: Any) -> None:
        self.client.put_item(TableName=self.table_name, Item=_item(schedule), **expressions(condition=condition))


def _item(schedule: Schedule) -> dict[str, Any]:
    plain = {name: getattr(schedule, field) for field, name in _PLAIN.items() if getattr(schedule, field) is not None}
    encoded = {name: json.dumps(getattr(schedule, field)) for field, name in _JSON.items()}
    partition, sort = GSI_KEYS[GSI_TENANT]
    index = {partition: tenant_partition(schedule.tenant_id), sort: f"{schedule.created_at}#{schedule.schedule_id}"}
    return {**schedule_key(schedule.schedule_id), **to_item({**plain, **encoded, **index})}


def _schedule(wire: dict[str, Any]) -> Schedule:
    item = from_item(wire)
    values: dict[str, Any] = {field: item[name] for field, name in _PLAIN.items() if name in item}
    values.update({field: json.loads(item[name]) for field, name in _JSON.items() if name in item})
    values["runs"] = int(values.get("runs", 0))
    return Schedule(**values)
