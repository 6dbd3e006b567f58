"""Replaying recorded activity in memory under a rule book.

Re-rating a range and previewing a proposed version both need what the plans
would pay for real activity, without touching the stored totals, goal
progress or rule counters. The rows are read up front in a fixed number of
queries; every activity is then replayed through the functions the live path
uses (metric contributions, `rate_activity`, rounding, `limits_for` and
`hold_to_limits`), with totals, progress and counters kept in memory.

Activities replay in the order they were recorded (by id), as the live path
rated them: a late activity then sees the totals it saw when it arrived, so
an untouched history replays to exactly the entries it wrote. Replay starts
at the start of the longest period any rule, cap, budget or goal it needs
watches, so step counts, tiers, targets and caps see their whole period.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine import money
from spur.engine.incentives import Person
from spur.engine.metrics import ActivityFacts, MetricSpec, contributions
from spur.engine.periods import (
    ALL_KINDS,
    Period,
    PeriodKind,
    as_utc,
    period_containing,
    period_starting,
)
from spur.models import (
    Activity,
    Company,
    Goal,
    GoalProgress,
    Member,
    MetricDefinition,
    RewardKind,
    Role,
    RuleKind,
    Team,
)
from spur.models.upserts import VALUE_SCALE, Movement, ProgressChange, TotalKey
from spur.resolvers.goal_progress import GoalStep, goal_applies
from spur.resolvers.payout import hold_to_limits, limits_for
from spur.resolvers.rating import Earned, RatingInput, rate_activity
from spur.resolvers.rulebook import RuleBook, RuleInForce

logger = logging.getLogger(__name__)

# Rules that watch a period but name none are given one by rating.py; the
# longest kind is assumed here, so replay starts early enough whatever it is.
_WATCHING = frozenset({RuleKind.STEP, RuleKind.TARGET_BONUS, RuleKind.TEAM_THRESHOLD})
_ORDER = {kind: n for n, kind in enumerate(ALL_KINDS)}


@dataclass(frozen=True)
class Expected:
    """One ledger entry the rules pay for an activity, rounded and capped."""

    key: str
    member_id: int
    team_id: int | None
    kind: RewardKind
    amount: Decimal | None
    quantity: Decimal | None
    title: str
    titles: dict[str, str]
    rule: RuleInForce
    activity_id: int
    earned_at: datetime
    period_start: date | None
    goal_id: int | None
    inputs: dict[str, str]


@dataclass(frozen=True)
class History:
    """The rows a replay reads, loaded once: [start, end) of a company."""

    company: Company
    tz: ZoneInfo
    start: datetime | None
    first: datetime
    end: datetime
    specs: list[MetricSpec]
    metric_ids: dict[str, int]
    members: dict[int, Member]
    teams: dict[int, Team]
    goals: list[Goal]
    targets: dict[tuple[int, date], Decimal]
    activities: list[Activity]

    def lead(self, team_id: int | None) -> Member | None:
        team = self.teams.get(team_id) if team_id is not None else None
        if team is None or team.manager_id is None:
            return None
        return self.members.get(team.manager_id)

    def headcounts(self) -> dict[int | None, int]:
        """Active salespeople per team (`rating.team_headcount`'s count)."""
        return Counter(
            m.team_id
            for m in self.members.values()
            if m.role is Role.SALESPERSON and m.is_active
        )


@dataclass(frozen=True)
class Replay:
    """What a replay found: the entries of activities in range, the keys paid
    for activities replayed before it, how many activities of the range it
    rated, and the rule counters as it left them."""

    expected: list[Expected]
    before_range: frozenset[str]
    activities: int
    counters: dict[str, Decimal]


async def load_history(
    conn: BaseDBAsyncClient,
    company: Company,
    books: Sequence[RuleBook],
    first: date,
    end: date,
) -> History:
    """Every row needed to replay local dates [first, end) under `books`.

    Six queries, however long the range: metrics, members, teams, goals,
    goal targets and the non-voided activities from the replay's start.
    """
    tz = ZoneInfo(company.timezone)
    metrics = await MetricDefinition.filter(company_id=company.id).using_db(conn)
    members = await Member.filter(company_id=company.id).using_db(conn)
    teams = await Team.filter(company_id=company.id).using_db(conn)
    goals = await Goal.filter(company_id=company.id).order_by("id").using_db(conn)
    first_at, end_at = (
        period_starting(PeriodKind.DAY, d, tz).start for d in (first, end)
    )
    start = replay_start(books, goals, first_at, tz)
    # Bounds go to the database in UTC: SQLite compares the stored text.
    activities = Activity.filter(
        company_id=company.id, voided_at__isnull=True, occurred_at__lt=as_utc(end_at)
    )
    if start is not None:
        activities = activities.filter(occurred_at__gte=as_utc(start))
    return History(
        company=company,
        tz=tz,
        start=start,
        first=first_at,
        end=end_at,
        specs=[_spec(m) for m in metrics],
        metric_ids={m.key: m.id for m in metrics},
        members={m.id: m for m in members},
        teams={t.id: t for t in teams},
        goals=goals,
        targets=await _targets(conn, goals, start),
        activities=await activities.order_by("id").using_db(conn),
    )


def replay_start(
    books: Sequence[RuleBook], goals: Sequence[Goal], first: datetime, tz: ZoneInfo
) -> datetime | None:
    """The start of the earliest period containing `first` that any rule,
    cap, budget or goal of the books watches; None for a lifetime budget."""
    kinds: set[PeriodKind] = {PeriodKind.DAY}
    for book in books:
        found = _kinds(book, goals)
        if found is None:
            return None
        kinds |= found
    return min((period_containing(k, first, tz).start for k in kinds), key=as_utc)


def _kinds(book: RuleBook, goals: Sequence[Goal]) -> set[PeriodKind] | None:
    kinds: set[PeriodKind] = set()
    for plan in book.plans:
        if plan.budget is not None:
            if plan.budget_period is None:
                return None
            kinds.add(plan.budget_period)
        for version in book.versions[plan.id]:
            if version.member_cap is not None and version.cap_period is not None:
                kinds.add(version.cap_period)
            for rule in book.rules[version.id]:
                kinds |= _rule_kinds(rule.kind, rule.period_kind, rule.metric_id, goals)
    return kinds


def _rule_kinds(
    kind: RuleKind,
    period_kind: PeriodKind | None,
    metric_id: int | None,
    goals: Sequence[Goal],
) -> set[PeriodKind]:
    if kind is RuleKind.GOAL_COMPLETION:
        # Goal progress is replayed too: the goals' whole periods are needed.
        return {
            g.period_kind
            for g in goals
            if g.metric_id == metric_id and period_kind in (None, g.period_kind)
        }
    if period_kind is not None:
        return {period_kind}
    return {PeriodKind.YEAR} if kind in _WATCHING else set()


async def _targets(
    conn: BaseDBAsyncClient, goals: Sequence[Goal], start: datetime | None
) -> dict[tuple[int, date], Decimal]:
    """Goal targets as stored per period (a goal changed later keeps them)."""
    rows = GoalProgress.filter(goal_id__in=[g.id for g in goals])
    if start is not None:
        # No goal period containing a replayed activity starts before this.
        day = start.date()
        rows = rows.filter(
            period_start__gte=min(date(day.year, 1, 1), day - timedelta(days=6))
        )
    found = await rows.using_db(conn).values_list("goal_id", "period_start", "target")
    return {(int(g), p): _stored(Decimal(t)) for g, p, t in found}


def _spec(metric: MetricDefinition) -> MetricSpec:
    return MetricSpec(
        key=metric.key,
        activity_kind=metric.activity_kind,
        aggregation=metric.aggregation,
        market=metric.market,
        product_category=metric.product_category,
        new_customer=metric.new_customer,
        reply_within_minutes=metric.reply_within_minutes,
    )


def _facts(activity: Activity) -> ActivityFacts:
    return ActivityFacts(
        kind=activity.kind,
        quantity=activity.quantity,
        amount=activity.amount_company,
        market=activity.market,
        product_category=activity.product_category,
        new_customer=activity.new_customer,
        response_minutes=activity.response_minutes,
        rating=activity.rating,
    )


_UNITS = Decimal(10) ** VALUE_SCALE.scale
_ZERO = Decimal(0)


def _stored(value: Decimal) -> Decimal:
    """`value` as a stored total reads back (`ScaledDecimalField`), so inputs
    print alike; totals of stored values never have more places."""
    return Decimal(int(value * _UNITS)) / _UNITS


@dataclass(frozen=True)
class _RememberingBook(RuleBook):
    """A rule book that answers each (person, day) once: the book is fixed
    for a replay, and parsing every rule for every activity is most of it."""

    answers: dict[tuple[Person, date], list[RuleInForce]] = field(
        default_factory=dict, compare=False
    )

    def rules_for(self, person: Person, day: date) -> list[RuleInForce]:
        found = self.answers.get((person, day))
        if found is None:
            found = super().rules_for(person, day)
            self.answers[(person, day)] = found
        return found


@dataclass
class MemoryCounters:
    """Rule counters in a dict: the `Counters` of a simulation."""

    values: dict[str, Decimal] = field(default_factory=dict)

    async def add(self, key: str, delta: Decimal) -> Movement:
        after = _stored(self.values.get(key, Decimal(0)) + delta)
        self.values[key] = after
        return Movement(after - delta, after)


async def replay(history: History, book: RuleBook, now: datetime) -> Replay:
    """What `book` pays for the history's activities, as the live path would.

    Pure but for its own memory: nothing is read or written.
    """
    (found,) = await replay_books(history, [book], now)
    return found


async def replay_books(
    history: History, books: Sequence[RuleBook], now: datetime
) -> list[Replay]:
    """What each of `books` pays for the history, in one pass: totals and
    goal progress are the same whatever the rules, only the pay differs."""
    return await _Replayer(history, [_Payer(history, b, now) for b in books]).run()


@dataclass(frozen=True)
class _Moved:
    """What one activity did to totals and goals: the same for every book."""

    member: Member
    activity: Activity
    totals: dict[TotalKey, Movement]
    goals: list[GoalStep]
    headcount: int


class _Payer:
    """One rule book rating a replay: its counters and what it paid."""

    def __init__(self, history: History, book: RuleBook, now: datetime) -> None:
        self.history, self.now = history, now
        self.book = _RememberingBook(
            book.plans, book.versions, book.rules, book.audiences
        )
        self.counters = MemoryCounters()
        self.paid: set[str] = set()
        self.expected: list[Expected] = []
        self.before_range: set[str] = set()

    def result(self, rated: int) -> Replay:
        return Replay(
            self.expected, frozenset(self.before_range), rated, self.counters.values
        )

    async def rate(self, moved: _Moved, in_range: bool) -> None:
        """Rate one activity as its transaction would, then pay."""
        if not self.book.plans:
            return
        history, member = self.history, moved.member
        given = RatingInput(
            conn=None,
            counters=self.counters,
            company_id=history.company.id,
            currency=history.company.currency,
            tz=history.tz,
            member=member,
            activity=moved.activity,
            moved=moved.totals,
            goal_steps=moved.goals,
            now=self.now,
            lead=history.lead(member.team_id),
            headcount=moved.headcount,
        )
        for reward in await rate_activity(self.book, given):
            await self._pay(reward, moved.activity, in_range)

    async def _pay(self, reward: Earned, activity: Activity, in_range: bool) -> None:
        """Round, skip a key paid before, hold to caps: as `Payout` writes."""
        amount = None
        if reward.amount is not None:
            amount = money.quantize(reward.amount, self.history.company.currency)
            if amount == 0:
                return
        if reward.key in self.paid:
            return
        self.paid.add(reward.key)
        inputs = reward.inputs
        if amount is not None:
            limits = limits_for(reward, activity.occurred_at, self.history.tz)
            granted = await hold_to_limits(self.counters, limits, amount)
            if granted != amount:
                inputs = inputs | {"uncapped": f"{amount:f}"}
            amount = granted
        if not in_range:
            self.before_range.add(reward.key)
            return
        self.expected.append(self._expected(reward, activity, amount, inputs))

    def _expected(
        self,
        reward: Earned,
        activity: Activity,
        amount: Decimal | None,
        inputs: dict[str, str],
    ) -> Expected:
        rule = reward.rule
        payee = self.history.members.get(reward.member_id)
        return Expected(
            key=reward.key,
            member_id=reward.member_id,
            team_id=reward.team_id or (payee.team_id if payee else None),
            kind=reward.kind,
            amount=amount,
            quantity=reward.quantity,
            title=reward.title or rule.rule.title,
            titles=reward.titles if reward.title else rule.rule.titles,
            rule=rule,
            activity_id=activity.id,
            earned_at=activity.occurred_at,
            period_start=reward.period_start,
            goal_id=reward.goal_id,
            inputs=inputs,
        )


class _Replayer:
    """Totals and goal progress as the activities move them, in memory."""

    def __init__(self, history: History, payers: list[_Payer]) -> None:
        self.history, self.payers = history, payers
        self.totals: dict[tuple[int, str, int, str, date], Decimal] = {}
        self.progress: dict[tuple[int, date], Decimal] = {}
        self.days: dict[date, dict[PeriodKind, Period]] = {}
        self.headcounts = history.headcounts()
        # Only the totals of metrics some rule reads are kept.
        self.watched = {
            rule.metric_id
            for payer in payers
            for rules in payer.book.rules.values()
            for rule in rules
        }
        self.owned: dict[tuple[str, int | None], list[Goal]] = defaultdict(list)
        for goal in history.goals:
            if goal.member_id is not None:
                self.owned[("member", goal.member_id)].append(goal)
            if goal.team_id is not None:
                self.owned[("team", goal.team_id)].append(goal)

    async def run(self) -> list[Replay]:
        rated = 0
        for activity in self.history.activities:
            in_range = activity.occurred_at >= self.history.first
            rated += in_range
            await self._activity(activity, in_range)
        return [payer.result(rated) for payer in self.payers]

    async def _activity(self, activity: Activity, in_range: bool) -> None:
        history = self.history
        member = history.members[activity.member_id]
        deltas = contributions(history.specs, _facts(activity))
        changes = {history.metric_ids[key]: delta for key, delta in deltas.items()}
        moved = _Moved(
            member,
            activity,
            self._add_to_totals(member, activity, changes),
            self._advance_goals(member, activity, changes),
            self.headcounts.get(member.team_id, 0),
        )
        for payer in self.payers:
            await payer.rate(moved, in_range)

    def _periods(self, activity: Activity) -> dict[PeriodKind, Period]:
        """The periods of every kind the activity falls in, worked out once
        per local day."""
        tz = self.history.tz
        day = activity.occurred_at.astimezone(tz).date()
        found = self.days.get(day)
        if found is None:
            found = {
                k: period_containing(k, activity.occurred_at, tz) for k in ALL_KINDS
            }
            self.days[day] = found
        return found

    def _add_to_totals(
        self, member: Member, activity: Activity, changes: dict[int, Decimal]
    ) -> dict[TotalKey, Movement]:
        """The member's and team's totals moved, as `add_to_totals` reports."""
        scopes = [("member", member.id)]
        if member.team_id is not None:
            scopes.append(("team", member.team_id))
        periods = [
            (k, k.value, p.start_date) for k, p in self._periods(activity).items()
        ]
        moved: dict[TotalKey, Movement] = {}
        for metric_id, delta in changes.items():
            if metric_id not in self.watched:
                continue
            for kind, name, start in periods:
                for scope, subject in scopes:
                    key = (metric_id, scope, subject, name, start)
                    after = _stored(self.totals.get(key, _ZERO) + delta)
                    self.totals[key] = after
                    moved[(metric_id, scope, subject, kind)] = Movement(
                        after - delta, after
                    )
        return moved

    def _advance_goals(
        self, member: Member, activity: Activity, changes: dict[int, Decimal]
    ) -> list[GoalStep]:
        """The goals moved, in id order, as `advance_goals` moves them."""
        if not changes:
            return []
        owned = {g.id: g for g in self.owned.get(("member", member.id), [])}
        if member.team_id is not None:
            owned |= {g.id: g for g in self.owned.get(("team", member.team_id), [])}
        steps = []
        for _, goal in sorted(owned.items()):
            if goal.metric_id not in changes:
                continue
            period = self._periods(activity)[goal.period_kind]
            if goal_applies(goal, period, activity.occurred_at):
                steps.append(self._step(goal, period, changes[goal.metric_id]))
        return steps

    def _step(self, goal: Goal, period: Period, delta: Decimal) -> GoalStep:
        key = (goal.id, period.start_date)
        target = self.history.targets.get(key, _stored(goal.target))
        after = _stored(self.progress.get(key, _ZERO) + delta)
        self.progress[key] = after
        change = ProgressChange(
            goal.id, period.start_date, after - delta, after, target
        )
        return GoalStep(goal, period, change)
