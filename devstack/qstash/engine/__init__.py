"""The delivery engine: accepts messages, delivers them as QStash does, keeps the books.

One asyncio loop owns everything: the API handlers, the scheduler and the deliveries
run on it, so state needs no locks. SQLite is the truth; the in-memory index (a heap of
due times, each queue's FIFO window, flow-control counters) is rebuilt from it at start.
The engine is split by job (state.py says which module does what); `Engine` is all of
them together, and the only writer the API uses.
"""

from __future__ import annotations

from devstack.qstash.engine.delivery import Delivery
from devstack.qstash.engine.resources import Resources
from devstack.qstash.engine.state import Clock, NotFound

__all__ = ["Clock", "Engine", "NotFound"]


class Engine(Delivery, Resources):
    """Intake, scheduler, delivery, callbacks and resources over one state."""
