"""How many jobs a tenant has waiting, for its cap, without counting them on every request.

Counting is a query over the tenant's queued jobs: a tenant with a thousand waiting would
pay a thousand index reads on each enqueue (and its enqueues would slow as its backlog
grew). A warm function counts a tenant at most every RECOUNT_SECONDS and adds its own
enqueues since; it counts again sooner when that estimate reaches the cap. Other
containers' enqueues within the window can take a tenant past its cap by that much: the
cap bounds a runaway client, it is not a quota to the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from courier.jobs.store import JobStore

RECOUNT_SECONDS = 5.0


@dataclass
class WaitingCount:
    store: JobStore
    clock: Callable[[], float] = time.monotonic
    #: tenant -> (when counted, the count then, this container's enqueues since)
    _known: dict[str, tuple[float, int, int]] = field(default_factory=dict)

    def count(self, tenant_id: str, limit: int) -> int:
        """At least the tenant's waiting jobs as far as `limit` (a fresh count near it)."""
        known = self._known.get(tenant_id)
        if known and self.clock() - known[0] < RECOUNT_SECONDS and known[1] + known[2] < limit:
            return known[1] + known[2]
        counted = self.store.count_waiting(tenant_id, limit)
        self._known[tenant_id] = (self.clock(), counted, 0)
        return counted

    def added(self, tenant_id: str) -> None:
        if tenant_id in self._known:
            when, counted, since = self._known[tenant_id]
            self._known[tenant_id] = (when, counted, since + 1)
