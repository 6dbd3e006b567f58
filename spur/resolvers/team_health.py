"""A team's health in one period, read from stored totals and goal progress.

Nothing here scans activity: the platform upkeep rate counts the members'
stored daily platform totals, reply time and orders come from the team's
totals of the period (and the one before), and goals from goal progress rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import (
    Period,
    PeriodKind,
    as_utc,
    periods_overlapping,
    previous_period,
)
from spur.models import (
    Goal,
    GoalProgress,
    Member,
    MetricDefinition,
    MetricTotal,
    Role,
    Team,
)

UPKEEP_MINUTES = Decimal(60)


@dataclass(frozen=True)
class TeamHealth:
    """What HR and managers watch per team and period.

    `upkeep_rate` is the share of the salespeople's working days (so far,
    from their hire date) with an hour or more on the platform; rates and
    growth are None where there is nothing to divide by.
    """

    team: Team
    period: Period
    salespeople: int
    upkeep_days: int
    working_days: int
    upkeep_rate: float | None
    replies: int
    average_reply_minutes: float | None
    orders: int
    previous_orders: int
    order_growth: float | None
    goals_due: int
    goals_achieved: int
    goals_achieved_share: float | None


async def team_health(
    team: Team, period: Period, tz: ZoneInfo, now: datetime
) -> TeamHealth:
    """The team's health in `period`; days after `now` are not yet due."""
    company_id, team_id = team.company_id, team.id
    people = await Member.filter(
        company_id=company_id, team_id=team_id, role=Role.SALESPERSON, is_active=True
    ).values_list("id", "hire_date")
    hired = {int(member): day for member, day in people}
    metrics = await _metric_ids(company_id)
    upkept, possible = await _upkeep(metrics.get("platform"), hired, period, now, tz)
    totals = await _team_totals(metrics, team_id, period, tz)
    due, achieved = await _goals(company_id, team_id, list(hired), period, now)
    replies, minutes = int(totals["replies"]), totals["reply_minutes"]
    orders, before = int(totals["orders"]), int(totals["previous_orders"])
    return TeamHealth(
        team,
        period,
        len(hired),
        upkept,
        possible,
        _share(upkept, possible),
        replies,
        float(minutes / replies) if replies else None,
        orders,
        before,
        orders / before - 1 if before else None,
        due,
        achieved,
        _share(achieved, due),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


_WANTED = {
    "platform": (ActivityKind.PLATFORM_SESSION, Aggregation.SUM_QUANTITY),
    "reply_minutes": (ActivityKind.INQUIRY_REPLIED, Aggregation.SUM_REPLY_MIN),
    "replies": (ActivityKind.INQUIRY_REPLIED, Aggregation.COUNT),
    "orders": (ActivityKind.ORDER_CLOSED, Aggregation.COUNT),
}


async def _metric_ids(company_id: int) -> dict[str, int]:
    """The company's unfiltered metrics for each measure, by role."""
    rows = await MetricDefinition.filter(
        company_id=company_id,
        market=None,
        product_category=None,
        new_customer=None,
        reply_within_minutes=None,
    ).order_by("id")
    found: dict[str, int] = {}
    for row in rows:
        for name, wanted in _WANTED.items():
            if (row.activity_kind, row.aggregation) == wanted:
                found.setdefault(name, row.id)
    return found


def working_days_until(period: Period, now: datetime, tz: ZoneInfo) -> list[date]:
    """The period's Monday-to-Friday dates that have begun by `now`."""
    today = as_utc(now).astimezone(tz).date()
    last = min(period.end.date() - timedelta(days=1), today)
    span = (last - period.start_date).days + 1
    days = (period.start_date + timedelta(days=n) for n in range(max(0, span)))
    return [day for day in days if day.weekday() < 5]


async def _upkeep(
    metric_id: int | None,
    hired: dict[int, date | None],
    period: Period,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[int, int]:
    """Upkept member working days and all member working days, so far."""
    days = working_days_until(period, now, tz)
    possible = {
        (member, day)
        for member, joined in hired.items()
        for day in days
        if joined is None or day >= joined
    }
    if metric_id is None or not possible:
        return 0, len(possible)
    upkept = await MetricTotal.filter(
        metric_id=metric_id,
        scope="member",
        subject_id__in=list(hired),
        period_kind=PeriodKind.DAY,
        period_start__gte=period.start_date,
        period_start__lt=period.end.date(),
        value__gte=UPKEEP_MINUTES,
    ).values_list("subject_id", "period_start")
    return len(possible & {(int(m), d) for m, d in upkept}), len(possible)


async def _team_totals(
    metrics: dict[str, int], team_id: int, period: Period, tz: ZoneInfo
) -> dict[str, Decimal]:
    """The team's totals this period (and orders the period before)."""
    before = previous_period(period, tz)
    wanted: list[tuple[str, int, Period]] = [
        (name, metrics[name], period)
        for name in ("reply_minutes", "replies", "orders")
        if name in metrics
    ]
    if "orders" in metrics:
        wanted.append(("previous_orders", metrics["orders"], before))
    values = dict.fromkeys(
        ("reply_minutes", "replies", "orders", "previous_orders"), Decimal(0)
    )
    rows = await MetricTotal.filter(
        scope="team",
        subject_id=team_id,
        period_kind=period.kind,
        metric_id__in=[metric for _, metric, _ in wanted],
        period_start__in=[period.start_date, before.start_date],
    ).values_list("metric_id", "period_start", "value")
    stored = {(int(m), start): value for m, start, value in rows}
    for name, metric, when in wanted:
        values[name] = stored.get((metric, when.start_date), Decimal(0))
    return values


async def _goals(
    company_id: int, team_id: int, members: list[int], period: Period, now: datetime
) -> tuple[int, int]:
    """Goal periods due in `period` (ended by now, or met early) and those met.

    A goal period is due when it ends inside `period`; the members' own goals
    and the team's count, each period once.
    """
    mine = Q(member_id__in=members) | Q(team_id=team_id, member_id=None)
    goals = await Goal.filter(mine, company_id=company_id)
    met = {
        (int(goal), start)
        for goal, start in await GoalProgress.filter(
            goal_id__in=[goal.id for goal in goals], completed_at__isnull=False
        ).values_list("goal_id", "period_start")
    }
    due = achieved = 0
    for goal in goals:
        for slot in _goal_periods(goal, period, now):
            done = (goal.id, slot.start_date) in met
            ended = as_utc(slot.end) <= as_utc(now)
            due += 1 if ended or done else 0
            achieved += 1 if done else 0
    return due, achieved


def _goal_periods(goal: Goal, period: Period, now: datetime) -> list[Period]:
    tz = period.start.tzinfo
    assert isinstance(tz, ZoneInfo)
    found = periods_overlapping(goal.period_kind, period.start, period.end, tz)
    return [
        slot
        for slot in found
        if as_utc(period.start) < as_utc(slot.end) <= as_utc(period.end)
        and slot.start_date >= goal.active_from
        and (goal.active_until is None or slot.start_date < goal.active_until)
        and as_utc(slot.start) <= as_utc(now)
    ]
