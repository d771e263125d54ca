"""What the schedules API does, without HTTP: create, read, list, pause, resume, delete,
and a firing (QStash's signed delivery) turned into one ordinary job."""

from __future__ import annotations

import builtins
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

from courier.cron import Cron, known_zone
from courier.errors import CourierError, InvalidInput, Unauthorized, Unavailable
from courier.jobs.idempotency import internal_key
from courier.jobs.models import Job, utc_now
from courier.jobs.service import JobService
from courier.schedules.models import Schedule
from courier.schedules.store import ScheduleStore

logger = logging.getLogger(__name__)

#: Schedules one tenant may keep (each may fire every minute); COURIER_MAX_SCHEDULES overrides.
MAX_SCHEDULES_PER_TENANT = 100
#: A firing's message id as QStash makes them is about 40 characters.
MAX_MESSAGE_ID = 128

#: QStash retries a firing this often before it gives up on it (each retry is the same
#: message, so it can only find the firing's job, never make a second one).
FIRING_RETRIES = 3


def new_schedule_id() -> str:
    return f"sched_{time.time_ns():016x}{secrets.token_hex(4)}"


class ScheduleService:
    def __init__(self, store: ScheduleStore, jobs: JobService, *, qstash: Callable[[], Any] | None, hook_url: str) -> None:
        self.store = store
        self.jobs = jobs
        self._qstash = qstash
        self.hook_url = hook_url

    def create(
        self, tenant_id: str, *, cron: str, job_type: str, job_input: dict[str, Any],
        timezone: str | None = None, callback_url: str | None = None,
    ) -> Schedule:
        """Checked like a job request now, so a bad schedule is a 400 here and not a dead job
        at every firing; then recorded, then given to QStash (undone if QStash refuses)."""
        data = self.jobs.check_request(tenant_id, job_type, job_input, callback_url=callback_url)
        limit = int(os.environ.get("COURIER_MAX_SCHEDULES", MAX_SCHEDULES_PER_TENANT))
        if self.store.count(tenant_id) >= limit:
            raise CourierError(f"a tenant keeps at most {limit} schedules; delete one first", code="too_many_schedules",
                               status=429, retryable=False)
        now = utc_now()
        schedule = Schedule(new_schedule_id(), tenant_id, cron.strip(), job_type, data, now, now, timezone=timezone or None,
                            callback_url=callback_url)
        if timezone and schedule.cron.upper().startswith("CRON_TZ="):
            raise InvalidInput("give the time zone once: in timezone or as CRON_TZ= in cron", code="invalid_cron", status=400)
        if timezone and not known_zone(timezone):
            raise InvalidInput(f"unknown time zone {timezone!r}: an IANA name such as 'Europe/Berlin' or 'UTC'",
                               code="invalid_timezone", status=400)
        try:
            Cron.parse(schedule.expression)
        except ValueError as error:
            raise InvalidInput(f"invalid cron {schedule.cron!r}: {error}", code="invalid_cron", status=400) from None
        client = self._client()
        self.store.create(schedule)
        try:
            client.schedule.create(
                destination=self.hook_url, cron=schedule.expression, schedule_id=schedule.schedule_id,
                body=json.dumps({"scheduleId": schedule.schedule_id}), content_type="application/json",
                retries=FIRING_RETRIES, label=f"schedule:{job_type}",
            )
        except Exception as error:  # qstash.errors, httpx: nothing is left half made
            self.store.delete(schedule.schedule_id)
            logger.error("QStash refused schedule %s: %s", schedule.schedule_id, error)
            raise Unavailable(f"QStash could not take the schedule ({type(error).__name__}); try again",
                              code="schedules_unavailable", retry_after=5) from None
        return schedule

    def get(self, tenant_id: str, schedule_id: str) -> Schedule:
        return self.store.get_for_tenant(tenant_id, schedule_id)

    def list(self, tenant_id: str) -> list[Schedule]:
        return self.store.list(tenant_id)

    def last_runs(self, schedule: Schedule) -> builtins.list[dict[str, Any]]:
        """The newest firings with their jobs' statuses now."""
        jobs = {j.job_id: j for j in self.jobs.store.get_many([r["jobId"] for r in schedule.last_runs if r.get("jobId")])}
        return [
            {**run, "status": jobs[run["jobId"]].status.value if run.get("jobId") in jobs else "refused" if run.get("error") else "expired"}
            for run in schedule.last_runs
        ]

    def set_paused(self, tenant_id: str, schedule_id: str, paused: bool) -> Schedule:
        schedule = self.store.get_for_tenant(tenant_id, schedule_id)
        client = self._client()
        try:
            (client.schedule.pause if paused else client.schedule.resume)(schedule_id)
        except Exception as error:
            raise Unavailable(f"QStash could not {'pause' if paused else 'resume'} the schedule ({type(error).__name__}); try again",
                              code="schedules_unavailable", retry_after=5) from None
        return self.store.set_paused(schedule, paused)

    def delete(self, tenant_id: str, schedule_id: str) -> None:
        self.store.get_for_tenant(tenant_id, schedule_id)
        try:
            self._client().schedule.delete(schedule_id)
        except CourierError:
            raise
        except Exception as error:  # gone from QStash already is gone
            if "not found" not in str(error).lower():
                raise Unavailable(f"QStash could not delete the schedule ({type(error).__name__}); try again",
                                  code="schedules_unavailable", retry_after=5) from None
        self.store.delete(schedule_id)

    def fire(self, schedule_id: str, message_id: str | None, claims: dict[str, Any]) -> Job | None:
        """One firing: one job, whatever QStash redelivers. None: the schedule is paused or
        gone (QStash fired as it was being changed), or the job request is refused now; and
        nothing runs. `claims`: the firing's verified signature, bound to its message id."""
        if not message_id or len(message_id) > MAX_MESSAGE_ID or not message_id.isascii():
            raise InvalidInput(f"a firing carries its Upstash-Message-Id (at most {MAX_MESSAGE_ID} characters)", code="invalid_firing")
        if not claims.get("jti"):
            raise Unauthorized("a firing's signature names itself (jti)", code="invalid_signature")
        self.store.bind_signature(str(claims["jti"]), message_id, int(claims["exp"]))
        schedule = self.store.get(schedule_id)
        if schedule is None or schedule.paused:
            logger.info("firing of %s ignored: the schedule is %s", schedule_id, "paused" if schedule else "deleted")
            return None
        try:
            job, _ = self.jobs.submit(
                schedule.tenant_id, schedule.type, schedule.input, callback_url=schedule.callback_url,
                idempotency_key=internal_key("schedule", schedule_id, message_id), schedule_id=schedule_id,
            )
        except CourierError as error:
            if error.retryable:
                raise  # 5xx: QStash delivers the firing again
            # The request is no longer one the tenant may make (a host taken off its allowlist,
            # say): retrying cannot help, so the firing is acknowledged and the run says why.
            logger.warning("firing of %s refused: %s", schedule_id, error.message)
            self.store.record_run(schedule_id, {"jobId": None, "firedAt": utc_now(), "messageId": message_id,
                                                "error": {"code": error.code, "message": error.message}})
            return None
        self.store.record_run(schedule_id, {"jobId": job.job_id, "firedAt": job.created_at, "messageId": message_id})
        return job

    def _client(self) -> Any:
        if self._qstash is None:
            raise Unavailable("schedules need QStash, and no QStash token is configured", code="schedules_unavailable")
        try:
            return self._qstash()
        except CourierError as error:
            raise Unavailable(f"schedules need QStash: {error.message}", code="schedules_unavailable") from None


def firing_payload(raw: bytes) -> str:
    """The schedule id a firing's (signed) body names."""
    try:
        schedule_id = json.loads(raw)["scheduleId"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("not a Courier schedule firing", code="invalid_firing") from None
    if not isinstance(schedule_id, str):
        raise InvalidInput("not a Courier schedule firing", code="invalid_firing")
    return schedule_id


