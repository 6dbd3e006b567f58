"""Raising manager alerts: right after an activity, and once a day.

After an activity commits, `alerts_after_activity` reads the handful of
stored totals its rules need (one query) and raises what they find; an
order or an inquiry re-checks the member's conversion this month, a reply
their reply time this week. Nothing scans history. `evaluate_company` runs
every rule for every team at a given "now" (the daily pass, which also
catches what no activity triggers: low upkeep, goals at risk). An alert is
inserted under its unique key, so a condition raises once per subject and
period; only a new alert writes its MANAGER_ALERT event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from spur.api.services import Services
from spur.engine import alerts as rules
from spur.engine import money
from spur.engine.alert_messages import alert_message
from spur.engine.messages import localized
from spur.engine.metrics import ActivityKind
from spur.engine.periods import (
    Period,
    PeriodKind,
    elapsed_share,
    period_containing,
    previous_period,
)
from spur.models import (
    AchievementEvent,
    Activity,
    Company,
    EventKind,
    Goal,
    GoalProgress,
    ManagerAlert,
    Member,
    MetricDefinition,
    MetricTotal,
    Role,
    Team,
)
from spur.models.upserts import insert_new

logger = logging.getLogger(__name__)

ORDERS, INQUIRIES = "orders", "inquiries_received"
REPLIES, REPLY_MINUTES = "inquiry_replies", "inquiry_reply_minutes"
PLATFORM = "platform_minutes"
WATCHED = (ORDERS, INQUIRIES, REPLIES, REPLY_MINUTES, PLATFORM)
DAILY_INTERVAL_SECONDS = 3600.0
# Totals by (metric key, scope, subject id, period start).
Totals = dict[tuple[str, str, int, date], Decimal]


@dataclass(frozen=True)
class Raised:
    """A finding about a subject, ready to store."""

    finding: rules.Finding
    team: Team
    member: Member | None
    period: Period
    goal: Goal | None = None

    @property
    def key(self) -> str:
        subject = f"g{self.goal.id}" if self.goal else self._who()
        return rules.alert_key(
            self.finding.rule, subject, self.period.kind, self.period.start_date
        )

    def _who(self) -> str:
        return f"m{self.member.id}" if self.member else f"t{self.team.id}"


async def metric_ids(company_id: int) -> dict[str, int]:
    """The watched metrics the company defines, by key."""
    rows = await MetricDefinition.filter(company_id=company_id, key__in=WATCHED)
    return {row.key: row.id for row in rows}


async def read_totals(
    metrics: dict[str, int],
    keys: Sequence[str],
    kind: PeriodKind,
    starts: Sequence[date],
    subjects: Sequence[int],
) -> Totals:
    """Stored member and team totals of `keys` in periods starting on `starts`."""
    wanted = {metrics[key]: key for key in keys if key in metrics}
    if not wanted or not subjects:
        return {}
    rows = await MetricTotal.filter(
        metric_id__in=list(wanted),
        period_kind=kind,
        period_start__in=list(starts),
        subject_id__in=list(subjects),
    ).values("metric_id", "scope", "subject_id", "period_start", "value")
    return {
        (wanted[r["metric_id"]], r["scope"], r["subject_id"], r["period_start"]): (
            _value(r["value"])
        )
        for r in rows
    }


def _value(stored: object) -> Decimal:
    found = MetricTotal._meta.fields_map["value"].to_python_value(stored)
    return found if isinstance(found, Decimal) else Decimal(0)


def _get(totals: Totals, key: str, scope: str, subject: int, start: date) -> Decimal:
    return totals.get((key, scope, subject, start), Decimal(0))


# --- after an activity --------------------------------------------------------


async def alerts_after_activity(
    services: Services, company: Company, member: Member, activity: Activity
) -> None:
    """Raise what the activity's rules find; never fails the recording."""
    if member.team_id is None or member.role is not Role.SALESPERSON:
        return
    try:
        raised = await _activity_findings(company, member, activity)
        if raised and await store(services, company, raised):
            services.relay.poke()
    except Exception:  # an alert is advice: the activity stands regardless
        logger.exception("alerts after activity %s failed", activity.id)


async def _activity_findings(
    company: Company, member: Member, activity: Activity
) -> list[Raised]:
    kind = activity.kind
    if kind not in _TRIGGERS:
        return []
    metrics = await metric_ids(company.id)
    team = await Team.get(id=member.team_id)
    tz = ZoneInfo(company.timezone)
    if kind is ActivityKind.INQUIRY_REPLIED:
        week = period_containing(PeriodKind.WEEK, activity.occurred_at, tz)
        return await _drift(metrics, team, [member], week, tz)
    month = period_containing(PeriodKind.MONTH, activity.occurred_at, tz)
    return await _conversion(metrics, team, [member], month)


_TRIGGERS = frozenset(
    {
        ActivityKind.ORDER_CLOSED,
        ActivityKind.INQUIRY_RECEIVED,
        ActivityKind.INQUIRY_REPLIED,
    }
)


async def _conversion(
    metrics: dict[str, int], team: Team, members: Sequence[Member], month: Period
) -> list[Raised]:
    start = month.start_date
    subjects = [team.id, *(m.id for m in members)]
    totals = await read_totals(
        metrics, (ORDERS, INQUIRIES), PeriodKind.MONTH, [start], subjects
    )
    found: list[Raised] = []
    for member in members:
        finding = rules.conversion_lead(
            _get(totals, ORDERS, "member", member.id, start),
            _get(totals, INQUIRIES, "member", member.id, start),
            _get(totals, ORDERS, "team", team.id, start),
            _get(totals, INQUIRIES, "team", team.id, start),
        )
        if finding is not None:
            found.append(Raised(finding, team, member, month))
    return found


async def _drift(
    metrics: dict[str, int],
    team: Team,
    members: Sequence[Member],
    week: Period,
    tz: ZoneInfo,
) -> list[Raised]:
    before = previous_period(week, tz).start_date
    start = week.start_date
    totals = await read_totals(
        metrics,
        (REPLIES, REPLY_MINUTES),
        PeriodKind.WEEK,
        [start, before],
        [m.id for m in members],
    )
    found: list[Raised] = []
    for member in members:
        finding = rules.reply_drift(
            _get(totals, REPLY_MINUTES, "member", member.id, start),
            _get(totals, REPLIES, "member", member.id, start),
            _get(totals, REPLY_MINUTES, "member", member.id, before),
            _get(totals, REPLIES, "member", member.id, before),
        )
        if finding is not None:
            found.append(Raised(finding, team, member, week))
    return found


# --- storing ------------------------------------------------------------------


async def store(services: Services, company: Company, raised: list[Raised]) -> int:
    """Insert the alerts not raised before, each with its feed event; the
    number new."""
    now = services.clock()
    leads = await _leads([r.team for r in raised])
    new = 0
    async with in_transaction() as conn:
        for item in raised:
            lead = leads.get(item.team.id)
            values = _alert_values(company, item, lead, now)
            alert_id = await insert_new(conn, ManagerAlert, values)
            if alert_id is None:
                continue
            new += 1
            watcher = item.member or lead
            if watcher is None:
                continue  # a team nobody leads: HR reads it in `alerts`
            await AchievementEvent.create(
                using_db=conn,
                company_id=company.id,
                kind=EventKind.MANAGER_ALERT,
                member_id=watcher.id,
                team_id=item.team.id,
                goal_id=item.goal.id if item.goal else None,
                period_start=item.period.start_date,
                dedupe_key=f"alert:{item.key}",
                message=str(values["message"]),
                team_message=str(values["message"]),
                occurred_at=now,
            )
    return new


async def _leads(teams: Sequence[Team]) -> dict[int, Member]:
    ids = {t.manager_id for t in teams if t.manager_id is not None}
    found = {m.id: m for m in await Member.filter(id__in=list(ids))} if ids else {}
    return {
        t.id: found[t.manager_id]
        for t in teams
        if t.manager_id is not None and t.manager_id in found
    }


def _alert_values(
    company: Company, item: Raised, lead: Member | None, now: datetime
) -> dict[str, object]:
    finding = item.finding
    award = finding.award
    shown = money.format_money(award, company.currency) if award else None
    subject = item.member.name if item.member else item.team.name
    fallback = item.member.language if item.member else "zh-CN"
    language = lead.language if lead else fallback
    return {
        "company_id": company.id,
        "team_id": item.team.id,
        "member_id": item.member.id if item.member else None,
        "goal_id": item.goal.id if item.goal else None,
        "key": item.key,
        "rule": finding.rule,
        "status": "OPEN",
        "period_kind": item.period.kind,
        "period_start": item.period.start_date,
        "value": finding.value,
        "baseline": finding.baseline,
        "suggested_amount": award,
        "currency": company.currency if award else None,
        "facts": finding.facts,
        "message": alert_message(
            language,
            finding,
            subject,
            item.period.label,
            shown,
            _goal_title(item, language),
        ),
        "raised_at": now,
        "reason": "",
    }


def _goal_title(item: Raised, language: str) -> str:
    goal = item.goal
    return localized(goal.title, goal.titles, language) if goal else ""


# --- the daily pass -----------------------------------------------------------


async def evaluate_company(services: Services, company: Company, now: datetime) -> int:
    """Every rule for every team of the company at `now`; alerts new."""
    tz = ZoneInfo(company.timezone)
    metrics = await metric_ids(company.id)
    teams = await Team.filter(company_id=company.id).order_by("id")
    staff = await Member.filter(
        company_id=company.id, role=Role.SALESPERSON, is_active=True
    ).order_by("id")
    raised: list[Raised] = []
    for team in teams:
        members = [m for m in staff if m.team_id == team.id]
        if not members:
            continue
        month = period_containing(PeriodKind.MONTH, now, tz)
        week = period_containing(PeriodKind.WEEK, now, tz)
        raised += await _conversion(metrics, team, members, month)
        raised += await _drift(metrics, team, members, week, tz)
        raised += await _upkeep(metrics, team, members, week, now, tz)
    raised += await _goals_at_risk(company, teams, staff, now, tz)
    return await store(services, company, raised) if raised else 0


async def _upkeep(
    metrics: dict[str, int],
    team: Team,
    members: Sequence[Member],
    week: Period,
    now: datetime,
    tz: ZoneInfo,
) -> list[Raised]:
    today = now.astimezone(tz).date()
    days = working_days_before(week.start_date, today)
    totals = await read_totals(
        metrics, (PLATFORM,), PeriodKind.DAY, days, [m.id for m in members]
    )
    line = rules.DEFAULT.upkeep_minutes
    upkept = sum(
        1
        for m in members
        for day in days
        if _get(totals, PLATFORM, "member", m.id, day) >= line
    )
    finding = rules.low_upkeep(upkept, len(members), len(days))
    if PLATFORM not in metrics or finding is None:
        return []
    return [Raised(finding, team, None, week)]


def working_days_before(first: date, today: date) -> list[date]:
    """Monday-to-Friday dates from `first` up to (not including) `today`."""
    days = [first + timedelta(days=n) for n in range((today - first).days)]
    return [d for d in days if d.weekday() < 5]


async def _goals_at_risk(
    company: Company,
    teams: Sequence[Team],
    staff: Sequence[Member],
    now: datetime,
    tz: ZoneInfo,
) -> list[Raised]:
    today = now.astimezone(tz).date()
    people = {m.id: m for m in staff}
    if not people:
        return []
    goals = await Goal.filter(
        company_id=company.id, member_id__in=list(people), active_from__lte=today
    ).exclude(period_kind=PeriodKind.DAY)
    goals = [g for g in goals if g.active_until is None or g.active_until >= today]
    periods = {g.id: period_containing(g.period_kind, now, tz) for g in goals}
    progress = await _progress(goals, periods)
    by_team = {t.id: t for t in teams}
    found: list[Raised] = []
    for goal in goals:
        member = people[goal.member_id] if goal.member_id else None
        team = by_team.get(member.team_id) if member and member.team_id else None
        if team is None:
            continue
        period = periods[goal.id]
        days_left = (period.end.astimezone(tz).date() - today).days
        finding = rules.goal_at_risk(
            progress.get(goal.id, Decimal(0)),
            goal.target,
            Decimal(str(round(elapsed_share(period, now), 4))),
            days_left,
        )
        if finding is not None:
            found.append(Raised(finding, team, member, period, goal))
    return found


async def _progress(
    goals: Sequence[Goal], periods: dict[int, Period]
) -> dict[int, Decimal]:
    if not goals:
        return {}
    rows = await GoalProgress.filter(
        goal_id__in=[g.id for g in goals],
        period_start__in=list({p.start_date for p in periods.values()}),
    )
    return {
        row.goal_id: row.current
        for row in rows
        if periods[row.goal_id].start_date == row.period_start
    }


async def evaluate_all(services: Services, now: datetime) -> int:
    """The daily pass over every company; the number of alerts raised."""
    raised = 0
    for company in await Company.all().order_by("id"):
        raised += await evaluate_company(services, company, now)
    if raised:
        services.relay.poke()
    return raised


class DailyAlerts:
    """The lifespan's background task: the daily pass, hourly.

    A pass repeats nothing (alerts are unique per condition and period), so
    running it every hour only makes new conditions show sooner. The first
    pass comes one interval after start.
    """

    def __init__(self, services: Services, interval: float = DAILY_INTERVAL_SECONDS):
        self.services = services
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="spur-daily-alerts")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await evaluate_all(self.services, self.services.clock())
            except Exception:  # the next pass tries again
                logger.exception("daily alert pass failed")
