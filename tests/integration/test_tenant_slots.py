"""A tenant's concurrency below its worker's, held on both transports by slots in DynamoDB.

Many runs of one tenant at once (threads, as a worker's concurrent invocations are) on the
atomic-per-request local AWS: exactly `limit` take a slot in every trial; a run that died
keeps its slot only until its lease ends; and through the runner, a delivery that finds no
slot is sent again later (acknowledged, not failed), while the one that got it runs."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from courier.jobs.messages import JobMessage
from courier.jobs.runner import Verdict
from courier.jobs.slots import TenantConcurrency, TenantSlots, defer_seconds
from devstack.aws_resources import create_resources
from infra.config import CourierConfig
from tests.support.memory_runner import memory_runner, queued

LIMIT, RUNS, TRIALS = 3, 8, 12


def test_exactly_limit_runs_take_a_slot_however_they_interleave(aws: str) -> None:
    table = create_resources(CourierConfig(stage="slots")).table_name
    slots = TenantSlots(table)
    for trial in range(TRIALS):
        barrier = threading.Barrier(RUNS)

        def take(n: int, trial: int = trial, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            return slots.take(f"tenant-{trial}", "ai_router", f"job-{n}", LIMIT, 60)

        with ThreadPoolExecutor(RUNS) as pool:
            taken = list(pool.map(take, range(RUNS)))
        assert sum(taken) == LIMIT, (trial, taken)
        holder = taken.index(True)
        assert slots.take(f"tenant-{trial}", "ai_router", f"job-{holder}", LIMIT, 60)  # a redelivery keeps its slot
        slots.give_back(f"tenant-{trial}", "ai_router", f"job-{holder}")
        assert slots.take(f"tenant-{trial}", "ai_router", "job-next", LIMIT, 60)  # the slot given back is free


class _MadeMeanwhile:
    """A DynamoDB client whose first read of the slots is preceded by another run's take: the
    interleaving where a run's write is refused (no map yet) and the map is made before it
    reads, which threads hit only now and then."""

    def __init__(self, client: Any, other: TenantSlots) -> None:
        self._client, self.exceptions = client, client.exceptions
        self._other: TenantSlots | None = other

    def update_item(self, **kwargs: Any) -> Any:
        return self._client.update_item(**kwargs)

    def get_item(self, **kwargs: Any) -> Any:
        if self._other is not None:
            other, self._other = self._other, None
            assert other.take("acme", "ai_router", "other", LIMIT, 60)
        return self._client.get_item(**kwargs)


def test_a_run_whose_write_lost_the_race_to_make_the_map_takes_a_slot_in_it(aws: str) -> None:
    table = create_resources(CourierConfig(stage="slots")).table_name
    other = TenantSlots(table)
    late = TenantSlots(table, client=_MadeMeanwhile(other.client, other))
    assert late.take("acme", "ai_router", "late", LIMIT, 60)


def test_a_dead_runs_slot_is_free_once_its_lease_ends(aws: str) -> None:
    table = create_resources(CourierConfig(stage="slots")).table_name
    now = [1_000_000.0]
    slots = TenantSlots(table, clock=lambda: now[0])
    assert slots.take("acme", "video_processor", "crashed", 2, 10) and slots.take("acme", "video_processor", "alive", 2, 100)
    now[0] += 5
    assert not slots.take("acme", "video_processor", "next", 2, 10)
    now[0] += 6  # the crashed run's lease has ended; the live one's has not
    assert slots.take("acme", "video_processor", "next", 2, 10)
    assert not slots.take("acme", "video_processor", "another", 2, 10)


def test_the_runner_runs_one_and_sends_the_others_again_later(aws: str) -> None:
    table = create_resources(CourierConfig(stage="slots")).table_name
    running, peak, lock = [0], [0], threading.Lock()

    def job(context: Any) -> dict[str, Any]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return {}

    runner, store = memory_runner(job)
    sent_again: list[tuple[str, int, int]] = []
    runner.concurrency = TenantConcurrency(TenantSlots(table), "ai_router", lambda tenant: 1 if tenant == "acme" else None, 60)

    def defer(job_id: str, seconds: int, *, wake: int | None, deferred: int) -> bool:
        sent_again.append((job_id, seconds, deferred))
        return True

    runner.defer = defer
    jobs = [queued(store) for _ in range(4)]
    bodies = [JobMessage(jobId=j.job_id, type=j.type, tenant=j.tenant_id).to_json() for j in jobs]
    barrier = threading.Barrier(len(bodies))

    def deliver(body: str) -> Verdict:
        barrier.wait()
        return runner.run(body).verdict

    with ThreadPoolExecutor(len(bodies)) as pool:
        verdicts = list(pool.map(deliver, bodies))
    assert verdicts == [Verdict.DONE] * 4 and peak[0] == 1
    assert len(sent_again) == 3 and {(seconds, times) for _, seconds, times in sent_again} == {(defer_seconds(1), 1)}
    assert sum(store.get(j.job_id).status.value == "succeeded" for j in jobs) == 1  # type: ignore[union-attr]
    again = next(j for j in jobs if j.job_id == sent_again[0][0])
    outcome = runner.run(JobMessage(jobId=again.job_id, type=again.type, tenant="acme", deferred=1).to_json())
    assert outcome.verdict is Verdict.DONE and store.get(again.job_id).status.value == "succeeded"  # type: ignore[union-attr]
