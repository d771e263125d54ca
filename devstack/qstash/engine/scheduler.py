"""The scheduler: cron schedules, and publishing each one when it falls due."""

from __future__ import annotations

from datetime import UTC, datetime

from courier.cron import Cron
from devstack.qstash.engine.intake import Intake
from devstack.qstash.engine.state import NotFound
from devstack.qstash.model import BadRequest, Message, Settings, new_id


class Scheduler(Intake):
    def create_schedule(self, destination: str, body: bytes, settings: Settings, caller_ip: str | None) -> str:
        if not settings.cron:
            raise BadRequest("Upstash-Cron header is required")
        try:
            cron = Cron.parse(settings.cron)
        except ValueError as error:
            raise BadRequest(f"invalid cron: {error}") from None
        if not destination.startswith(("http://", "https://")) and self.store.get_topic(destination) is None:
            raise NotFound(f"topic {destination} not found")
        now = self.clock.ms()
        schedule_id = settings.schedule_id or new_id("scd")
        existing = self.store.get_schedule(schedule_id)
        data = {
            "scheduleId": schedule_id,
            "destination": destination,
            "cron": settings.cron,
            "createdAt": existing[1]["createdAt"] if existing else now,
            "settings": settings.to_record(),
            "callerIP": caller_ip,
            "isPaused": False,
            "lastScheduleStates": {},
            "nextScheduleTime": (next_at := self._next_fire(cron, now)),
        }
        with self.store.transaction():
            self.store.save_schedule(schedule_id, next_at, False, body, data)
        return schedule_id

    def _next_fire(self, cron: Cron, now_ms: int) -> int:
        moment = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
        return int(cron.next_after(moment).timestamp() * 1000)

    def set_schedule_paused(self, schedule_id: str, paused: bool) -> None:
        found = self.store.get_schedule(schedule_id)
        if found is None:
            raise NotFound(f"schedule {schedule_id} not found")
        body, data = found
        data["isPaused"] = paused
        next_at = None if paused else self._next_fire(Cron.parse(data["cron"]), self.clock.ms())
        data["nextScheduleTime"] = next_at
        with self.store.transaction():
            self.store.save_schedule(schedule_id, next_at, paused, body, data)

    def delete_schedule(self, schedule_id: str) -> None:
        with self.store.transaction():
            if not self.store.delete_schedule(schedule_id):
                raise NotFound(f"schedule {schedule_id} not found")

    def fire_due_schedules(self) -> None:
        now = self.clock.ms()
        for schedule_id in self.store.due_schedules(now):
            found = self.store.get_schedule(schedule_id)
            if found is None:
                continue
            body, data = found
            settings = Settings.from_record(data["settings"])
            with self.store.transaction():
                try:
                    result = self.publish(data["destination"], body, settings, queue=settings.queue,
                                          caller_ip=data.get("callerIP"), schedule_id=schedule_id)
                    ids = [r["messageId"] for r in (result if isinstance(result, list) else [result])]
                    data.pop("error", None)
                except (NotFound, BadRequest) as error:
                    ids, data["error"] = [], str(error)
                states = data.setdefault("lastScheduleStates", {})
                states.clear()
                states.update({message_id: "IN_PROGRESS" for message_id in ids})
                data["lastScheduleTime"] = now
                next_at = self._next_fire(Cron.parse(data["cron"]), now)
                data["nextScheduleTime"] = next_at
                self.store.save_schedule(schedule_id, next_at, False, body, data)

    def _schedule_outcome(self, message: Message, state: str) -> None:
        if not message.schedule_id or message.kind != "message":
            return
        found = self.store.get_schedule(message.schedule_id)
        if found is None:
            return
        body, data = found
        states = data.get("lastScheduleStates") or {}
        if message.id in states:
            states[message.id] = state
            self.store.save_schedule(message.schedule_id, data.get("nextScheduleTime"), data["isPaused"], body, data)

