"""Flow control as QStash keeps it: one configuration per key (parallelism, rate and period),
updated by each message published with the key unless an operator pinned it; a key can be
paused (its messages wait, new ones join them) and its rate window reset. The management
API (devstack/qstash/api/flow_control.py) reads and changes these; delivery asks `allows`.

Keys' configurations, pauses and pins are in SQLite (they outlive a restart, as on QStash);
the counts (running, the rate window) are in memory, rebuilt by what runs after a start.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from devstack.qstash.model import BadRequest, FlowControl
from devstack.qstash.store import Store

_COUNTS = ("running", "window_start", "window_count")


@dataclass
class FlowKey:
    key: str
    parallelism: int | None = None
    rate: int | None = None
    #: Seconds per rate window.
    period: float = 1.0
    paused: bool = False
    pinned_parallelism: bool = False
    pinned_rate: bool = False
    #: In memory only: deliveries of the key running now, and the rate window's start and count.
    running: int = 0
    window_start: float = 0.0
    window_count: int = 0

    def record(self) -> dict[str, Any]:
        """What is kept in SQLite: the configuration, the pause and the pins."""
        return {k: v for k, v in asdict(self).items() if k not in _COUNTS}

    def window(self, now: float) -> tuple[float, int]:
        """The current rate window's start and count (a window that ended counts nothing)."""
        if now - self.window_start >= self.period:
            return now, 0
        return self.window_start, self.window_count


class FlowKeys:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.keys: dict[str, FlowKey] = {data["key"]: FlowKey(**data) for data in store.flow_keys()}

    def get(self, key: str) -> FlowKey | None:
        return self.keys.get(key)

    def _key(self, key: str) -> FlowKey:
        if not key or len(key) > 200:
            raise BadRequest("a flow control key is 1 to 200 characters")
        return self.keys.setdefault(key, FlowKey(key))

    def _save(self, flow: FlowKey) -> None:
        with self.store.transaction():
            self.store.save_flow_key(flow.key, flow.record())

    def seen(self, control: FlowControl) -> None:
        """A message with this key was published: its settings become the key's, but what is pinned."""
        flow = self._key(control.key)
        before = flow.record()
        if not flow.pinned_parallelism:
            flow.parallelism = control.parallelism
        if not flow.pinned_rate:
            flow.rate, flow.period = control.rate, control.period
        if flow.record() != before:
            self._save(flow)

    def allows(self, key: str, now: float) -> tuple[bool, float | None]:
        """Whether a message of `key` may start now, and if the rate is what stops it, when it may."""
        flow = self._key(key)
        if flow.paused or (flow.parallelism is not None and flow.running >= flow.parallelism):
            return False, None
        if flow.rate is not None:
            start, count = flow.window(now)
            if count >= flow.rate:
                return False, start + flow.period
        return True, None

    def started(self, key: str, now: float) -> None:
        flow = self._key(key)
        flow.running += 1
        if flow.rate is not None:
            start, count = flow.window(now)
            flow.window_start, flow.window_count = start, count + 1

    def finished(self, key: str) -> None:
        flow = self._key(key)
        flow.running = max(0, flow.running - 1)

    # --- the management API's changes ---------------------------------------------------
    def set_paused(self, key: str, paused: bool) -> None:
        """A key not seen yet is made (paused or not): an operator may pause a key before its
        first message, and that message then waits."""
        flow = self._key(key)
        flow.paused = paused
        self._save(flow)

    def pin(self, key: str, now: float, *, parallelism: int | None, rate: int | None, period: float | None) -> None:
        if parallelism is None and rate is None and period is None:
            raise BadRequest("pin needs parallelism, rate or period")
        if (parallelism is not None and parallelism < 1) or (rate is not None and rate < 1) or (period is not None and period <= 0):
            raise BadRequest("parallelism and rate are at least 1, and period is positive")
        flow = self._key(key)
        if parallelism is not None:
            flow.parallelism, flow.pinned_parallelism = parallelism, True
        if rate is not None or period is not None:
            flow.rate = rate if rate is not None else flow.rate
            flow.period = period if period is not None else flow.period
            flow.pinned_rate = True
        flow.window_start, flow.window_count = now, 0  # QStash: pinning resets the rate's state
        self._save(flow)

    def unpin(self, key: str, *, parallelism: bool, rate: bool) -> None:
        """The pinned values stay in force until a message brings others (QStash's rule)."""
        flow = self._key(key)
        flow.pinned_parallelism = flow.pinned_parallelism and not parallelism
        flow.pinned_rate = flow.pinned_rate and not rate
        self._save(flow)

    def reset_rate(self, key: str, now: float) -> None:
        flow = self._key(key)
        flow.window_start, flow.window_count = now, 0


def flow_view(flow: FlowKey, waiting: int, now: float) -> dict[str, Any]:
    """GET /v2/flowControl/{key} as QStash answers it and the SDKs parse it."""
    start, count = flow.window(now) if flow.rate is not None else (0.0, 0)
    return {
        "flowControlKey": flow.key,
        "waitListSize": waiting,
        "parallelismMax": flow.parallelism or 0,
        "parallelismCount": flow.running,
        "rateMax": flow.rate or 0,
        "rateCount": count,
        "ratePeriod": int(flow.period) if flow.rate is not None else 0,
        "ratePeriodStart": int(start),
        "isPaused": flow.paused,
        "isPinnedParallelism": flow.pinned_parallelism,
        "isPinnedRate": flow.pinned_rate,
    }
