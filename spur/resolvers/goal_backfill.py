"""A new goal starts from what its owner already did in the running period.

Goal progress is kept incrementally as activity arrives, so a goal created on
4 December would miss October and November of its quarter. The stored daily
totals (member or team × metric × day) hold exactly that history: summing
the days inside the goal's bounds gives its value without scanning activity.

Lines already behind the goal when it is created fire no events and earn no
rewards: a reward follows an achievement made while the goal was in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine.periods import Period, PeriodKind, as_utc, period_containing
from spur.models import Goal, GoalProgress, MetricTotal
from spur.resolvers.goal import anchored_period_in
from spur.resolvers.goal_progress import goal_applies


async def backfill_progress(
    conn: BaseDBAsyncClient, goals: Sequence[Goal], tz: ZoneInfo, now: datetime
) -> None:
    """Store each new goal's value so far in the period it is running in."""
    for goal in goals:
        period = _running_period(goal, tz, now)
        if period is None:
            continue
        value = await _recorded(conn, goal, period, tz)
        if value > 0:
            await GoalProgress.create(
                using_db=conn,
                goal_id=goal.id,
                period_start=period.start_date,
                current=value,
                target=goal.target,
                completed_at=now if value >= goal.target else None,
            )


def _running_period(goal: Goal, tz: ZoneInfo, now: datetime) -> Period | None:
    """The goal's period that has begun: its only one, or the one running now."""
    period = anchored_period_in(goal, tz) or period_containing(
        goal.period_kind, now, tz
    )
    if as_utc(period.start) > as_utc(now):
        return None
    start = goal.window_start or period.start
    return period if goal_applies(goal, period, start) else None


async def _recorded(
    conn: BaseDBAsyncClient, goal: Goal, period: Period, tz: ZoneInfo
) -> Decimal:
    """The owner's daily totals of the goal's metric inside its bounds."""
    start = max(period.start, goal.window_start or period.start, key=as_utc)
    end = min(period.end, goal.window_end or period.end, key=as_utc)
    scope, subject = (
        ("team", goal.team_id) if goal.team_id else ("member", goal.member_id)
    )
    values = (
        await MetricTotal.filter(
            metric_id=goal.metric_id,
            scope=scope,
            subject_id=subject,
            period_kind=PeriodKind.DAY,
            period_start__gte=start.astimezone(tz).date(),
            period_start__lt=end.astimezone(tz).date(),
        )
        .using_db(conn)
        .values_list("value", flat=True)
    )
    return sum((Decimal(value) for value in values), Decimal(0))
