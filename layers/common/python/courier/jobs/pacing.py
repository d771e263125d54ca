"""A tenant's rate on SQS: each job sent with the delay that keeps the tenant's starts on a
worker at most `rate` a `period`, as QStash's flow-control rate keeps them on QStash.

One item per tenant and worker holds the time its next job may start (the theoretical
arrival time of the generic cell rate algorithm, without a burst), moved on by `period / rate`
per job: starts are spread evenly, as SQS's whole-second delays allow. Two
atomic writes, no read: when the tenant is idle, a conditional SET takes the slot `now`;
otherwise an `ADD` of one interval takes the next slot, however many API containers send at
once. A job is delayed, never refused; SQS delays stop at 15 minutes, so a backlog longer
than that starts sooner than its slot (the dispatcher caps the delay).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from courier.dynamodb import Table, serialize, to_item
from courier.jobs.table import TABLE_TTL_ATTRIBUTE, pace_sk, tenant_pk

#: The slot is kept a while after it passes, then DynamoDB's TTL removes it.
KEEP_SECONDS = 3600


class RatePacer(Table):
    def __init__(self, table_name: str, *, client: Any = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(table_name, client=client)
        self.clock = clock

    def delay(self, tenant_id: str, worker: str, rate: int, period: int) -> int:
        """Seconds until this job's slot: 0 when the tenant is idle, then one slot every
        `period / rate` (so no `period` long window ever holds more than `rate` starts)."""
        interval = max(1, round(period * 1000 / rate))
        now = int(self.clock() * 1000)
        key = to_item({"pk": tenant_pk(tenant_id), "sk": pace_sk(worker)})
        ttl = serialize(now // 1000 + period + KEEP_SECONDS)
        try:
            self.client.update_item(
                TableName=self.table_name, Key=key,
                UpdateExpression="SET #tat = :next, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(#tat) OR #tat <= :now",
                ExpressionAttributeNames={"#tat": "nextStartMs", "#ttl": TABLE_TTL_ATTRIBUTE},
                ExpressionAttributeValues={":next": serialize(now + interval), ":now": serialize(now), ":ttl": ttl},
            )
            return 0
        except self.client.exceptions.ConditionalCheckFailedException:
            pass
        response = self.client.update_item(
            TableName=self.table_name, Key=key,
            UpdateExpression="ADD #tat :interval SET #ttl = :ttl",
            ExpressionAttributeNames={"#tat": "nextStartMs", "#ttl": TABLE_TTL_ATTRIBUTE},
            ExpressionAttributeValues={":interval": serialize(interval), ":ttl": ttl},
            ReturnValues="UPDATED_NEW",
        )
        start = int(response["Attributes"]["nextStartMs"]["N"]) - interval
        return max(0, math.ceil((start - now) / 1000))  # never before its slot (SQS delays are whole seconds)
