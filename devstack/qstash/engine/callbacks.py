"""Callbacks: a delivery's outcome sent on as a signed, retried message of its own."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from devstack.qstash.durations import parse_duration
from devstack.qstash.engine.state import EngineState
from devstack.qstash.model import DEFAULT_RETRIES, Headers, Message, callback_settings, new_id

logger = logging.getLogger("devstack.qstash")


class Callbacks(EngineState):
    def _callback(self, source: Message, status: int | None, headers: Headers, body: bytes, now: int,
                  dlq_id: str | None = None) -> None:
        """Queue a (failure) callback: itself a signed, retried message."""
        url = source.failure_callback if dlq_id else source.callback
        if not url or source.kind != "message":
            return
        payload: dict[str, Any] = {
            "status": status or 0,
            "header": headers,
            "body": base64.b64encode(body).decode(),
            "retried": source.retried,
            "maxRetries": source.max_retries,
            "sourceMessageId": source.id,
            "url": source.url,
            "method": source.method,
            "sourceHeader": source.headers,
            "sourceBody": base64.b64encode(source.body).decode(),
            "notBefore": source.not_before,
            "createdAt": source.created_at,
        }
        optional = {"topicName": source.topic, "endpointName": source.endpoint, "scheduleId": source.schedule_id,
                    "callerIP": source.caller_ip, "dlqId": dlq_id}
        payload.update({k: v for k, v in optional.items() if v is not None})
        forward, options = callback_settings(source.failure_callback_headers if dlq_id else source.callback_headers)
        try:
            delay = parse_duration(options["delay"]) if "delay" in options else 0.0
            callback = Message(
                id=new_id("msg"), url=url, body=json.dumps(payload).encode(),
                method=options.get("method", "POST").upper(),
                headers={**forward, "Content-Type": ["application/json"]},
                max_retries=int(options.get("retries", DEFAULT_RETRIES)),
                retry_delay=options.get("retry-delay"),
                timeout=parse_duration(options["timeout"]) if "timeout" in options else source.timeout,
                not_before=now + int(delay * 1000), created_at=now, next_at=now + int(delay * 1000),
                kind="failure_callback" if dlq_id else "callback", source_message_id=source.id,
            )
        except ValueError as error:
            logger.warning("callback settings of %s are invalid: %s", source.id, error)
            return
        self._insert(callback, now)

