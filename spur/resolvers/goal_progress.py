"""Moving goal progress for one activity, and what crossing a line earns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from spur.engine import messages, money
from spur.engine.metrics import ActivityKind
from spur.engine.periods import Period, period_containing
from spur.engine.progress import Milestone, crossed_milestones
from spur.models import (
    AchievementEvent,
    Activity,
    Company,
    EventKind,
    Goal,
    GoalProgress,
    GoalReward,
    LedgerEntry,
    Member,
    RewardKind,
    RewardStatus,
    Team,
)
from spur.models.upserts import ProgressChange, add_to_progress


@dataclass(frozen=True)
class GoalOutcome:
    """What an activity did to goals: events, ledger lines, goals moved."""

    events: list[AchievementEvent]
    rewards: list[LedgerEntry]
    moved: list[tuple[int, str]]
    steps: list[GoalStep]


@dataclass(frozen=True)
class GoalStep:
    """One goal moved by an activity, in the period the activity falls in."""

    goal: Goal
    period: Period
    change: ProgressChange


def goal_applies(goal: Goal, period: Period, occurred_at: datetime) -> bool:
    """Whether `goal` runs in `period` and counts an activity at `occurred_at`."""
    end_date = period.end.date()
    if end_date <= goal.active_from:
        return False
    if goal.active_until is not None and period.start_date >= goal.active_until:
        return False
    if goal.window_start is not None and occurred_at < goal.window_start:
        return False
    return goal.window_end is None or occurred_at < goal.window_end


async def advance_goals(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    activity: Activity,
    changes: dict[int, Decimal],
    now: datetime,
) -> GoalOutcome:
    """Add the activity's contributions to every goal it counts toward.

    Each goal-period row is changed by one atomic upsert that returns the value
    before and after, so exactly one transaction sees a line being crossed.
    """
    steps = await _move(conn, company, member, activity, changes, now)
    writer = _EventWriter(conn, company, member, activity, now)
    if activity.kind is ActivityKind.ORDER_CLOSED and (activity.amount or 0) >= 0:
        await writer.order_closed()
    for step in steps:
        for milestone in crossed_milestones(
            step.change.before, step.change.after, step.change.target
        ):
            await writer.milestone(step, milestone)
    moved = [(s.goal.id, s.period.start_date.isoformat()) for s in steps]
    return GoalOutcome(writer.events, writer.rewards, moved, steps)


async def _move(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    activity: Activity,
    changes: dict[int, Decimal],
    now: datetime,
) -> list[GoalStep]:
    if not changes:
        return []
    owner = Q(member_id=member.id)
    if member.team_id is not None:
        owner |= Q(team_id=member.team_id)
    goals = (
        await Goal.filter(owner, company_id=company.id, metric_id__in=list(changes))
        .order_by("id")
        .using_db(conn)
    )
    tz = ZoneInfo(company.timezone)
    steps = []
    for goal in goals:
        period = period_containing(goal.period_kind, activity.occurred_at, tz)
        if goal_applies(goal, period, activity.occurred_at):
            change = await add_to_progress(
                conn,
                goal.id,
                period.start_date,
                changes[goal.metric_id],
                goal.target,
                now,
            )
            steps.append(GoalStep(goal, period, change))
    return steps


class _EventWriter:
    """Writes the events and ledger lines of one activity, in order."""

    def __init__(
        self,
        conn: BaseDBAsyncClient,
        company: Company,
        member: Member,
        activity: Activity,
        now: datetime,
    ) -> None:
        self.conn, self.company, self.member = conn, company, member
        self.activity, self.now = activity, now
        self.events: list[AchievementEvent] = []
        self.rewards: list[LedgerEntry] = []
        self._team_language: str | None = None

    async def milestone(self, step: GoalStep, milestone: Milestone) -> None:
        """Announce a line crossed for the first time in the goal's period.

        A void or a refund can take progress back below a line it crosses
        again later: that is no news, and its rewards were paid once.
        """
        if milestone is Milestone.HALF:
            if not await self._announced(step, "milestone:50"):
                await self._milestone_event(step)
            return
        if not await self._mark_completed(step):
            return
        await self._completion_event(step)
        rewards = (
            await GoalReward.filter(goal_id=step.goal.id)
            .order_by("id")
            .using_db(self.conn)
        )
        for reward in rewards:
            await self._reward(step, reward)

    async def _milestone_event(self, step: GoalStep) -> None:
        period, team_lang = step.period, await self._team_lang()
        await self._event(
            step,
            EventKind.MILESTONE_REACHED,
            "milestone:50",
            messages.milestone_reached(
                self.member.language,
                goal_title=_goal_title(step.goal, self.member.language),
                percent=50,
                period_label=period.label,
                period_kind=period.kind,
            ),
            messages.milestone_reached_by(
                team_lang,
                member_name=self.member.name,
                goal_title=_goal_title(step.goal, team_lang),
                percent=50,
                period_label=period.label,
                period_kind=period.kind,
            ),
        )

    async def _announced(self, step: GoalStep, suffix: str) -> bool:
        # The progress row's lock, held since the upsert, keeps this check and
        # the insert after it from racing another crossing of the same line.
        return (
            await AchievementEvent.filter(
                company_id=self.company.id, dedupe_key=f"{_goal_key(step)}:{suffix}"
            )
            .using_db(self.conn)
            .exists()
        )

    async def _mark_completed(self, step: GoalStep) -> bool:
        """Whether this activity completed the period (not someone before)."""
        marked = await (
            GoalProgress.filter(
                goal_id=step.goal.id,
                period_start=step.period.start_date,
                completed_at__isnull=True,
            )
            .using_db(self.conn)
            .update(completed_at=self.activity.occurred_at)
        )
        return marked == 1

    async def _completion_event(self, step: GoalStep) -> None:
        period, team_lang = step.period, await self._team_lang()
        await self._event(
            step,
            EventKind.GOAL_COMPLETED,
            "completed",
            messages.goal_completed(
                self.member.language,
                goal_title=_goal_title(step.goal, self.member.language),
                period_label=period.label,
                period_kind=period.kind,
            ),
            messages.goal_completed_by(
                team_lang,
                member_name=self.member.name,
                goal_title=_goal_title(step.goal, team_lang),
                period_label=period.label,
                period_kind=period.kind,
            ),
        )

    async def _reward(self, step: GoalStep, reward: GoalReward) -> None:
        entry = await self._ledger_entry(step, reward)
        amount, lang, team_lang = (
            _money_text(entry),
            self.member.language,
            await self._team_lang(),
        )
        await self._event(
            step,
            EventKind.REWARD_EARNED,
            None,
            messages.reward_earned(
                lang,
                reward_title=messages.localized(entry.title, entry.titles, lang),
                amount=amount,
                goal_title=_goal_title(step.goal, lang),
                period_kind=step.period.kind,
            ),
            messages.reward_earned_by(
                team_lang,
                member_name=self.member.name,
                reward_title=messages.localized(entry.title, entry.titles, team_lang),
                amount=amount,
            ),
            entry,
        )

    async def _ledger_entry(self, step: GoalStep, reward: GoalReward) -> LedgerEntry:
        kind = RewardKind(reward.kind)
        currency = self.company.currency
        amount = (
            None if reward.amount is None else money.quantize(reward.amount, currency)
        )
        entry = await LedgerEntry.create(
            using_db=self.conn,
            company_id=self.company.id,
            member_id=self.member.id,
            key=f"{_goal_key(step)}:reward:{reward.id}",
            kind=kind,
            title=reward.title,
            titles=reward.titles,
            amount=amount,
            currency=currency if amount is not None else None,
            quantity=reward.quantity,
            status=RewardStatus.APPROVED,
            source_activity_id=self.activity.id,
            goal_id=step.goal.id,
            period_start=step.period.start_date,
            rule_ref=f"goal:{step.goal.id}",
            inputs={
                "goal_target": str(step.change.target),
                "goal_value": str(step.change.after),
                "period": step.period.label,
            },
            earned_at=self.activity.occurred_at,
        )
        self.rewards.append(entry)
        return entry

    async def order_closed(self) -> None:
        """A feed line for every order, so a team screen sees sales land."""
        activity = self.activity
        amount = money.format_money(
            activity.amount or Decimal(0), activity.currency or ""
        )
        market = activity.market
        await self._write(
            EventKind.ORDER_CLOSED,
            f"activity:{activity.id}:order",
            None,
            messages.order_closed(self.member.language, amount=amount, market=market),
            messages.order_closed_by(
                await self._team_lang(),
                member_name=self.member.name,
                amount=amount,
                market=market,
            ),
        )

    async def _event(
        self,
        step: GoalStep,
        kind: EventKind,
        suffix: str | None,
        message: str,
        team_message: str,
        entry: LedgerEntry | None = None,
    ) -> None:
        dedupe = f"reward:{entry.key}" if entry else f"{_goal_key(step)}:{suffix}"
        await self._write(kind, dedupe, step, message, team_message, entry)

    async def _write(
        self,
        kind: EventKind,
        dedupe: str,
        step: GoalStep | None,
        message: str,
        team_message: str,
        entry: LedgerEntry | None = None,
    ) -> None:
        event = await AchievementEvent.create(
            using_db=self.conn,
            company_id=self.company.id,
            kind=kind,
            member_id=self.member.id,
            team_id=self.member.team_id,
            goal_id=step.goal.id if step else None,
            period_start=step.period.start_date if step else None,
            ledger_entry_id=entry.id if entry else None,
            dedupe_key=dedupe,
            message=message,
            team_message=team_message,
            occurred_at=self.activity.occurred_at,
        )
        self.events.append(event)

    async def _team_lang(self) -> str:
        """Team feed lines are written in the language of the team's manager."""
        if self._team_language is None:
            self._team_language = await _manager_language(self.conn, self.member)
        return self._team_language


async def _manager_language(conn: BaseDBAsyncClient, member: Member) -> str:
    if member.team_id is None:
        return member.language
    team = (
        await Team.filter(id=member.team_id)
        .using_db(conn)
        .select_related("manager")
        .get()
    )
    manager = team.manager
    return manager.language if manager is not None else member.language


def _goal_title(goal: Goal, lang: str) -> str:
    return messages.localized(goal.title, goal.titles, lang)


def _goal_key(step: GoalStep) -> str:
    return f"goal:{step.goal.id}:{step.period.start_date.isoformat()}"


def _money_text(entry: LedgerEntry) -> str | None:
    if entry.amount is None or entry.currency is None:
        return None
    return money.format_money(entry.amount, entry.currency)
