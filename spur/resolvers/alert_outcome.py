"""Did the metric move after an alert? Its period against the next, from totals.

The outcome of an alert is the same measure (conversion, upkeep rate,
average reply time, goal progress) in the alert's period and in the period
after it, read from stored totals: never from the activity history. A page
of alerts is answered in a fixed number of queries (`OutcomeBatch`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from spur.engine import alerts as rules
from spur.engine.alerts import AlertRule, Direction
from spur.engine.periods import Period, PeriodKind, next_period, period_starting
from spur.models import Goal, GoalProgress, ManagerAlert, Member, Role
from spur.resolvers.alert_rules import (
    INQUIRIES,
    ORDERS,
    PLATFORM,
    REPLIES,
    REPLY_MINUTES,
    Totals,
    metric_ids,
    read_totals,
    working_days_before,
)


@dataclass(frozen=True)
class Outcome:
    """The measure in the alert's period and the next, and which way it went."""

    period: Period
    next_period: Period
    before: Decimal | None
    after: Decimal | None
    direction: Direction
    complete: bool


class OutcomeBatch:
    """Outcomes of a page of alerts, computed together on first request."""

    def __init__(
        self,
        alerts: Sequence[ManagerAlert],
        company_id: int,
        tz: ZoneInfo,
        now: datetime,
    ) -> None:
        self.alerts = list(alerts)
        self.company_id, self.tz, self.now = company_id, tz, now
        self._done: dict[int, Outcome] | None = None
        self._lock = asyncio.Lock()

    async def get(self, alert: ManagerAlert) -> Outcome:
        async with self._lock:
            if self._done is None:
                self._done = await _outcomes(self)
        return self._done[alert.id]


def _periods(alert: ManagerAlert, tz: ZoneInfo) -> tuple[Period, Period]:
    period = period_starting(alert.period_kind, alert.period_start, tz)
    return period, next_period(period, tz)


async def _outcomes(batch: OutcomeBatch) -> dict[int, Outcome]:
    alerts, tz, now = batch.alerts, batch.tz, batch.now
    spans = {a.id: _periods(a, tz) for a in alerts}
    metrics = await metric_ids(batch.company_id) if alerts else {}
    totals = await _totals(alerts, spans, metrics)
    upkeep = await _upkeep(alerts, spans, metrics, now, tz)
    goals = await _goal_shares(alerts, spans)
    found: dict[int, Outcome] = {}
    for alert in alerts:
        period, following = spans[alert.id]
        before, after = _measure(alert, totals, upkeep, goals, period, following)
        started = now >= following.start
        after = after if started else None
        found[alert.id] = Outcome(
            period,
            following,
            before,
            after,
            rules.direction(before, after, rules.HIGHER_IS_BETTER[alert.rule]),
            now >= following.end,
        )
    return found


_KEYS = {
    AlertRule.CONVERSION_LEAD: (ORDERS, INQUIRIES),
    AlertRule.REPLY_DRIFT: (REPLY_MINUTES, REPLIES),
}


async def _totals(
    alerts: Sequence[ManagerAlert],
    spans: dict[int, tuple[Period, Period]],
    metrics: dict[str, int],
) -> dict[PeriodKind, Totals]:
    """Member totals of the ratio rules, one query per period kind used."""
    found: dict[PeriodKind, Totals] = {}
    for kind in {a.period_kind for a in alerts if a.rule in _KEYS}:
        mine = [a for a in alerts if a.rule in _KEYS and a.period_kind is kind]
        starts = {p.start_date for a in mine for p in spans[a.id]}
        found[kind] = await read_totals(
            metrics,
            (ORDERS, INQUIRIES, REPLIES, REPLY_MINUTES),
            kind,
            sorted(starts),
            [a.member_id for a in mine if a.member_id is not None],
        )
    return found


def _ratio(totals: Totals, rule: AlertRule, member: int, start: date) -> Decimal | None:
    top_key, bottom_key = _KEYS[rule]
    top = totals.get((top_key, "member", member, start), Decimal(0))
    bottom = totals.get((bottom_key, "member", member, start), Decimal(0))
    if rule is AlertRule.CONVERSION_LEAD:
        return rules.rate(top, bottom)
    return rules.average(top, bottom)


def _measure(
    alert: ManagerAlert,
    totals: dict[PeriodKind, Totals],
    upkeep: dict[tuple[int, date], Decimal | None],
    goals: dict[tuple[int, date], Decimal | None],
    period: Period,
    following: Period,
) -> tuple[Decimal | None, Decimal | None]:
    starts = (period.start_date, following.start_date)
    if alert.rule in _KEYS and alert.member_id is not None:
        found = totals.get(alert.period_kind, {})
        member = alert.member_id
        return _ratio(found, alert.rule, member, starts[0]), _ratio(
            found, alert.rule, member, starts[1]
        )
    if alert.rule is AlertRule.LOW_UPKEEP:
        return upkeep.get((alert.team_id, starts[0])), upkeep.get(
            (alert.team_id, starts[1])
        )
    if alert.goal_id is not None:
        return goals.get((alert.goal_id, starts[0])), goals.get(
            (alert.goal_id, starts[1])
        )
    return None, None


async def _upkeep(
    alerts: Sequence[ManagerAlert],
    spans: dict[int, tuple[Period, Period]],
    metrics: dict[str, int],
    now: datetime,
    tz: ZoneInfo,
) -> dict[tuple[int, date], Decimal | None]:
    """Teams' upkeep rates (points) in the weeks asked, up to today."""
    mine = [a for a in alerts if a.rule is AlertRule.LOW_UPKEEP]
    if not mine:
        return {}
    staff = await Member.filter(
        team_id__in=list({a.team_id for a in mine}),
        role=Role.SALESPERSON,
        is_active=True,
    )
    today = now.astimezone(tz).date()
    weeks = {p for a in mine for p in spans[a.id]}
    days = {w.start_date: _days(w, today) for w in weeks}
    totals = await read_totals(
        metrics,
        (PLATFORM,),
        PeriodKind.DAY,
        sorted({d for found in days.values() for d in found}),
        [m.id for m in staff],
    )
    line = rules.DEFAULT.upkeep_minutes
    found: dict[tuple[int, date], Decimal | None] = {}
    for alert in mine:
        team = [m.id for m in staff if m.team_id == alert.team_id]
        for week in spans[alert.id]:
            wanted = days[week.start_date]
            kept = sum(
                1
                for m in team
                for d in wanted
                if totals.get((PLATFORM, "member", m, d), Decimal(0)) >= line
            )
            found[(alert.team_id, week.start_date)] = rules.rate(
                Decimal(kept), Decimal(len(team) * len(wanted))
            )
    return found


def _days(week: Period, today: date) -> list[date]:
    end = min(week.end.date(), today)
    return working_days_before(week.start_date, end) if end > week.start_date else []


async def _goal_shares(
    alerts: Sequence[ManagerAlert], spans: dict[int, tuple[Period, Period]]
) -> dict[tuple[int, date], Decimal | None]:
    """Goal progress as points of the target, per goal and period."""
    ids = [a.goal_id for a in alerts if a.goal_id is not None]
    if not ids:
        return {}
    targets = {g.id: g.target for g in await Goal.filter(id__in=ids)}
    starts = {p.start_date for a in alerts if a.goal_id for p in spans[a.id]}
    rows = await GoalProgress.filter(goal_id__in=ids, period_start__in=list(starts))
    found: dict[tuple[int, date], Decimal | None] = {}
    for alert in alerts:
        if alert.goal_id is None:
            continue
        for period in spans[alert.id]:
            found[(alert.goal_id, period.start_date)] = Decimal("0.00")
    for row in rows:
        target = targets.get(row.goal_id)
        if target and (row.goal_id, row.period_start) in found:
            found[(row.goal_id, row.period_start)] = rules.rate(row.current, target)
    return found
