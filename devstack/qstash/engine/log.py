"""The event log (QStash's /v2/events): one row per state a message passes through."""

from __future__ import annotations

import base64
from typing import Any

from devstack.qstash.model import Message
from devstack.qstash.store import Store


def record_event(store: Store, message: Message, state: str, now: int, extra: dict[str, Any] | None = None) -> None:
    data: dict[str, Any] = {
        "time": now,
        "messageId": message.id,
        "state": state,
        "url": message.url,
        "method": message.method,
        "maxRetries": message.max_retries,
    }
    optional = {
        "topicName": message.topic, "endpointName": message.endpoint, "queueName": message.queue,
        "scheduleId": message.schedule_id, "label": message.label,
        "retryDelayExpr": message.retry_delay,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    if state == "CREATED":
        data["header"] = message.headers
        data["body"] = base64.b64encode(message.body).decode()
    if extra:
        data.update({k: v for k, v in extra.items() if v is not None})
    store.add_event(now, message.id, state, data)

