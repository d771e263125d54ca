"""Five-field cron (minute hour day-of-month month day-of-week) with an optional CRON_TZ=, as QStash reads it.

One parser for both sides: the jobs API validates a schedule and says when it fires next with
it, and the local QStash server fires schedules with it.

QStash schedules resolve to the minute. Day-of-month and day-of-week follow Vixie cron:
when both are restricted, a day matching either fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())},
)



def known_zone(name: str) -> bool:
    """An IANA time zone name this machine (and QStash) knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Cron:
    expression: str
    zone: timezone | ZoneInfo
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, expression: str) -> Cron:
        text = expression.strip()
        zone: timezone | ZoneInfo = UTC
        if text.upper().startswith("CRON_TZ="):
            name, _, text = text[len("CRON_TZ="):].partition(" ")
            if not known_zone(name):
                raise ValueError(f"unknown time zone {name!r}")
            zone = ZoneInfo(name)
        fields = text.split()
        if len(fields) != 5:
            raise ValueError(f"cron needs 5 fields (minute hour day month weekday), got {len(fields)}")
        sets = [_field(f, i) for i, f in enumerate(fields)]
        weekdays = frozenset(d % 7 for d in sets[4])
        cron = cls(
            expression, zone, sets[0], sets[1], sets[2], sets[3], weekdays,
            days_restricted=fields[2] not in ("*", "?"), weekdays_restricted=fields[4] not in ("*", "?"),
        )
        cron.next_after(datetime.now(UTC))  # one that never fires (Feb 30) is no schedule
        return cron

    def next_after(self, moment: datetime) -> datetime:
        """The first firing time strictly after `moment` (an aware datetime), in UTC."""
        local = moment.astimezone(self.zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = local + timedelta(days=366 * 5)
        while local < limit:
            if local.month not in self.months:
                local = (local.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_matches(local):
                local = local.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if local.hour not in self.hours:
                local = local.replace(minute=0) + timedelta(hours=1)
                continue
            if local.minute not in self.minutes:
                local += timedelta(minutes=1)
                continue
            # ZoneInfo works on wall time: the offset is that of the matched local time.
            return local.astimezone(UTC)
        raise ValueError(f"cron {self.expression!r} never fires")

    def _day_matches(self, moment: datetime) -> bool:
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _BOUNDS[index]
    if index == 4:
        high = 7  # 7 is Sunday too
    values: set[int] = set()
    for part in text.lower().split(","):
        part, stepped, step_text = part.partition("/")
        step = _number(step_text, index) if stepped else 1
        if step < 1:
            raise ValueError(f"cron step must be positive: {text!r}")
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            start, end = _number(a, index), _number(b, index)
        else:
            start = _number(part, index)
            end = high if stepped else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise ValueError(f"cron field {text!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(text: str, index: int) -> int:
    if text in _NAMES[index]:
        return _NAMES[index][text]
    if not (text.isascii() and text.isdigit()):  # "٣".isdigit() is True; QStash reads ASCII digits only
        raise ValueError(f"invalid cron value {text!r}")
    return int(text)
