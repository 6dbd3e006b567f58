"""Calendar periods that goals are measured over.

A period is a half-open interval [start, end) of real instants whose bounds are
local midnights in the company's time zone. Bounds are compared as instants
(through UTC), never as wall-clock values, so periods that cross a daylight
saving change keep their true length.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class PeriodKind(enum.Enum):
    """Granularity of a goal period, from finest to coarsest."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


ALL_KINDS: tuple[PeriodKind, ...] = (
    PeriodKind.DAY,
    PeriodKind.WEEK,
    PeriodKind.MONTH,
    PeriodKind.QUARTER,
    PeriodKind.YEAR,
)

_MONTHS_PER_KIND = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}


def require_aware(instant: datetime, name: str = "instant") -> None:
    """Raise ValueError unless ``instant`` carries a usable UTC offset."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {instant!r}")


def as_utc(instant: datetime) -> datetime:
    """The same instant expressed in UTC (``instant`` must be aware)."""
    require_aware(instant)
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) bounded by local midnights.

    ``start`` and ``end`` are aware datetimes in the company's zone; ``start``
    and ``kind`` together identify the period.
    """

    kind: PeriodKind
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware(self.start, "start")
        require_aware(self.end, "end")
        if as_utc(self.end) < as_utc(self.start):
            raise ValueError(f"period ends before it starts: {self.start}")

    @property
    def start_date(self) -> date:
        """The local calendar date the period starts on."""
        return self.start.date()

    @property
    def label(self) -> str:
        """Human and URL friendly name, e.g. ``2026-W49`` or ``2026-Q4``."""
        return _label(self.kind, self.start_date)

    @property
    def duration(self) -> timedelta:
        """Real elapsed time from start to end (23 or 25 hours on DST days)."""
        # Subtracting datetimes that share a tzinfo ignores their offsets,
        # which would make every DST day 24 hours long.
        return as_utc(self.end) - as_utc(self.start)

    def contains(self, instant: datetime) -> bool:
        """True if ``instant`` (aware, any zone) falls within [start, end)."""
        moment = as_utc(instant)
        return as_utc(self.start) <= moment < as_utc(self.end)


def _label(kind: PeriodKind, start: date) -> str:
    if kind is PeriodKind.DAY:
        return start.isoformat()
    if kind is PeriodKind.WEEK:
        iso = start.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    if kind is PeriodKind.MONTH:
        return f"{start.year:04d}-{start.month:02d}"
    if kind is PeriodKind.QUARTER:
        return f"{start.year:04d}-Q{_quarter(start)}"
    return f"{start.year:04d}"


def _quarter(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # fold=0 is right at both kinds of DST change at midnight: for a skipped
    # midnight it names the instant the clocks jump (the first moment of the
    # day), and for a repeated midnight it names the first occurrence.
    midnight = datetime.combine(day, time(), tzinfo=tz)
    # A skipped midnight is shown as the wall time it became (01:00), because
    # Python never compares a nonexistent wall time equal to another zone's.
    # A zone that skipped the whole day keeps the label-bearing midnight.
    shown = midnight.astimezone(UTC).astimezone(tz)
    return shown if shown.date() == day else midnight


def _first_day(kind: PeriodKind, day: date) -> date:
    """The first calendar day of the period of ``kind`` that contains ``day``."""
    if kind is PeriodKind.DAY:
        return day
    if kind is PeriodKind.WEEK:
        return day - timedelta(days=day.weekday())
    if kind is PeriodKind.MONTH:
        return day.replace(day=1)
    if kind is PeriodKind.QUARTER:
        return date(day.year, 3 * _quarter(day) - 2, 1)
    return date(day.year, 1, 1)


def _shift(kind: PeriodKind, first_day: date, steps: int) -> date:
    """The first day of the period ``steps`` periods after ``first_day``'s."""
    if kind is PeriodKind.DAY:
        return first_day + timedelta(days=steps)
    if kind is PeriodKind.WEEK:
        return first_day + timedelta(weeks=steps)
    months = first_day.year * 12 + first_day.month - 1
    months += steps * _MONTHS_PER_KIND[kind]
    return date(months // 12, months % 12 + 1, 1)


def _build(kind: PeriodKind, first_day: date, tz: ZoneInfo) -> Period:
    start = _local_midnight(first_day, tz)
    end = _local_midnight(_shift(kind, first_day, 1), tz)
    return Period(kind=kind, start=start, end=end)


def period_containing(kind: PeriodKind, instant: datetime, tz: ZoneInfo) -> Period:
    """The period of ``kind`` in zone ``tz`` that contains ``instant``.

    Weeks start on Monday at 00:00 local time. Raises ValueError if
    ``instant`` is naive.
    """
    local_day = as_utc(instant).astimezone(tz).date()
    return _build(kind, _first_day(kind, local_day), tz)


def period_starting(kind: PeriodKind, start_date: date, tz: ZoneInfo) -> Period:
    """The period of ``kind`` that starts on local date ``start_date``.

    Raises ValueError if no period of ``kind`` starts on that date, e.g. a
    WEEK starting on a Tuesday or a QUARTER starting in February.
    """
    if _first_day(kind, start_date) != start_date:
        raise ValueError(f"{start_date} is not the first day of a {kind.value}")
    return _build(kind, start_date, tz)


def next_period(period: Period, tz: ZoneInfo) -> Period:
    """The period of the same kind that begins where ``period`` ends."""
    return _build(period.kind, _shift(period.kind, period.start_date, 1), tz)


def previous_period(period: Period, tz: ZoneInfo) -> Period:
    """The period of the same kind that ends where ``period`` begins."""
    return _build(period.kind, _shift(period.kind, period.start_date, -1), tz)


def periods_overlapping(
    kind: PeriodKind, start: datetime, end: datetime, tz: ZoneInfo
) -> list[Period]:
    """Every period of ``kind`` that intersects the half-open range [start, end).

    An empty or reversed range intersects nothing.
    """
    limit = as_utc(end)
    if limit <= as_utc(start):
        return []
    found: list[Period] = []
    period = period_containing(kind, start, tz)
    while as_utc(period.start) < limit:
        # A day a zone skipped entirely (Samoa, 2011-12-30) is empty and so
        # intersects nothing.
        if period.duration > timedelta(0):
            found.append(period)
        period = next_period(period, tz)
    return found


def elapsed_share(period: Period, now: datetime) -> float:
    """Share of ``period`` that has passed at ``now``, in [0, 1].

    Measured in real seconds, so the extra hour of a 25-hour day counts.
    """
    total = period.duration.total_seconds()
    elapsed = (as_utc(now) - as_utc(period.start)).total_seconds()
    if total <= 0:
        return 1.0 if elapsed >= 0 else 0.0
    return min(1.0, max(0.0, elapsed / total))


_LABEL_PATTERNS: tuple[tuple[PeriodKind, re.Pattern[str]], ...] = (
    (PeriodKind.DAY, re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")),
    (PeriodKind.WEEK, re.compile(r"([0-9]{4})-W([0-9]{2})")),
    (PeriodKind.MONTH, re.compile(r"([0-9]{4})-([0-9]{2})")),
    (PeriodKind.QUARTER, re.compile(r"([0-9]{4})-Q([1-4])")),
    (PeriodKind.YEAR, re.compile(r"([0-9]{4})")),
)


# Dates the service answers for: a period and its neighbours (history,
# "the period before") then stay inside Python's calendar in every zone.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9000, 12, 31)


def in_calendar(day: date) -> bool:
    """Whether `day` lies in the range the service supports."""
    return FIRST_DAY <= day <= LAST_DAY


def _label_start(kind: PeriodKind, numbers: list[int]) -> date:
    if kind is PeriodKind.DAY:
        return date(numbers[0], numbers[1], numbers[2])
    if kind is PeriodKind.WEEK:
        return date.fromisocalendar(numbers[0], numbers[1], 1)
    if kind is PeriodKind.MONTH:
        return date(numbers[0], numbers[1], 1)
    if kind is PeriodKind.QUARTER:
        return date(numbers[0], 3 * numbers[1] - 2, 1)
    return date(numbers[0], 1, 1)


def parse_label(label: str, tz: ZoneInfo) -> Period:
    """The period named by ``label`` (the inverse of ``Period.label``).

    Raises ValueError for anything that is not a label of a real period.
    """
    for kind, pattern in _LABEL_PATTERNS:
        match = pattern.fullmatch(label)
        if match is None:
            continue
        try:
            first_day = _label_start(kind, [int(part) for part in match.groups()])
        except ValueError as error:
            raise ValueError(f"not a valid period label: {label!r}") from error
        if not in_calendar(first_day):
            raise ValueError(f"{label!r} is outside {FIRST_DAY.year}-{LAST_DAY.year}")
        return _build(kind, first_day, tz)
    raise ValueError(f"not a period label: {label!r}")
