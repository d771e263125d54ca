"""Jobs in DynamoDB. Every status change is one conditional write whose condition is built
from the lifecycle table, so two deliveries of one job never both run it and a finished
job is never run again.

Structured fields (input, result, error) are stored as JSON text: they are never queried,
and text keeps floats exact without DynamoDB's Decimal dance. Items go through boto3's own
serializer, conditions through its condition builder.
"""

from __future__ import annotations

import base64
import builtins
import json
import time
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from courier import strict_json
from courier.dynamodb import Table, Update, attr, expressions, from_item, key, serialize, to_item
from courier.errors import CourierError, InvalidInput
from courier.jobs import lifecycle
from courier.jobs.lifecycle import Event, Facts, Guard
from courier.jobs.models import Job, JobError, JobStatus, utc_now
from courier.jobs.steps import EVENT_WINDOW_SECONDS, StepRecord, Suspend
from courier.jobs.store import DEFAULT_TTL_DAYS, Claim, ConditionFailed, StoreRules, new_lease_token, now_ms
from courier.jobs.table import (
    EVENT_SK,
    GSI_KEYS,
    GSI_TENANT,
    GSI_TENANT_STATUS,
    IDEMPOTENCY_SK,
    JOB_SK,
    STEP_SK_PREFIX,
    WAITER_SK_PREFIX,
    event_pk,
    idempotency_pk,
    job_pk,
    step_sk,
    tenant_pk,
    tenant_status_pk,
    waiter_sk,
)

if TYPE_CHECKING:
    from boto3.dynamodb.conditions import ConditionBase

#: Job field -> item attribute, for fields stored as themselves and fields stored as JSON text.
_PLAIN_FIELDS = {
    "job_id": "jobId", "tenant_id": "tenantId", "type": "type", "attempts": "attempts", "transport": "transport",
    "message_id": "messageId", "callback_url": "callbackUrl", "idempotency_key": "idempotencyKey",
    "delay_seconds": "delaySeconds", "created_at": "createdAt", "updated_at": "updatedAt",
    "started_at": "startedAt", "finished_at": "finishedAt", "lease_until": "leaseUntil",
    "lease_token": "leaseToken", "dispatches": "dispatches", "fallback_reason": "fallbackReason",
    "schedule_id": "scheduleId", "parent_id": "parentId", "wake_at": "wakeAt", "wait_key": "waitKey", "wake_link": "wakeLink",
}
_JSON_FIELDS = {"input": "input", "result": "result", "result_ref": "resultRef", "error": "error", "last_response": "lastResponse",
                "callback_delivery": "callbackDelivery", "input_ref": "inputRef", "progress": "progress",
                "children": "children", "waiting_for": "waitingFor"}
#: A parent's open children: a string set, so that counting a child's end is one atomic
#: DELETE on the condition that the child is in it (DynamoDB drops the set when it empties).
OPEN_CHILDREN = "childrenOpen"
_ATTRIBUTE = {**_PLAIN_FIELDS, **_JSON_FIELDS}
_STATUS_INDEX_KEY = GSI_KEYS[GSI_TENANT_STATUS][0]


def job_key(job_id: str) -> dict[str, Any]:
    return to_item({"pk": job_pk(job_id), "sk": JOB_SK})


def status_index_key(tenant_id: str, status: JobStatus) -> str:
    return tenant_status_pk(tenant_id, status.value)


def transition_condition(event: Event, facts: Facts) -> ConditionBase:
    """The lifecycle's rows for `event` as one DynamoDB condition: any row may match."""
    rows = [_row_condition(row.sources, row.guards, facts) for row in lifecycle.transitions(event)]
    return attr("pk").exists() & reduce(or_, rows)


def during_run_condition(facts: Facts) -> ConditionBase:
    return attr("pk").exists() & _row_condition(lifecycle.DURING_RUN_SOURCES, lifecycle.DURING_RUN_GUARDS, facts)


def _row_condition(sources: frozenset[JobStatus], guards: frozenset[Guard], facts: Facts) -> ConditionBase:
    statuses = sorted(s.value for s in sources)
    condition: ConditionBase = attr("status").eq(statuses[0]) if len(statuses) == 1 else attr("status").is_in(statuses)
    for guard in sorted(guards):
        if guard is Guard.LEASE_HELD:
            condition &= attr("leaseToken").eq(facts.lease_token or "")
        elif guard is Guard.LEASE_EXPIRED:
            condition &= attr("leaseUntil").lt(facts.now_ms)
        elif guard is Guard.CHILDREN_DONE:
            condition &= attr("children").exists() & attr(OPEN_CHILDREN).not_exists()
        elif guard is Guard.WAKE_DUE:
            condition &= attr("wakeAt").lte(facts.now_ms)
        elif guard is Guard.AWAITS_EVENT:
            condition &= attr("waitKey").eq(facts.event_key or "")
        elif facts.message_id is not None:  # SAME_MESSAGE, when the writer names one
            condition &= attr("messageId").eq(facts.message_id)
    return condition


class DynamoJobStore(Table, StoreRules):
    def __init__(self, table_name: str, *, client: Any = None, ttl_days: int = DEFAULT_TTL_DAYS) -> None:
        super().__init__(table_name, client=client)
        self.ttl_days = ttl_days

    # --- create and read --------------------------------------------------------------
    def create(self, job: Job) -> tuple[Job, bool]:
        item = _item(job)
        item["ttl"] = serialize(int(time.time()) + self.ttl_days * 86400)
        put_new = expressions(condition=attr("pk").not_exists())
        if not job.idempotency_key:
            self.client.put_item(TableName=self.table_name, Item=item, **put_new)
            return job, True
        marker = {
            "pk": serialize(idempotency_pk(job.tenant_id, job.idempotency_key)),
            "sk": serialize(IDEMPOTENCY_SK),
            "jobId": serialize(job.job_id),
            "ttl": item["ttl"],
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self.table_name, "Item": marker, **put_new}},
                    {"Put": {"TableName": self.table_name, "Item": item, **put_new}},
                ]
            )
            return job, True
        except self.client.exceptions.TransactionCanceledException:
            existing = self.client.get_item(TableName=self.table_name, Key={"pk": marker["pk"], "sk": marker["sk"]}, ConsistentRead=True)
            found = self.get(str(from_item(existing["Item"])["jobId"])) if "Item" in existing else None
            if found is None:
                raise CourierError("could not record the job; try again", code="conflict", status=409) from None
            return found, False

    def get(self, job_id: str) -> Job | None:
        response = self.client.get_item(TableName=self.table_name, Key=job_key(job_id), ConsistentRead=True)
        return _job(response["Item"]) if "Item" in response else None

    def list(
        self, tenant_id: str, *, status: JobStatus | None = None, job_type: str | None = None,
        cursor: str | None = None, limit: int = 50,
    ) -> tuple[list[Job], str | None]:
        """A tenant's jobs, newest first, from the GSI that fits the filter."""
        if status is not None:
            index, value = GSI_TENANT_STATUS, status_index_key(tenant_id, status)
        else:
            index, value = GSI_TENANT, tenant_pk(tenant_id)
        request: dict[str, Any] = {
            "TableName": self.table_name, "IndexName": index, "ScanIndexForward": False, "Limit": limit,
            **expressions(key=key(GSI_KEYS[index][0]).eq(value), filter=attr("type").eq(job_type) if job_type else None),
        }
        query = [status.value if status else "", job_type or ""]
        if cursor:
            request["ExclusiveStartKey"] = _decode_cursor(cursor, tenant_id, query)
        response = self.client.query(**request)
        jobs = [_job(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return jobs, _encode_cursor(last, tenant_id, query) if last else None

    def count_waiting(self, tenant_id: str, limit: int) -> int:
        """From the status index, keys only as far as `limit`: a tenant near its cap pays for
        the items it has waiting, one far below it for the few it has."""
        total = 0
        for status in (JobStatus.QUEUED, JobStatus.RETRYING):
            request: dict[str, Any] = {
                "TableName": self.table_name, "IndexName": GSI_TENANT_STATUS, "Select": "COUNT",
                **expressions(key=key(GSI_KEYS[GSI_TENANT_STATUS][0]).eq(status_index_key(tenant_id, status))),
            }
            while total < limit:
                response = self.client.query(**request, Limit=limit - total)
                total += int(response.get("Count", 0))
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return total

    # --- dispatch ---------------------------------------------------------------------
    def record_dispatch(self, job_id: str, transport: str, message_id: str, fallback_reason: str | None = None) -> Job:
        update = Update().set("transport", transport).set("messageId", message_id).increment("dispatches")
        update.set("fallbackReason", fallback_reason) if fallback_reason else update.remove("fallbackReason")
        return self._write(job_id, update, attr("sk").exists())

    # --- running ----------------------------------------------------------------------
    def claim(self, job_id: str, lease_seconds: float) -> Claim:
        """Take the job for one run, or say why not. The lease lets a dead worker's job be taken again."""
        at = now_ms()
        update = (
            Update().increment("attempts").set("leaseUntil", at + int(lease_seconds * 1000))
            .set("leaseToken", new_lease_token()).set_once("startedAt", utc_now())
        )
        try:
            return Claim("claimed", self._transition(job_id, Event.CLAIM, Facts(at), update=update))
        except ConditionFailed:
            return self._refused_claim(job_id, at)

    def finish(self, job: Job, event: Event, *, result: dict[str, Any] | None = None,
               result_ref: dict[str, Any] | None = None, error: JobError | None = None,
               progress: dict[str, Any] | None = None) -> Job | None:
        lifecycle.require_run_ending(event)
        update = Update()
        for attribute, value in (("result", result), ("resultRef", result_ref), ("progress", progress)):
            if value is not None:
                update.set(attribute, strict_json.dumps(value))
        try:
            return self._transition(job.job_id, event, Facts(now_ms(), lease_token=job.lease_token or ""),
                                    update=update, error=error, tenant_id=job.tenant_id)
        except ConditionFailed:
            return None

    def record_progress(self, job: Job, progress: dict[str, Any]) -> bool:
        facts = Facts(now_ms(), lease_token=job.lease_token or "")
        try:
            self._write(job.job_id, Update().set("progress", strict_json.dumps(progress)), during_run_condition(facts))
        except ConditionFailed:
            return False
        return True

    def mark_dead(self, job_id: str, error: JobError, last_response: dict[str, Any] | None = None, *,
                  message_id: str | None = None) -> Job | None:
        update = Update()
        if last_response is not None:
            update.set("lastResponse", strict_json.dumps(last_response))
        try:
            return self._transition(job_id, Event.GIVE_UP, Facts(now_ms(), message_id=message_id), update=update, error=error)
        except ConditionFailed:
            return None

    def record_callback(self, job_id: str, delivery: dict[str, Any]) -> None:
        """How the outcome callback went (Notifier's CallbackLog)."""
        self._write(job_id, Update().set("callbackDelivery", strict_json.dumps(delivery)), attr("pk").exists())

    # --- fan-out ----------------------------------------------------------------------
    def get_many(self, job_ids: builtins.list[str]) -> builtins.list[Job]:
        found: dict[str, Job] = {}
        for start in range(0, len(job_ids), 100):  # BatchGetItem takes 100 keys
            pending: dict[str, Any] = {self.table_name: {"Keys": [job_key(i) for i in job_ids[start:start + 100]], "ConsistentRead": True}}
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    job = _job(item)
                    found[job.job_id] = job
                pending = response.get("UnprocessedKeys") or {}
        return [found[i] for i in job_ids if i in found]

    def wait_for_children(self, job: Job, child_ids: builtins.list[str]) -> Job | None:
        update = Update().set("children", strict_json.dumps(child_ids)).set(OPEN_CHILDREN, set(child_ids))
        try:
            return self._transition(job.job_id, Event.WAIT, Facts(now_ms(), lease_token=job.lease_token or ""),
                                    update=update, tenant_id=job.tenant_id)
        except ConditionFailed:
            return None

    def child_settled(self, parent_id: str, child_id: str) -> Job | None:
        update = Update().delete_from_set(OPEN_CHILDREN, {child_id})
        try:
            return self._write(parent_id, update, attr(OPEN_CHILDREN).contains(child_id))
        except ConditionFailed:
            return None

    # --- steps ------------------------------------------------------------------------
    def steps(self, job_id: str) -> builtins.list[StepRecord]:
        request: dict[str, Any] = {
            "TableName": self.table_name, "ConsistentRead": True,
            **expressions(key=key("pk").eq(job_pk(job_id)) & key("sk").begins_with(STEP_SK_PREFIX)),
        }
        return [StepRecord.from_dict(json.loads(from_item(item)["record"])) for item in self.query_all(request)]

    def record_step(self, job: Job, record: StepRecord) -> bool:
        """The step's item, written in one transaction with a check that the run still holds
        the job's lease: a run that lost its job records nothing."""
        held = expressions(condition=_row_condition(lifecycle.DURING_RUN_SOURCES, lifecycle.DURING_RUN_GUARDS,
                                                    Facts(now_ms(), lease_token=job.lease_token or "")))
        item = to_item({"pk": job_pk(job.job_id), "sk": step_sk(record.seq), "record": strict_json.dumps(record.to_dict()),
                        "ttl": int(time.time()) + self.ttl_days * 86400})
        try:
            self.client.transact_write_items(TransactItems=[
                {"ConditionCheck": {"TableName": self.table_name, "Key": job_key(job.job_id), **held}},
                {"Put": {"TableName": self.table_name, "Item": item}},
            ])
        except self.client.exceptions.TransactionCanceledException:
            return False
        return True

    def clear_steps(self, job_id: str) -> None:
        for record in self.steps(job_id):
            self.client.delete_item(TableName=self.table_name, Key=to_item({"pk": job_pk(job_id), "sk": step_sk(record.seq)}))

    def suspend(self, job: Job, pause: Suspend, link: int) -> Job | None:
        """SUSPEND: the run ends and the job waits for `pause`; None if the lease was lost."""
        update = Update().set("waitingFor", strict_json.dumps(pause.waiting_for())).set("wakeAt", pause.until_ms).set("wakeLink", link)
        update.set("waitKey", pause.key) if pause.key else update.remove("waitKey")
        try:
            return self._transition(job.job_id, Event.SUSPEND, Facts(now_ms(), lease_token=job.lease_token or ""),
                                    update=update, tenant_id=job.tenant_id)
        except ConditionFailed:
            return None

    def advance_wake(self, job_id: str, link: int) -> bool:
        """An early wake-up passes the chain on, once: only the holder of the current link may."""
        condition = attr("status").eq(JobStatus.WAITING.value) & attr("wakeLink").eq(link)
        try:
            self._write(job_id, Update().set("wakeLink", link + 1), condition)
        except ConditionFailed:
            return False
        return True

    # --- events -----------------------------------------------------------------------
    def put_event(self, tenant_id: str, event_key: str, data: Any) -> builtins.list[str]:
        """Keep the key's event for the window; the jobs waiting for it, by id."""
        at = now_ms()
        item = to_item({"pk": event_pk(tenant_id, event_key), "sk": EVENT_SK, "data": strict_json.dumps(data), "at": at,
                        "ttl": at // 1000 + EVENT_WINDOW_SECONDS})
        self.client.put_item(TableName=self.table_name, Item=item)
        request = {"TableName": self.table_name, "ConsistentRead": True,
                   **expressions(key=key("pk").eq(event_pk(tenant_id, event_key)) & key("sk").begins_with(WAITER_SK_PREFIX))}
        response = self.client.query(**request)
        return [str(from_item(i)["jobId"]) for i in response.get("Items", [])]

    def event(self, tenant_id: str, event_key: str) -> tuple[Any, int] | None:
        response = self.client.get_item(TableName=self.table_name, ConsistentRead=True,
                                        Key=to_item({"pk": event_pk(tenant_id, event_key), "sk": EVENT_SK}))
        if "Item" not in response:
            return None
        item = from_item(response["Item"])
        if int(item["ttl"]) < time.time():  # DynamoDB deletes expired items within days, not at once
            return None
        return json.loads(item["data"]), int(item["at"])

    def add_waiter(self, tenant_id: str, event_key: str, job_id: str, until_ms: int) -> None:
        item = to_item({"pk": event_pk(tenant_id, event_key), "sk": waiter_sk(job_id), "jobId": job_id,
                        "ttl": until_ms // 1000 + 86400})
        self.client.put_item(TableName=self.table_name, Item=item)

    # --- plumbing ---------------------------------------------------------------------
    def _transition(self, job_id: str, event: Event, facts: Facts, *, update: Update | None = None,
                    error: JobError | None = None, tenant_id: str | None = None) -> Job:
        """One lifecycle transition: the status, its index key and the event's effects, on
        the condition that the table allows it from the item as it is now."""
        target = lifecycle.target(event)
        update = update or Update()
        now = utc_now()
        # The status index key carries the tenant: known to most callers, read otherwise.
        tenant = tenant_id or self._tenant_of(job_id)
        update.set("status", target.value).set("updatedAt", now).set(_STATUS_INDEX_KEY, status_index_key(tenant, target))
        if target.terminal:
            update.set("finishedAt", now)
        cleared = lifecycle.cleared_fields(event)
        if error is not None:
            update.set("error", strict_json.dumps(error.to_dict()))
            cleared = cleared - {"error"}
        for field in sorted(cleared):
            update.remove(_ATTRIBUTE[field])
        return self._write(job_id, update, transition_condition(event, facts))

    def _write(self, job_id: str, update: Update, only_if: ConditionBase) -> Job:
        built = expressions(condition=only_if)
        if "updatedAt" not in update.names.values():
            update.set("updatedAt", utc_now())
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression=update.expression,
                ConditionExpression=built["ConditionExpression"],
                ExpressionAttributeNames={**update.names, **built.get("ExpressionAttributeNames", {})},
                ExpressionAttributeValues={**update.values, **built.get("ExpressionAttributeValues", {})},
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed() from None
        return _job(response["Attributes"])

    def _tenant_of(self, job_id: str) -> str:
        job = self.get(job_id)
        if job is None:
            raise ConditionFailed()
        return job.tenant_id


def _item(job: Job) -> dict[str, Any]:
    plain = {name: getattr(job, attr) for attr, name in _PLAIN_FIELDS.items() if getattr(job, attr) is not None}
    encoded: dict[str, Any] = {
        name: strict_json.dumps(value.to_dict() if isinstance(value, JobError) else value)
        for attr, name in _JSON_FIELDS.items() if (value := getattr(job, attr)) is not None
    }
    if job.children_open:
        encoded[OPEN_CHILDREN] = set(job.children_open)
    sort = f"{job.created_at}#{job.job_id}"
    (status_pk, status_sk), (tenant_key, tenant_sort) = GSI_KEYS[GSI_TENANT_STATUS], GSI_KEYS[GSI_TENANT]
    indexes = {
        status_pk: status_index_key(job.tenant_id, job.status), status_sk: sort,
        tenant_key: tenant_pk(job.tenant_id), tenant_sort: sort,
    }
    return {**job_key(job.job_id), **to_item({**plain, **encoded, **indexes, "status": job.status.value})}


def _job(wire: dict[str, Any]) -> Job:
    item = from_item(wire)
    values: dict[str, Any] = {attr: item[name] for attr, name in _PLAIN_FIELDS.items() if name in item}
    values.update({attr: json.loads(item[name]) for attr, name in _JSON_FIELDS.items() if name in item})
    if values.get("error"):
        values["error"] = JobError(**values["error"])
    values.setdefault("input", {})
    if OPEN_CHILDREN in item:
        values["children_open"] = sorted(item[OPEN_CHILDREN])
    return Job(status=JobStatus(item["status"]), **values)


def _encode_cursor(key: dict[str, Any], tenant_id: str, query: list[str]) -> str:
    """The page's end, bound to its tenant and its query (status, type): a cursor sent with
    another filter would start another index at a key it does not hold."""
    return base64.urlsafe_b64encode(strict_json.dumps({"t": tenant_id, "q": query, "k": key}).encode()).decode()


def _decode_cursor(cursor: str, tenant_id: str, query: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise InvalidInput("invalid cursor", code="invalid_cursor") from None
    if not isinstance(data, dict) or data.get("t") != tenant_id:  # a cursor never crosses tenants
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    if data.get("q") != query:
        raise InvalidInput("this cursor belongs to a list with other filters (status, type): send it with the same ones",
                           code="invalid_cursor")
    key = data.get("k")
    if not isinstance(key, dict) or not _is_tenant_key(key, tenant_id):
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    return key


def _is_tenant_key(key: Any, tenant_id: str) -> bool:
    """Exactly the table's key plus one index's, all strings, on the tenant's own partition."""
    if not isinstance(key, dict) or not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()):
        return False
    for index, (partition, sort) in GSI_KEYS.items():
        if set(key) == {"pk", "sk", partition, sort}:
            value = str(key[partition]["S"])
            if index == GSI_TENANT_STATUS:
                return value.startswith(tenant_status_pk(tenant_id, ""))
            return value == tenant_pk(tenant_id)
    return False
