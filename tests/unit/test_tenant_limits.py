"""A tenant's limits as data: rates as operators write them, the order a worker's limit is
taken in (its own, every worker's, the catalogue's), and the worker's total as the ceiling."""

from __future__ import annotations

import pytest

from courier.errors import InvalidInput
from courier.jobs.limits import TenantLimits, WorkerLimit, parse_rate
from courier.jobs.memory_store import MemoryJobStore
from courier.jobs.waiting import RECOUNT_SECONDS, WaitingCount

CATALOGUE = WorkerLimit(concurrency=10, rate=None, period=None)


@pytest.mark.parametrize(("text", "rate"), [("5/s", (5, 1)), ("30/min", (30, 60)), ("100/10s", (100, 10)), ("1000/h", (1000, 3600)),
                                            ("2 / 5 minutes", (2, 300)), ("7/day", (7, 86400))])
def test_rates_as_operators_write_them(text: str, rate: tuple[int, int]) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["5", "0/s", "-1/s", "5/fortnight", "5/8d", "five/s", "5/"])
def test_a_rate_that_means_nothing_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_rate(text)


def test_a_workers_own_limit_then_every_workers_then_the_catalogues() -> None:
    limits = TenantLimits.model_validate({"tenantId": "acme", "workers": {"*": {"concurrency": 3, "rate": 20, "period": 60},
                                                                          "video_processor": {"concurrency": 1}}})
    assert limits.on("ai_router", CATALOGUE) == WorkerLimit(concurrency=3, rate=20, period=60)
    assert limits.on("video_processor", CATALOGUE) == WorkerLimit(concurrency=1, rate=20, period=60)
    assert TenantLimits(tenant_id="b", max_queued=None).on("ai_router", CATALOGUE) == CATALOGUE


def test_a_tenant_never_runs_more_at_once_than_its_worker() -> None:
    limits = TenantLimits.model_validate({"tenantId": "acme", "workers": {"ai_router": {"concurrency": 500}}})
    assert limits.on("ai_router", CATALOGUE).concurrency == 10


def test_a_rate_brings_its_period_and_clearing_one_brings_the_catalogues_back() -> None:
    catalogue = WorkerLimit(concurrency=4, rate=50, period=1)

    def on(fields: dict[str, int]) -> WorkerLimit:
        return TenantLimits.model_validate({"tenantId": "a", "workers": {"*": fields}}).on("x", catalogue)

    assert on({"rate": 2}) == WorkerLimit(concurrency=4, rate=2, period=1)
    assert on({"concurrency": 2}) == WorkerLimit(concurrency=2, rate=50, period=1)


class CountingStore(MemoryJobStore):
    def __init__(self) -> None:
        super().__init__()
        self.counts = 0

    def count_waiting(self, tenant_id: str, limit: int) -> int:
        self.counts += 1
        return super().count_waiting(tenant_id, limit)


def test_waiting_jobs_are_counted_again_only_when_near_the_cap_or_stale() -> None:
    store, now = CountingStore(), [0.0]
    waiting = WaitingCount(store, clock=lambda: now[0])
    for _ in range(5):
        assert waiting.count("acme", 100) < 100
        waiting.added("acme")
    assert store.counts == 1  # far below the cap: one count, this container's enqueues added to it
    assert waiting.count("acme", 5) == 0 and store.counts == 2  # the estimate reached the cap: counted afresh (none stored)
    now[0] += RECOUNT_SECONDS
    waiting.count("acme", 100)
    assert store.counts == 3  # stale: counted afresh
