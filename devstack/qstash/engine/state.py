"""The engine's shared state: the clock, the books (SQLite) and the in-memory index of what
is due, rebuilt from SQLite at start. One asyncio loop owns all of it, so it needs no locks.

Each job of the engine is its own module over this state: intake (accepting and cancelling
messages), resources (queues, URL groups, dead letters, signing keys), scheduler (cron
schedules), delivery (the loop, one delivery, settling it) and callbacks. Every write the
API makes goes through one of them.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from devstack.qstash import signing
from devstack.qstash.engine.flow_control import FlowKeys
from devstack.qstash.engine.log import record_event
from devstack.qstash.model import Message
from devstack.qstash.store import Store

MAX_CONCURRENT_DELIVERIES = 256
#: A delivered message stays readable by its id this long (QStash keeps one briefly, so a
#: caller that publishes and reads back at once is not told 404), at most this many of them.
DELIVERED_KEPT_SECONDS = 300
DELIVERED_KEPT = 10_000


class NotFound(LookupError):
    pass


class Clock:
    """Wall time plus an offset that tests may advance (schedules, delays, dedup windows)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def ms(self) -> int:
        return int(self.time() * 1000)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass(order=True)
class _Due:
    next_at: int
    seq: int
    id: str = field(compare=False)


@dataclass
class _Pending:
    seq: int
    next_at: int
    queue: str | None
    flow_key: str | None



class EngineState:
    def __init__(
        self,
        store: Store,
        *,
        backoff_scale: float = 1.0,
        clock: Clock | None = None,
        default_keys: tuple[str, str] = (signing.DEV_CURRENT_SIGNING_KEY, signing.DEV_NEXT_SIGNING_KEY),
        max_concurrency: int = MAX_CONCURRENT_DELIVERIES,
    ) -> None:
        self.store = store
        self.backoff_scale = backoff_scale
        self.clock = clock or Clock()
        self.max_concurrency = max_concurrency
        self.keys = store.signing_keys(default_keys)
        self._pending: dict[str, _Pending] = {}
        self._heap: list[_Due] = []
        self._blocked: list[_Due] = []
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._cancelled_inflight: set[str] = set()
        self._queue_members: dict[str, OrderedDict[int, str]] = defaultdict(OrderedDict)
        self.flows = FlowKeys(store)
        self._delivered: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._wakeup = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._stopping = False
        self._last_housekeeping = 0.0
        #: Completed passes of the loop, and of its schedule check: `QStashServer.settle`
        #: waits on them, so a test can say "the engine looked and started nothing".
        self.passes = 0
        self.schedule_passes = 0
        for seq, message in self._all_messages():
            self._index(seq, message)

    # --- index ------------------------------------------------------------------------
    def _all_messages(self) -> list[tuple[int, Message]]:
        return self.store.due_messages(now=2**62, limit=2**31)

    def _index(self, seq: int, message: Message) -> None:
        """Queue messages live in their queue's FIFO; all others in the heap of due times."""
        self._pending[message.id] = _Pending(seq, message.next_at, message.queue, message.flow.key if message.flow else None)
        if message.flow and self.flows.get(message.flow.key) is None:  # kept from before flow keys were
            self.flows.seen(message.flow)
        if message.queue:
            self._queue_members[message.queue][seq] = message.id
        else:
            heapq.heappush(self._heap, _Due(message.next_at, seq, message.id))

    def _unindex(self, message_id: str) -> None:
        entry = self._pending.pop(message_id, None)
        if entry and entry.queue:
            self._queue_members[entry.queue].pop(entry.seq, None)

    def wake(self) -> None:
        if self._blocked:
            for due in self._blocked:
                heapq.heappush(self._heap, due)
            self._blocked.clear()
        self._wakeup.set()

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    def keep_delivered(self, message: Message) -> None:
        self._delivered[message.id] = (self.clock.time() + DELIVERED_KEPT_SECONDS, message.api_view())
        while len(self._delivered) > DELIVERED_KEPT:
            self._delivered.popitem(last=False)

    def delivered(self, message_id: str) -> dict[str, Any] | None:
        """A message delivered in the last few minutes, as GET /v2/messages/{id} showed it."""
        kept = self._delivered.get(message_id)
        return kept[1] if kept and kept[0] > self.clock.time() else None

    def flow_waiting(self, key: str) -> int:
        """Messages of the flow-control key that are due and not running: its wait list, which
        QStash counts as what waits for the key's parallelism or rate (not a delay, nor a retry's backoff)."""
        now = self.clock.ms()
        return sum(1 for message_id, entry in self._pending.items()
                   if entry.flow_key == key and message_id not in self._inflight and entry.next_at <= now)

    def _insert(self, message: Message, now: int) -> None:
        if message.flow:
            self.flows.seen(message.flow)
        self.store.insert_message(message)
        seq = self.store.db.execute("SELECT last_insert_rowid()").fetchone()[0]
        self._event(message, "CREATED", now)
        self._index(seq, message)

    def _event(self, message: Message, state: str, now: int, extra: dict[str, Any] | None = None) -> None:
        record_event(self.store, message, state, now, extra)
