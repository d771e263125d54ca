"""Resources: queues, URL groups, dead letters, flow-control keys and signing keys, changed only here."""

from __future__ import annotations

from typing import Any

from devstack.qstash import signing
from devstack.qstash.engine.state import EngineState, NotFound
from devstack.qstash.model import BadRequest


class Resources(EngineState):
    # --- queues -----------------------------------------------------------------------
    def upsert_queue(self, name: str, parallelism: int, paused: bool) -> None:
        if parallelism < 1:
            raise BadRequest("parallelism must be at least 1")
        with self.store.transaction():
            self.store.upsert_queue(name, parallelism, paused, self.clock.ms())
        self.wake()

    def set_queue_paused(self, name: str, paused: bool) -> None:
        with self.store.transaction():
            if not self.store.set_queue_paused(name, paused, self.clock.ms()):
                raise NotFound(f"queue {name} not found")
        self.wake()

    def delete_queue(self, name: str) -> None:
        with self.store.transaction():
            if not self.store.delete_queue(name):
                raise NotFound(f"queue {name} not found")

    # --- URL groups (topics) ----------------------------------------------------------
    def add_endpoints(self, name: str, wanted: list[dict[str, Any]]) -> None:
        """Add or replace endpoints by URL (and by name, when given); creates the group."""
        topic = self.store.get_topic(name)
        endpoints = topic["endpoints"] if topic else []
        for endpoint in wanted:
            if not str(endpoint.get("url", "")).startswith(("http://", "https://")):
                raise BadRequest("every endpoint needs an http(s) url")
            endpoints = [
                e for e in endpoints
                if e["url"] != endpoint["url"] and (not endpoint.get("name") or e.get("name") != endpoint.get("name"))
            ]
            endpoints.append({k: endpoint[k] for k in ("url", "name") if endpoint.get(k)})
        with self.store.transaction():
            self.store.save_topic(name, endpoints, self.clock.ms())

    def remove_endpoints(self, name: str, removed: list[dict[str, Any]]) -> None:
        topic = self.store.get_topic(name)
        if topic is None:
            raise NotFound(f"topic {name} not found")
        endpoints = [
            e for e in topic["endpoints"]
            if not any((r.get("url") and r["url"] == e["url"]) or (r.get("name") and r["name"] == e.get("name")) for r in removed)
        ]
        with self.store.transaction():
            self.store.save_topic(name, endpoints, self.clock.ms())

    def delete_topic(self, name: str) -> None:
        with self.store.transaction():
            if not self.store.delete_topic(name):
                raise NotFound(f"topic {name} not found")

    # --- dead letters -----------------------------------------------------------------
    def delete_dead_letters(self, dlq_ids: list[str]) -> int:
        with self.store.transaction():
            return self.store.delete_dlq(dlq_ids)

    # --- flow-control keys (the key's state: engine/flow_control.py) ------------------------
    def set_flow_paused(self, key: str, paused: bool) -> None:
        self.flows.set_paused(key, paused)
        self.wake()

    def pin_flow(self, key: str, *, parallelism: int | None, rate: int | None, period: float | None) -> None:
        self.flows.pin(key, self.clock.time(), parallelism=parallelism, rate=rate, period=period)
        self.wake()

    def unpin_flow(self, key: str, *, parallelism: bool, rate: bool) -> None:
        self.flows.unpin(key, parallelism=parallelism, rate=rate)

    def reset_flow_rate(self, key: str) -> None:
        self.flows.reset_rate(key, self.clock.time())
        self.wake()

    # --- signing keys -----------------------------------------------------------------
    def rotate_keys(self) -> tuple[str, str]:
        """Next becomes current, and a new next is made (QStash's rotation)."""
        current, next_ = self.keys[1], signing.new_signing_key()
        with self.store.transaction():
            self.store.set_signing_keys(current, next_)
        self.keys = (current, next_)
        return self.keys
