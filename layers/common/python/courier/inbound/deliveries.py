"""Each delivery to a source, with its verdict (accepted, duplicate, refused and why) and its
job: what `GET /v1/sources/{id}/deliveries` lists, newest first, kept a week."""

from __future__ import annotations

import secrets as random
import time
from typing import Literal

from pydantic import BaseModel

from courier.dynamodb import Table, expressions, from_item, key, to_item
from courier.jobs.table import DELIVERY_SK_PREFIX, TABLE_TTL_ATTRIBUTE, delivery_sk, source_pk

KEEP_SECONDS = 7 * 24 * 3600
Verdict = Literal["accepted", "duplicate", "refused"]


class Delivery(BaseModel):
    receivedAt: str
    verdict: Verdict
    status: int
    deliveryId: str | None = None
    eventType: str | None = None
    jobId: str | None = None
    error: dict[str, str] | None = None


class DeliveryList(BaseModel):
    deliveries: list[Delivery]


class DeliveryLog(Table):
    def record(self, source_id: str, delivery: Delivery) -> None:
        now = time.time()
        item = {"pk": source_pk(source_id), "sk": delivery_sk(int(now * 1000), random.token_hex(4)),
                "delivery": delivery.model_dump_json(exclude_none=True), TABLE_TTL_ATTRIBUTE: int(now + KEEP_SECONDS)}
        self.client.put_item(TableName=self.table_name, Item=to_item(item))

    def recent(self, source_id: str, limit: int = 50) -> list[Delivery]:
        response = self.client.query(
            TableName=self.table_name, ScanIndexForward=False, Limit=limit,
            **expressions(key=key("pk").eq(source_pk(source_id)) & key("sk").begins_with(DELIVERY_SK_PREFIX)),
        )
        return [Delivery.model_validate_json(from_item(item)["delivery"]) for item in response.get("Items", [])]
