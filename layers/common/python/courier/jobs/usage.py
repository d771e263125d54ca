"""What each tenant used this month: jobs accepted and compute seconds spent on them, so a
team can bill its own users (`GET /v1/usage`).

One item per tenant and month, changed only by DynamoDB's atomic `ADD`: concurrent workers
never lose each other's counts, and reading a month is one `GetItem` however many jobs ran.
Totals and the per-type figures are top-level attributes (`ADD` takes no path into a map
that may not exist yet).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from courier import observability
from courier.dynamodb import Table, Update, from_item, to_item
from courier.errors import InvalidInput
from courier.jobs.table import tenant_pk, usage_sk

logger = logging.getLogger(__name__)
JOBS, COMPUTE_MS = "jobs", "computeMs"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def current_month(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def usage_key(tenant_id: str, month: str) -> dict[str, Any]:
    return to_item({"pk": tenant_pk(tenant_id), "sk": usage_sk(month)})


class UsageStore(Table):
    def add(self, tenant_id: str, job_type: str, *, jobs: int = 0, compute_ms: int = 0, month: str | None = None) -> None:
        """Count into the month's totals and the job type's, in one atomic write."""
        update = Update()
        for name, amount in ((JOBS, jobs), (COMPUTE_MS, compute_ms)):
            if amount:
                update.add(name, amount).add(f"{name}:{job_type}", amount)
        if not update.expression:
            return
        self.client.update_item(
            TableName=self.table_name, Key=usage_key(tenant_id, month or current_month()),
            UpdateExpression=update.expression, ExpressionAttributeNames=update.names, ExpressionAttributeValues=update.values,
        )

    def count(self, tenant_id: str, job_type: str, *, jobs: int = 0, compute_ms: int = 0) -> None:
        """`add`, without raising: a job's outcome matters more than its line on the bill, so
        a failed count is logged and counted (the UsageNotCounted metric) and work goes on."""
        try:
            self.add(tenant_id, job_type, jobs=jobs, compute_ms=compute_ms)
        except Exception as error:
            logger.warning("usage not counted for tenant %s (%s): %s", tenant_id, job_type, error)
            observability.count("UsageNotCounted", type=job_type)

    def month(self, tenant_id: str, month: str | None = None) -> dict[str, Any]:
        """The month's figures as the API gives them (zeros for a month without jobs)."""
        month = month or current_month()
        if not _MONTH.match(month):
            raise InvalidInput(f"month is YYYY-MM, not {month!r}", code="invalid_month")
        response = self.client.get_item(TableName=self.table_name, Key=usage_key(tenant_id, month), ConsistentRead=True)
        item = from_item(response.get("Item", {}))
        by_type: dict[str, dict[str, float]] = {}
        for name, value in item.items():
            counter, _, job_type = name.partition(":")
            if job_type and counter in (JOBS, COMPUTE_MS):
                figures = by_type.setdefault(job_type, {"jobs": 0, "computeSeconds": 0.0})
                figures.update(_figure(counter, value))
        return {
            "month": month,
            "jobs": int(item.get(JOBS, 0)),
            "computeSeconds": round(int(item.get(COMPUTE_MS, 0)) / 1000, 3),
            "byType": dict(sorted(by_type.items())),
        }


def _figure(counter: str, value: Any) -> dict[str, float]:
    return {"jobs": int(value)} if counter == JOBS else {"computeSeconds": round(int(value) / 1000, 3)}
