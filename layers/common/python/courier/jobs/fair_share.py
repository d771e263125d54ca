"""A worker's QStash deliveries kept within its concurrency, however many tenants are busy.

Each tenant has its own flow-control key per worker (courier.jobs.dispatch), so one tenant's
backlog never holds back another's. But each key's parallelism alone would let k busy
tenants run k times the worker's concurrency at once: past its reserved concurrency Lambda
answers 429, and QStash's retries back off (or run out). So the worker's concurrency is
shared out: every busy key (messages waiting or running) is pinned to an equal share,
`max_concurrency // busy` (at least 1, never above the tenant's own limit), through QStash's
flow-control API, and a tenant's publish carries its share.

Shares are set again when a dispatch meets a tenant not counted busy (a newcomer gets its
share before its first message), and at most every REBALANCE_SECONDS by dispatches and by
the worker after its QStash deliveries, so a tenant whose line empties gives its share back
to the others while they drain. Between two rebalances the total can pass the worker's
concurrency by a newcomer's share at most, which the worker's reservation (2 x
`max_concurrency`) holds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

REBALANCE_SECONDS = 2.0
#: A tenant's own concurrency on the worker (None: the worker's).
Own = Callable[[str], "int | None"]


class FairShare:
    """The shares of each worker, by its flow-control keys' common start (`key_base`, the
    tenant's key is `{key_base}.{tenant}`) and its concurrency (`worker_max`)."""

    def __init__(self, qstash: Callable[[], Any], *, clock: Callable[[], float] = time.monotonic, every: float = REBALANCE_SECONDS) -> None:
        self._qstash = qstash
        self._clock = clock
        self._every = every
        #: Each worker's busy tenants as last seen, and when.
        self._busy: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def share(self, key_base: str, worker_max: int, tenant: str, own: Own) -> int:
        """The parallelism the tenant's next message carries (its key's share)."""
        with self._lock:
            known = self._busy.get(key_base)
            if known is None or tenant not in known[1] or self._clock() - known[0] >= self._every:
                busy = self._rebalance(key_base, worker_max, own, tenant)
            else:
                busy = known[1]
        return target(worker_max, own(tenant), len(busy))

    def tick(self, key_base: str, worker_max: int, own: Own) -> None:
        """After a delivery: share out again if the last time is REBALANCE_SECONDS ago. A
        delivery never waits for another's rebalance (its answer would wait, and QStash hold
        the slot): while one runs, the others skip."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            known = self._busy.get(key_base)
            if known is None or self._clock() - known[0] >= self._every:
                self._rebalance(key_base, worker_max, own, None)
        finally:
            self._lock.release()

    def _rebalance(self, key_base: str, worker_max: int, own: Own, newcomer: str | None) -> frozenset[str]:
        """Pin every busy key of the worker (and the newcomer's, if QStash knows it) to its
        share; returns the busy tenants, the newcomer counted."""
        client = self._qstash()
        prefix = f"{key_base}."
        keys = {str(entry["flowControlKey"])[len(prefix):]: entry for entry in listed(client.http.request(path="/v2/flowControl", method="GET"))
                if str(entry.get("flowControlKey", "")).startswith(prefix)}
        busy = {tenant for tenant, entry in keys.items() if busy_key(entry)}
        if newcomer:
            busy.add(newcomer)
        for tenant in sorted(busy & set(keys)):
            share = target(worker_max, own(tenant), len(busy))
            if keys[tenant].get("parallelismMax") != share or not keys[tenant].get("isPinnedParallelism"):
                client.flow_control.pin(prefix + tenant, {"parallelism": share})
        self._busy[key_base] = (self._clock(), frozenset(busy))
        return frozenset(busy)


def listed(response: Any) -> list[dict[str, Any]]:
    """QStash's list of flow-control keys: an array, or `{"flowControls": [...]}` as one page
    of its docs shows it."""
    entries = response.get("flowControls", []) if isinstance(response, dict) else response
    return [entry for entry in entries or [] if isinstance(entry, dict)]


def busy_key(entry: dict[str, Any]) -> bool:
    """Messages waiting for the key (its wait list, documented as `waitListSize`, spelt
    `waitlistSize` in one schema), or running where the list says so. A key running with
    nothing waiting is not counted where the list leaves out its running count: it keeps
    its last share, and the worker's reservation holds what that passes."""
    waiting = entry.get("waitListSize", entry.get("waitlistSize")) or 0
    return bool(waiting or entry.get("parallelismCount"))


def target(worker_max: int, own: int | None, busy: int) -> int:
    """A tenant's share: the worker's concurrency split between the busy tenants, at least
    one, never above the tenant's own limit."""
    return max(1, min(own or worker_max, worker_max // max(1, busy)))
