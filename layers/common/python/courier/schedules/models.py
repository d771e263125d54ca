"""The schedule record and what the API shows of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from courier.cron import Cron
from courier.jobs import catalog

#: Firings kept on the record for `GET /v1/schedules/{id}` (each is also an ordinary job).
LAST_RUNS = 10


@dataclass
class Schedule:
    schedule_id: str
    tenant_id: str
    cron: str
    type: str
    input: dict[str, Any]
    created_at: str
    updated_at: str
    timezone: str | None = None
    callback_url: str | None = None
    paused: bool = False
    #: Firings so far, and the newest LAST_RUNS of them: {jobId, firedAt, messageId}.
    runs: int = 0
    last_runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def expression(self) -> str:
        """The cron as QStash takes it: `CRON_TZ=<zone> <cron>` when a time zone is given."""
        return f"CRON_TZ={self.timezone} {self.cron}" if self.timezone else self.cron

    def next_run_at(self, now: datetime | None = None) -> str | None:
        if self.paused:
            return None
        moment = Cron.parse(self.expression).next_after(now or datetime.now(UTC))
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")

    def public_view(self) -> dict[str, Any]:
        view: dict[str, Any] = {
            "scheduleId": self.schedule_id,
            "cron": self.cron,
            "type": self.type,
            "input": catalog.load().redacted_input(self.type, self.input),
            "paused": self.paused,
            "nextRunAt": self.next_run_at(),
            "runs": self.runs,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        optional = {"timezone": self.timezone, "callbackUrl": self.callback_url}
        view.update({k: v for k, v in optional.items() if v is not None})
        return view
