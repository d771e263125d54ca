"""Jobs in memory, under one lock: the same lifecycle as DynamoDB, checked in Python.

For the pure tests of the runner, the service and the adapters: the transitions are the
ones `lifecycle.allowed` finds, the effects the ones `lifecycle.cleared_fields` names, so a
test that passes here tests the same rules the DynamoDB store's conditions enforce (which
its own integration tests prove against the local DynamoDB).
"""

from __future__ import annotations

import builtins
import threading
from dataclasses import replace
from typing import Any

from courier.errors import CourierError, InvalidInput
from courier.jobs import lifecycle
from courier.jobs.lifecycle import Event, Facts
from courier.jobs.models import Job, JobError, JobStatus, utc_now
from courier.jobs.steps import EVENT_WINDOW_SECONDS, StepRecord, Suspend
from courier.jobs.store import Claim, ConditionFailed, StoreRules, new_lease_token, now_ms


class MemoryJobStore(StoreRules):
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._idempotency: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        #: Every transition taken, in order: (job id, event, from, to), for tests to read.
        self.history: list[tuple[str, Event, JobStatus, JobStatus]] = []
        self.progress_writes = 0
        self._steps: dict[str, dict[int, StepRecord]] = {}
        self._events: dict[tuple[str, str], tuple[Any, int]] = {}
        self._waiters: dict[tuple[str, str], set[str]] = {}

    def create(self, job: Job) -> tuple[Job, bool]:
        with self._lock:
            if job.idempotency_key:
                known = self._idempotency.get((job.tenant_id, job.idempotency_key))
                if known is not None:
                    return replace(self._jobs[known]), False
                self._idempotency[(job.tenant_id, job.idempotency_key)] = job.job_id
            if job.job_id in self._jobs:
                raise CourierError("could not record the job; try again", code="conflict", status=409)
            self._jobs[job.job_id] = replace(job)
            return replace(job), True

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return replace(job) if job else None

    def list(
        self, tenant_id: str, *, status: JobStatus | None = None, job_type: str | None = None,
        cursor: str | None = None, limit: int = 50,
    ) -> tuple[list[Job], str | None]:
        with self._lock:
            jobs = [
                replace(j) for j in self._jobs.values()
                if j.tenant_id == tenant_id and status in (None, j.status) and job_type in (None, j.type)
            ]
        jobs.sort(key=lambda j: (j.created_at, j.job_id), reverse=True)
        start = _offset(cursor, tenant_id) if cursor else 0
        end = start + limit
        return jobs[start:end], f"{tenant_id}:{end}" if end < len(jobs) else None

    def count_waiting(self, tenant_id: str, limit: int) -> int:
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.tenant_id == tenant_id and j.status in (JobStatus.QUEUED, JobStatus.RETRYING))
        return min(waiting, limit)

    def record_dispatch(self, job_id: str, transport: str, message_id: str, fallback_reason: str | None = None) -> Job:
        with self._lock:
            job = self._existing(job_id)
            job.transport, job.message_id, job.fallback_reason = transport, message_id, fallback_reason
            job.dispatches += 1
            job.updated_at = utc_now()
            return replace(job)

    def claim(self, job_id: str, lease_seconds: float) -> Claim:
        at = now_ms()

        def take(job: Job) -> None:
            job.attempts += 1
            job.lease_until = at + int(lease_seconds * 1000)
            job.lease_token = new_lease_token()
            job.started_at = job.started_at or utc_now()

        try:
            return Claim("claimed", self._transition(job_id, Event.CLAIM, Facts(at), change=take))
        except ConditionFailed:
            return self._refused_claim(job_id, at)

    def finish(self, job: Job, event: Event, *, result: dict[str, Any] | None = None,
               result_ref: dict[str, Any] | None = None, error: JobError | None = None,
               progress: dict[str, Any] | None = None) -> Job | None:
        lifecycle.require_run_ending(event)

        def record(stored: Job) -> None:
            stored.result = result if result is not None else stored.result
            stored.result_ref = result_ref if result_ref is not None else stored.result_ref
            stored.progress = progress if progress is not None else stored.progress

        try:
            return self._transition(job.job_id, event, Facts(now_ms(), lease_token=job.lease_token or ""), change=record, error=error)
        except ConditionFailed:
            return None

    def record_progress(self, job: Job, progress: dict[str, Any]) -> bool:
        with self._lock:
            stored = self._jobs.get(job.job_id)
            if stored is None or not lifecycle.run_still_held(stored, Facts(now_ms(), lease_token=job.lease_token or "")):
                return False
            stored.progress = dict(progress)
            self.progress_writes += 1
            return True

    def mark_dead(self, job_id: str, error: JobError, last_response: dict[str, Any] | None = None, *,
                  message_id: str | None = None) -> Job | None:
        def record(stored: Job) -> None:
            stored.last_response = last_response if last_response is not None else stored.last_response

        try:
            return self._transition(job_id, Event.GIVE_UP, Facts(now_ms(), message_id=message_id), change=record, error=error)
        except ConditionFailed:
            return None

    def record_callback(self, job_id: str, delivery: dict[str, Any]) -> None:
        with self._lock:
            self._existing(job_id).callback_delivery = dict(delivery)

    def get_many(self, job_ids: builtins.list[str]) -> builtins.list[Job]:
        with self._lock:
            return [replace(self._jobs[i]) for i in job_ids if i in self._jobs]

    def wait_for_children(self, job: Job, child_ids: builtins.list[str]) -> Job | None:
        def record(stored: Job) -> None:
            stored.children, stored.children_open = list(child_ids), list(child_ids)

        try:
            return self._transition(job.job_id, Event.WAIT, Facts(now_ms(), lease_token=job.lease_token or ""), change=record)
        except ConditionFailed:
            return None

    def child_settled(self, parent_id: str, child_id: str) -> Job | None:
        with self._lock:
            parent = self._jobs.get(parent_id)
            if parent is None or child_id not in (parent.children_open or ()):
                return None
            parent.children_open = [c for c in parent.children_open or () if c != child_id] or None
            parent.updated_at = utc_now()
            return replace(parent)

    def steps(self, job_id: str) -> builtins.list[StepRecord]:
        with self._lock:
            return [replace(r) for _, r in sorted(self._steps.get(job_id, {}).items())]

    def record_step(self, job: Job, record: StepRecord) -> bool:
        with self._lock:
            stored = self._jobs.get(job.job_id)
            if stored is None or not lifecycle.run_still_held(stored, Facts(now_ms(), lease_token=job.lease_token or "")):
                return False
            self._steps.setdefault(job.job_id, {})[record.seq] = replace(record)
            return True

    def clear_steps(self, job_id: str) -> None:
        with self._lock:
            self._steps.pop(job_id, None)

    def suspend(self, job: Job, pause: Suspend, link: int) -> Job | None:
        def record(stored: Job) -> None:
            stored.waiting_for, stored.wake_at, stored.wait_key, stored.wake_link = pause.waiting_for(), pause.until_ms, pause.key, link

        try:
            return self._transition(job.job_id, Event.SUSPEND, Facts(now_ms(), lease_token=job.lease_token or ""), change=record)
        except ConditionFailed:
            return None

    def advance_wake(self, job_id: str, link: int) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status is not JobStatus.WAITING or job.wake_link != link:
                return False
            job.wake_link = link + 1
            return True

    def put_event(self, tenant_id: str, event_key: str, data: Any) -> builtins.list[str]:
        with self._lock:
            self._events[(tenant_id, event_key)] = (data, now_ms())
            return sorted(self._waiters.get((tenant_id, event_key), ()))

    def event(self, tenant_id: str, event_key: str) -> tuple[Any, int] | None:
        with self._lock:
            found = self._events.get((tenant_id, event_key))
        return found if found is not None and found[1] >= now_ms() - EVENT_WINDOW_SECONDS * 1000 else None

    def add_waiter(self, tenant_id: str, event_key: str, job_id: str, until_ms: int) -> None:
        with self._lock:
            self._waiters.setdefault((tenant_id, event_key), set()).add(job_id)

    def _existing(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ConditionFailed()
        return job

    def _transition(self, job_id: str, event: Event, facts: Facts, *, change: Any = None, error: JobError | None = None,
                    tenant_id: str | None = None) -> Job:
        with self._lock:
            job = self._existing(job_id)
            row = lifecycle.allowed(event, job, facts)
            if row is None:
                raise ConditionFailed()
            before, now = job.status, utc_now()
            for name in lifecycle.cleared_fields(event) - ({"error"} if error else set()):
                setattr(job, name, None)
            if error is not None:
                job.error = error
            if change is not None:
                change(job)
            job.status, job.updated_at = row.target, now
            if row.target.terminal:
                job.finished_at = now
            self.history.append((job_id, event, before, row.target))
            return replace(job)


def _offset(cursor: str, tenant_id: str) -> int:
    tenant, _, offset = cursor.rpartition(":")
    if tenant != tenant_id or not offset.isdigit():  # a cursor never crosses tenants
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    return int(offset)
