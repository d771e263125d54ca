"""Intake: accepting messages (publish, enqueue, batch, DLQ retries) and cancelling them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from devstack.qstash.engine.state import EngineState, NotFound
from devstack.qstash.model import BadRequest, Message, Settings, new_id

DEDUP_WINDOW_MS = 10 * 60 * 1000

#: Headers a DLQ retry may send to change the retried message, and the setting each sets.
_DLQ_RETRY_OVERRIDES = {
    "upstash-retries": "retries",
    "upstash-delay": "delay",
    "upstash-not-before": "not_before",
    "upstash-timeout": "timeout",
    "upstash-retry-delay": "retry_delay",
    "upstash-method": "method",
    "upstash-callback": "callback",
    "upstash-failure-callback": "failure_callback",
}


class Intake(EngineState):
    def publish(
        self,
        destination: str,
        body: bytes,
        settings: Settings,
        *,
        queue: str | None = None,
        caller_ip: str | None = None,
        schedule_id: str | None = None,
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """Publish (or enqueue) to a URL or a URL group; the answer QStash gives."""
        now = self.clock.ms()
        targets = self._targets(destination)
        responses = []
        with self.store.transaction():
            if queue:
                self.store.ensure_queue(queue, now)
            for url, topic, endpoint in targets:
                responses.append(
                    self._accept(url, body, settings, now, topic=topic, endpoint=endpoint, queue=queue,
                                 caller_ip=caller_ip, schedule_id=schedule_id)
                )
        self.wake()
        if targets[0][1] is None:
            response = dict(responses[0])
            response.pop("url")
            return response
        return responses

    def _targets(self, destination: str) -> list[tuple[str, str | None, str | None]]:
        if destination.startswith(("http://", "https://")):
            return [(destination, None, None)]
        topic = self.store.get_topic(destination)
        if topic is None:
            raise NotFound(f"topic {destination} not found")
        if not topic["endpoints"]:
            raise BadRequest(f"URL group {destination} has no endpoints")
        return [(e["url"], destination, e.get("name")) for e in topic["endpoints"]]

    def _accept(self, url: str, body: bytes, settings: Settings, now: int, *, topic: str | None,
                endpoint: str | None, queue: str | None, caller_ip: str | None,
                schedule_id: str | None) -> dict[str, Any]:
        dedup_key = self._dedup_key(url, body, settings)
        if dedup_key:
            existing = self.store.dedup_lookup(dedup_key, now)
            if existing:
                return {"messageId": existing, "url": url, "deduplicated": True}
        not_before = settings.not_before * 1000 if settings.not_before else now + int(settings.delay * 1000)
        message = Message(
            id=new_id("msg"), url=url, body=body, method=settings.method, headers=settings.headers,
            topic=topic, endpoint=endpoint, queue=queue, schedule_id=schedule_id,
            callback=settings.callback, failure_callback=settings.failure_callback,
            callback_headers=settings.callback_headers, failure_callback_headers=settings.failure_callback_headers,
            max_retries=settings.retries, retry_delay=settings.retry_delay, timeout=settings.timeout,
            not_before=not_before, created_at=now, next_at=not_before, label=settings.label,
            flow=settings.flow, caller_ip=caller_ip,
        )
        self._insert(message, now)
        if dedup_key:
            self.store.dedup_remember(dedup_key, message.id, now + DEDUP_WINDOW_MS)
        return {"messageId": message.id, "url": url, "deduplicated": False}

    @staticmethod
    def _dedup_key(url: str, body: bytes, settings: Settings) -> str | None:
        if settings.deduplication_id:
            return f"id:{url}:{settings.deduplication_id}"
        if settings.content_based_deduplication:
            digest = hashlib.sha256()
            digest.update(url.encode())
            digest.update(body)
            digest.update(json.dumps(settings.headers, sort_keys=True).encode())
            return f"content:{digest.hexdigest()}"
        return None

    def cancel(self, message_ids: list[str]) -> int:
        now = self.clock.ms()
        cancelled = 0
        with self.store.transaction():
            for message_id in message_ids:
                message = self.store.get_message(message_id)
                if message is None or not self.store.delete_message(message_id):
                    continue
                self._event(message, "CANCEL_REQUESTED", now)
                self._event(message, "CANCELED", now)
                self._unindex(message_id)
                if message_id in self._inflight:
                    self._cancelled_inflight.add(message_id)
                cancelled += 1
        self.wake()
        return cancelled

    def cancel_all(self) -> int:
        return self.cancel(self.store.message_ids())

    # --- dead letters -------------------------------------------------------------------
    def retry_dead_letter(self, dlq_id: str, overrides: list[tuple[str, str]]) -> dict[str, Any]:
        """A new message with the dead one's body and headers; the DLQ entry goes."""
        found = self.store.get_dlq(dlq_id)
        if found is None:
            raise NotFound(f"dlq message {dlq_id} not found")
        dead, _ = found
        settings = Settings(
            method=dead.method, headers=dead.headers, callback=dead.callback,
            failure_callback=dead.failure_callback, callback_headers=dead.callback_headers,
            failure_callback_headers=dead.failure_callback_headers, retries=dead.max_retries,
            retry_delay=dead.retry_delay, timeout=dead.timeout, label=dead.label, flow=dead.flow,
        )
        override = Settings.from_headers(overrides)
        for name, _ in overrides:
            setting = _DLQ_RETRY_OVERRIDES.get(name.lower())
            if setting:
                setattr(settings, setting, getattr(override, setting))
        now = self.clock.ms()
        with self.store.transaction():
            if dead.queue:
                self.store.ensure_queue(dead.queue, now)
            response = self._accept(dead.url, dead.body, settings, now, topic=dead.topic, endpoint=dead.endpoint,
                                    queue=dead.queue, caller_ip=dead.caller_ip, schedule_id=dead.schedule_id)
            self.store.delete_dlq([dlq_id])
        self.wake()
        return {"messageId": response["messageId"], "deduplicated": response["deduplicated"]}

