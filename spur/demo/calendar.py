"""The demo's 90-day window: working days and moments inside working hours."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from spur.engine.periods import as_utc

HISTORY_DAYS = 90
WORK_START = time(9, 0)
WORK_END = time(18, 30)


@dataclass(frozen=True)
class Window:
    """The 90 days of history that end at `now`, seen from the company zone."""

    now: datetime
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return as_utc(self.now) - timedelta(days=HISTORY_DAYS)

    @property
    def today(self) -> date:
        return local_date(self.now, self.tz)

    def working_days(self) -> list[date]:
        """Weekdays after the window's first (partial) day, up to today."""
        first = local_date(self.start, self.tz) + timedelta(days=1)
        days = (first + timedelta(days=n) for n in range((self.today - first).days + 1))
        return [day for day in days if day.weekday() < 5]

    def contains(self, instant: datetime) -> bool:
        return self.start <= as_utc(instant) <= as_utc(self.now)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar date of `instant` in zone `tz`."""
    return as_utc(instant).astimezone(tz).date()


def at_local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `clock` on `day` in zone `tz`."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def moment(
    day: date,
    tz: ZoneInfo,
    rng: random.Random,
    earliest: time = WORK_START,
    latest: time = WORK_END,
) -> datetime:
    """A random whole second between two wall-clock times of `day`, in UTC."""
    start = at_local(day, earliest, tz)
    seconds = int((at_local(day, latest, tz) - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(max(1, seconds)))


def _working_spans(
    low: datetime, high: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    spans = []
    day = local_date(low, tz)
    while day <= local_date(high, tz):
        if day.weekday() < 5:
            start = max(low, at_local(day, WORK_START, tz))
            end = min(high, at_local(day, WORK_END, tz))
            if end > start + timedelta(minutes=1):
                spans.append((start, end))
        day += timedelta(days=1)
    return spans


def working_moment_between(
    low: datetime, high: datetime, tz: ZoneInfo, rng: random.Random, decay: float = 1.0
) -> datetime | None:
    """A random working-hours instant in [low, high), or None if there is none.

    Each later working day is `decay` times as likely as the one before, so a
    decay below one makes things tend to happen soon after `low`.
    """
    spans = _working_spans(as_utc(low), as_utc(high), tz)
    if not spans:
        return None
    weights = [
        decay**n * (end - start).total_seconds() for n, (start, end) in enumerate(spans)
    ]
    start, end = rng.choices(spans, weights)[0]
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(max(1, seconds)))
