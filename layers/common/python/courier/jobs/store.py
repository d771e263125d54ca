"""Jobs in DynamoDB. Every change is a conditional write, so two deliveries of one job never
both run it and a finished job is never run again.

Structured fields (input, result, error) are stored as JSON text: they are never queried,
and text keeps floats exact without DynamoDB's Decimal dance.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from courier.errors import Conflict, CourierError, InvalidInput, NotFound
from courier.jobs.models import RETRIABLE, Job, JobError, JobStatus, utc_now
from courier.jobs.table import GSI_KEYS, GSI_TENANT, GSI_TENANT_STATUS

JOB_SK = "JOB"
IDEMPOTENCY_SK = "IDEMPOTENCY"
DEFAULT_TTL_DAYS = 30
_JSON_FIELDS = {"input": "input", "result": "result", "result_ref": "resultRef", "error": "error", "last_response": "lastResponse",
                "callback_delivery": "callbackDelivery", "input_ref": "inputRef"}
_PLAIN_FIELDS = {
    "job_id": "jobId", "tenant_id": "tenantId", "type": "type", "attempts": "attempts", "transport": "transport",
    "message_id": "messageId", "callback_url": "callbackUrl", "idempotency_key": "idempotencyKey",
    "delay_seconds": "delaySeconds", "created_at": "createdAt", "updated_at": "updatedAt",
    "started_at": "startedAt", "finished_at": "finishedAt", "lease_until": "leaseUntil",
    "lease_token": "leaseToken", "dispatches": "dispatches", "fallback_reason": "fallbackReason",
}


def job_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": JOB_SK}}


def new_job_id() -> str:
    """Time-ordered (nanoseconds, then randomness): jobs created in one millisecond still
    list in creation order, since the list sort key is createdAt#jobId."""
    return f"job_{time.time_ns():016x}{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Claim:
    """What a delivery found: the job to run now, a job already finished, or one running elsewhere."""

    kind: Literal["claimed", "finished", "busy"]
    job: Job
    retry_after: float | None = None


class JobStore:
    def __init__(self, table_name: str, *, client: Any = None, ttl_days: int = DEFAULT_TTL_DAYS) -> None:
        self.table_name = table_name
        self._client = client
        self.ttl_days = ttl_days

    @property
    def client(self) -> Any:
        if self._client is None:
            from courier.aws import client  # deferred: a cold start that never touches jobs skips boto3

            self._client = client("dynamodb")
        return self._client

    # --- create and read --------------------------------------------------------------
    def create(self, job: Job) -> tuple[Job, bool]:
        """Store a new job; with an idempotency key already used, the existing job instead."""
        item = self._item(job)
        item["ttl"] = {"N": str(int(time.time()) + self.ttl_days * 86400)}
        if not job.idempotency_key:
            self.client.put_item(TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
            return job, True
        marker = {
            "pk": {"S": f"IDEMPOTENCY#{job.tenant_id}#{job.idempotency_key}"},
            "sk": {"S": IDEMPOTENCY_SK},
            "jobId": {"S": job.job_id},
            "ttl": item["ttl"],
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self.table_name, "Item": marker, "ConditionExpression": "attribute_not_exists(pk)"}},
                    {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                ]
            )
            return job, True
        except self.client.exceptions.TransactionCanceledException:
            existing = self.client.get_item(TableName=self.table_name, Key={"pk": marker["pk"], "sk": marker["sk"]}, ConsistentRead=True)
            if "Item" not in existing:
                raise CourierError("could not record the job; try again", code="conflict", status=409) from None
            found = self.get(existing["Item"]["jobId"]["S"])
            if found is None:
                raise CourierError("could not record the job; try again", code="conflict", status=409) from None
            return found, False

    def get(self, job_id: str) -> Job | None:
        response = self.client.get_item(TableName=self.table_name, Key=job_key(job_id), ConsistentRead=True)
        return _job(response["Item"]) if "Item" in response else None

    def get_for_tenant(self, tenant_id: str, job_id: str) -> Job:
        job = self.get(job_id)
        if job is None or job.tenant_id != tenant_id:  # another tenant's job does not exist for you
            raise NotFound(f"job {job_id} not found")
        return job

    def list(
        self, tenant_id: str, *, status: JobStatus | None = None, job_type: str | None = None,
        cursor: str | None = None, limit: int = 50,
    ) -> tuple[list[Job], str | None]:
        """A tenant's jobs, newest first, from the GSI that fits the filter."""
        if status is not None:
            index, key, value = GSI_TENANT_STATUS, GSI_KEYS[GSI_TENANT_STATUS][0], f"TENANT#{tenant_id}#STATUS#{status.value}"
        else:
            index, key, value = GSI_TENANT, GSI_KEYS[GSI_TENANT][0], f"TENANT#{tenant_id}"
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":v": {"S": value}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if job_type:
            request["FilterExpression"] = "#t = :t"
            request["ExpressionAttributeNames"]["#t"] = "type"
            request["ExpressionAttributeValues"][":t"] = {"S": job_type}
        if cursor:
            request["ExclusiveStartKey"] = _decode_cursor(cursor, tenant_id)
        response = self.client.query(**request)
        jobs = [_job(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return jobs, _encode_cursor(last, tenant_id) if last else None

    # --- dispatch ---------------------------------------------------------------------
    def record_dispatch(self, job_id: str, transport: str, message_id: str, fallback_reason: str | None = None) -> Job:
        """Whatever the status: a fast worker may have claimed (or finished) the job already."""
        values = {":t": {"S": transport}, ":m": {"S": message_id}, ":one": {"N": "1"}}
        expression = "SET transport = :t, messageId = :m, dispatches = dispatches + :one, updatedAt = :now"
        if fallback_reason:
            values[":f"] = {"S": fallback_reason}
            expression += ", fallbackReason = :f"
        else:
            expression += " REMOVE fallbackReason"
        return self._update(
            job_id,
            expression,
            values,
            condition="attribute_exists(sk)",
            condition_values={},
        )

    def mark_undispatched(self, job: Job, error: JobError) -> Job:
        """Neither queue took it: failed, retryable, visible to the caller, never lost."""
        return self._set_status(job.job_id, JobStatus.FAILED, error=error, condition_statuses=(JobStatus.QUEUED,), tenant_id=job.tenant_id)

    def requeue(self, tenant_id: str, job_id: str) -> Job:
        """POST /v1/jobs/{id}/retry: a failed or dead job goes back to the queue."""
        job = self.get_for_tenant(tenant_id, job_id)
        if job.status not in RETRIABLE:
            raise CourierError(
                f"only failed or dead jobs can be retried; this one is {job.status.value}",
                code="not_retriable", status=409, retryable=False,
            )
        return self._set_status(job_id, JobStatus.QUEUED, error=None, condition_statuses=tuple(RETRIABLE), clear=("finishedAt", "lastResponse", "messageId"), tenant_id=tenant_id)

    def cancel(self, tenant_id: str, job_id: str) -> Job:
        job = self.get_for_tenant(tenant_id, job_id)
        if job.status != JobStatus.QUEUED:
            raise CourierError(
                f"only queued jobs can be cancelled; this one is {job.status.value}",
                code="not_cancellable", status=409, retryable=False,
            )
        return self._set_status(job_id, JobStatus.CANCELLED, condition_statuses=(JobStatus.QUEUED,), finished=True, tenant_id=tenant_id)

    # --- running ----------------------------------------------------------------------
    def claim(self, job_id: str, lease_seconds: float) -> Claim:
        """Take the job for one run, or say why not. The lease lets a dead worker's job be taken again."""
        now_ms = int(time.time() * 1000)
        token = secrets.token_hex(8)
        try:
            job = self._update(
                job_id,
                "SET #status = :running, attempts = attempts + :one, leaseUntil = :lease, leaseToken = :token, "
                "updatedAt = :now, startedAt = if_not_exists(startedAt, :now), gsi1pk = :g1",
                {
                    ":running": {"S": JobStatus.RUNNING.value},
                    ":one": {"N": "1"},
                    ":lease": {"N": str(now_ms + int(lease_seconds * 1000))},
                    ":token": {"S": token},
                    ":g1": {"S": ""},  # replaced below once the tenant is known
                },
                condition="#status IN (:queued, :retrying) OR (#status = :running AND leaseUntil < :nowms)",
                condition_values={
                    ":queued": {"S": JobStatus.QUEUED.value},
                    ":retrying": {"S": JobStatus.RETRYING.value},
                    ":nowms": {"N": str(now_ms)},
                },
                gsi_status=JobStatus.RUNNING,
            )
            return Claim("claimed", job)
        except _ConditionFailed:
            job = self.get(job_id)
            if job is None:
                raise NotFound(f"job {job_id} not found") from None
            if job.status.terminal:
                return Claim("finished", job)
            remaining = max(1.0, ((job.lease_until or now_ms) - now_ms) / 1000)
            return Claim("busy", job, retry_after=remaining)

    def finish(self, job: Job, status: JobStatus, *, result: dict[str, Any] | None = None,
               result_ref: dict[str, Any] | None = None, error: JobError | None = None) -> Job | None:
        """Record the end of a run we hold the lease of; None if the lease was lost meanwhile."""
        values: dict[str, Any] = {":token": {"S": job.lease_token or ""}}
        sets = []
        for name, value in (("result", result), ("resultRef", result_ref)):
            if value is not None:
                sets.append(f"#{name} = :{name}")  # RESULT is a reserved word
                values[f":{name}"] = {"S": json.dumps(value)}
        try:
            return self._set_status(
                job.job_id, status, error=error, condition_statuses=(JobStatus.RUNNING,),
                extra_condition="leaseToken = :token", extra_values=values, extra_sets=sets,
                finished=status.terminal, clear=("leaseUntil", "leaseToken"), tenant_id=job.tenant_id,
            )
        except _ConditionFailed:
            return None

    def mark_dead(
        self, job_id: str, error: JobError, last_response: dict[str, Any] | None = None, *, message_id: str | None = None,
    ) -> Job | None:
        """Retries exhausted. Not while a live run holds the lease: that run decides. With
        `message_id`, only if that message is still the job's: a late word about an old
        dispatch never kills a job the user has retried since."""
        now_ms = int(time.time() * 1000)
        values: dict[str, Any] = {":nowms": {"N": str(now_ms)}}
        sets = []
        same_message = None
        if message_id is not None:
            same_message = "messageId = :mid"
            values[":mid"] = {"S": message_id}
        if last_response is not None:
            sets.append("lastResponse = :lr")
            values[":lr"] = {"S": json.dumps(last_response)}
        try:
            return self._set_status(
                job_id, JobStatus.DEAD, error=error,
                condition_statuses=(JobStatus.QUEUED, JobStatus.RETRYING),
                extra_condition="leaseUntil < :nowms", extra_values=values, all_condition=same_message, extra_sets=sets,
                or_running=True, finished=True, clear=("leaseUntil", "leaseToken"),
            )
        except _ConditionFailed:
            return None

    def record_callback(self, job_id: str, delivery: dict[str, Any]) -> None:
        """How the outcome callback went (Notifier's CallbackLog)."""
        self.client.update_item(
            TableName=self.table_name, Key=job_key(job_id), UpdateExpression="SET callbackDelivery = :c",
            ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":c": {"S": json.dumps(delivery)}},
        )

    # --- plumbing ---------------------------------------------------------------------
    def _set_status(
        self, job_id: str, status: JobStatus, *, error: JobError | None = None,
        condition_statuses: tuple[JobStatus, ...], extra_condition: str | None = None,
        extra_values: dict[str, Any] | None = None, extra_sets: list[str] | None = None,
        or_running: bool = False, finished: bool = False, clear: tuple[str, ...] = (),
        tenant_id: str | None = None, all_condition: str | None = None,
    ) -> Job:
        sets = ["#status = :status", "updatedAt = :now", "gsi1pk = :g1", *(extra_sets or [])]
        values: dict[str, Any] = {":status": {"S": status.value}, ":g1": {"S": ""}, **(extra_values or {})}
        removes = list(clear)
        if error is not None:
            sets.append("#error = :error")
            values[":error"] = {"S": json.dumps(error.to_dict())}
        elif status in (JobStatus.QUEUED, JobStatus.SUCCEEDED):
            removes.append("#error")
        if finished:
            sets.append("finishedAt = :now")
        names = [f":c{i}" for i in range(len(condition_statuses))]
        condition = f"#status IN ({', '.join(names)})"
        condition_values = {n: {"S": s.value} for n, s in zip(names, condition_statuses)}
        if extra_condition and or_running:
            condition = f"{condition} OR (#status = :runningc AND {extra_condition})"
            condition_values[":runningc"] = {"S": JobStatus.RUNNING.value}
        elif extra_condition:
            condition = f"({condition}) AND {extra_condition}"
        if all_condition:
            condition = f"({condition}) AND {all_condition}"
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return self._update(job_id, expression, values, condition=condition, condition_values=condition_values, gsi_status=status, tenant_id=tenant_id)

    def _update(
        self, job_id: str, expression: str, values: dict[str, Any], *, condition: str,
        condition_values: dict[str, Any], gsi_status: JobStatus | None = None, tenant_id: str | None = None,
    ) -> Job:
        values = {**values, **condition_values, ":now": {"S": utc_now()}}
        if gsi_status is not None:
            # The status index key carries the tenant: known to most callers, read otherwise.
            tenant = tenant_id or self._tenant_of(job_id)
            values[":g1"] = {"S": f"TENANT#{tenant}#STATUS#{gsi_status.value}"}
        names = {f"#{n}": n for n in ("status", "error", "result", "resultRef") if f"#{n}" in expression or f"#{n}" in condition}
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(pk) AND ({condition})",
                ExpressionAttributeNames=names,
                # Only the placeholders the expressions use: DynamoDB refuses unused ones.
                ExpressionAttributeValues={k: v for k, v in values.items() if k in _placeholders(expression, condition)},
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise _ConditionFailed() from None
        return _job(response["Attributes"])

    def _tenant_of(self, job_id: str) -> str:
        job = self.get(job_id)
        if job is None:
            raise _ConditionFailed()
        return job.tenant_id

    @staticmethod
    def _item(job: Job) -> dict[str, Any]:
        item: dict[str, Any] = job_key(job.job_id)
        for attr, name in _PLAIN_FIELDS.items():
            value = getattr(job, attr)
            if value is None:
                continue
            item[name] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
        for attr, name in _JSON_FIELDS.items():
            value = getattr(job, attr)
            if value is not None:
                item[name] = {"S": json.dumps(value.to_dict() if isinstance(value, JobError) else value)}
        item["status"] = {"S": job.status.value}
        status_pk, tenant_pk = GSI_KEYS[GSI_TENANT_STATUS], GSI_KEYS[GSI_TENANT]
        item[status_pk[0]] = {"S": f"TENANT#{job.tenant_id}#STATUS#{job.status.value}"}
        item[tenant_pk[0]] = {"S": f"TENANT#{job.tenant_id}"}
        sort = f"{job.created_at}#{job.job_id}"
        item[status_pk[1]] = item[tenant_pk[1]] = {"S": sort}
        return item


def _placeholders(*expressions: str) -> set[str]:
    return set(re.findall(r":[A-Za-z0-9_]+", " ".join(expressions)))


class _ConditionFailed(Conflict):
    """A conditional write lost a race; callers that expect it catch it, others answer 409."""

    def __init__(self) -> None:
        super().__init__("the job changed meanwhile; read it again", code="job_changed")


def _job(item: dict[str, Any]) -> Job:
    values: dict[str, Any] = {}
    for attr, name in _PLAIN_FIELDS.items():
        if name in item:
            raw = item[name]
            values[attr] = int(raw["N"]) if "N" in raw else raw["S"]
    for attr, name in _JSON_FIELDS.items():
        if name in item:
            values[attr] = json.loads(item[name]["S"])
    if values.get("error"):
        values["error"] = JobError(**values["error"])
    values.setdefault("input", {})
    return Job(status=JobStatus(item["status"]["S"]), **values)


def _encode_cursor(key: dict[str, Any], tenant_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"t": tenant_id, "k": key}).encode()).decode()


def _decode_cursor(cursor: str, tenant_id: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise InvalidInput("invalid cursor", code="invalid_cursor") from None
    if not isinstance(data, dict) or data.get("t") != tenant_id:  # a cursor never crosses tenants
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    key = data.get("k")
    if not _is_tenant_key(key, tenant_id):
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    return key


def _is_tenant_key(key: Any, tenant_id: str) -> bool:
    """Exactly the table's key plus one index's, all strings, on the tenant's own partition."""
    if not isinstance(key, dict) or not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()):
        return False
    for index, (partition, sort) in GSI_KEYS.items():
        if set(key) == {"pk", "sk", partition, sort}:
            value = key[partition]["S"]
            if index == GSI_TENANT_STATUS:
                return value.startswith(f"TENANT#{tenant_id}#STATUS#")
            return value == f"TENANT#{tenant_id}"
    return False
