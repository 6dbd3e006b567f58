"""What recording the generated activities live would have left behind.

Activities are folded in `occurred_at` order through the same engine rules
and conventions as the live path (`spur.resolvers.activity` and
`spur.resolvers.goal_progress`): metric totals per member and team for every
period kind, goal progress per period, milestone and completion events, and
one ledger line (and event) per reward of a completed goal period. Nothing
here touches the database, so the whole history costs one pass in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from spur.demo.drafts import Draft
from spur.engine import messages
from spur.engine.metrics import MetricSpec, contributions
from spur.engine.money import format_money, quantize
from spur.engine.periods import ALL_KINDS, Period, PeriodKind, period_containing
from spur.engine.progress import Milestone, crossed_milestones
from spur.models.event import EventKind
from spur.models.fields import ScaledDecimalField
from spur.models.ledger import RewardKind, RewardStatus

COMPANY_CURRENCY = "CNY"
_STORED = ScaledDecimalField(scale=4)
TotalKey = tuple[str, str, int, PeriodKind, date]


@dataclass(frozen=True)
class MemberRef:
    """A stored member, as history needs it."""

    id: int
    team_id: int | None
    name: str
    language: str
    feed_language: str


@dataclass(frozen=True)
class RewardRef:
    """A stored goal reward."""

    id: int
    kind: RewardKind
    title: str
    amount: Decimal | None
    quantity: Decimal | None
    titles: Mapping[str, str] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        return messages.localized(self.title, self.titles, lang)


@dataclass(frozen=True)
class GoalRef:
    """A stored goal of one member (`owner`) or of a team, with its rewards."""

    id: int
    owner: int | None
    team_id: int | None
    metric: str
    title: str
    kind: PeriodKind
    target: Decimal
    active_from: date
    active_until: date | None
    window: tuple[datetime, datetime] | None
    rewards: tuple[RewardRef, ...]
    titles: Mapping[str, str] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        return messages.localized(self.title, self.titles, lang)

    def counts(self, period: Period, at: datetime) -> bool:
        """True if an activity at `at` in `period` counts toward this goal.

        The same test as the live path's `goal_applies`.
        """
        if period.end.date() <= self.active_from:
            return False
        if self.active_until is not None and period.start_date >= self.active_until:
            return False
        return self.window is None or self.window[0] <= at < self.window[1]


@dataclass
class Progress:
    """A goal's value in one period, as the goal_progress row will hold it."""

    target: Decimal
    current: Decimal = Decimal(0)
    completed_at: datetime | None = None


@dataclass(frozen=True)
class LedgerLine:
    """A ledger entry to insert."""

    key: str
    member_id: int
    kind: RewardKind
    title: str
    amount: Decimal | None
    currency: str | None
    quantity: Decimal | None
    status: RewardStatus
    activity_id: int
    goal_id: int
    period_start: date
    inputs: dict[str, Any]
    earned_at: datetime
    titles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventLine:
    """An achievement event to insert; `ledger_key` names its ledger line and
    `activity_id` the activity that caused it."""

    kind: EventKind
    member_id: int
    team_id: int | None
    goal_id: int | None
    period_start: date | None
    dedupe_key: str
    message: str
    team_message: str
    occurred_at: datetime
    ledger_key: str | None = None
    activity_id: int | None = None


@dataclass
class History:
    """Everything the live path would have stored, in the order it happened."""

    totals: dict[TotalKey, Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    progress: dict[tuple[int, date], Progress] = field(default_factory=dict)
    # When each member total took its final value (a leaderboard tie-break).
    reached: dict[TotalKey, datetime] = field(default_factory=dict)
    ledger: list[LedgerLine] = field(default_factory=list)
    events: list[EventLine] = field(default_factory=list)


@dataclass(frozen=True)
class Moment:
    """One activity being folded in: who, when and in which period."""

    activity_id: int
    member: MemberRef
    at: datetime
    goal: GoalRef
    period: Period


class Recorder:
    """Folds activities into a History the way the live path records them."""

    def __init__(
        self,
        tz: ZoneInfo,
        now: datetime,
        specs: Sequence[MetricSpec],
        members: dict[int, MemberRef],
        goals: Iterable[GoalRef],
    ) -> None:
        self.tz, self.now, self.specs, self.members = tz, now, list(specs), members
        self.history = History()
        self._goals: dict[tuple[int, str], list[GoalRef]] = defaultdict(list)
        self._team_goals: dict[tuple[int, str], list[GoalRef]] = defaultdict(list)
        for goal in goals:
            if goal.owner is not None:
                self._goals[goal.owner, goal.metric].append(goal)
            elif goal.team_id is not None:
                self._team_goals[goal.team_id, goal.metric].append(goal)
        self._periods: dict[date, dict[PeriodKind, Period]] = {}

    def record(self, activity_id: int, draft: Draft) -> None:
        """Add one activity's contributions; activities must come in time order."""
        found = contributions(self.specs, draft.facts())
        if not found:
            return
        member = self.members[draft.owner]
        periods = self._periods_of(draft.at)
        for key, value in found.items():
            self._add_totals(key, member, periods, value, draft.at)
        for goal in self._goals_moved(draft.owner, member, found):
            period = periods[goal.kind]
            if goal.counts(period, draft.at):
                moment = Moment(activity_id, member, draft.at, goal, period)
                self._advance(moment, found[goal.metric])

    def _goals_moved(
        self, owner: int, member: MemberRef, found: dict[str, Decimal]
    ) -> list[GoalRef]:
        """The member's and their team's goals on the metrics that moved.

        In id order whatever metric they track, as the live path moves them;
        a team goal's events go to the member whose activity moved it.
        """
        goals = [goal for key in found for goal in self._goals.get((owner, key), ())]
        if member.team_id is not None:
            goals += [
                goal
                for key in found
                for goal in self._team_goals.get((member.team_id, key), ())
            ]
        return sorted(goals, key=lambda goal: goal.id)

    def _periods_of(self, at: datetime) -> dict[PeriodKind, Period]:
        day = at.astimezone(self.tz).date()
        if day not in self._periods:
            self._periods[day] = {
                kind: period_containing(kind, at, self.tz) for kind in ALL_KINDS
            }
        return self._periods[day]

    def _add_totals(
        self,
        key: str,
        member: MemberRef,
        periods: dict[PeriodKind, Period],
        value: Decimal,
        at: datetime,
    ) -> None:
        totals = self.history.totals
        for kind, period in periods.items():
            totals[key, "member", member.id, kind, period.start_date] += value
            self.history.reached[key, "member", member.id, kind, period.start_date] = at
            if member.team_id is not None:
                totals[key, "team", member.team_id, kind, period.start_date] += value

    def _advance(self, moment: Moment, value: Decimal) -> None:
        goal = moment.goal
        slot = (goal.id, moment.period.start_date)
        progress = self.history.progress.setdefault(slot, Progress(goal.target))
        before, progress.current = progress.current, progress.current + value
        for milestone in crossed_milestones(before, progress.current, goal.target):
            if milestone is Milestone.COMPLETE:
                progress.completed_at = progress.completed_at or moment.at
                self._completed(moment, progress)
            else:
                self._milestone(moment, milestone)

    def _milestone(self, moment: Moment, milestone: Milestone) -> None:
        goal, period, member = moment.goal, moment.period, moment.member
        message = messages.milestone_reached(
            member.language,
            goal_title=goal.title_in(member.language),
            percent=int(milestone),
            period_label=period.label,
            period_kind=period.kind,
        )
        feed = messages.milestone_reached_by(
            member.feed_language,
            member_name=member.name,
            goal_title=goal.title_in(member.feed_language),
            percent=int(milestone),
            period_label=period.label,
            period_kind=period.kind,
        )
        key = f"{_goal_key(moment)}:milestone:{int(milestone)}"
        self._event(moment, EventKind.MILESTONE_REACHED, key, message, feed)

    def _completed(self, moment: Moment, progress: Progress) -> None:
        goal, period, member = moment.goal, moment.period, moment.member
        message = messages.goal_completed(
            member.language,
            goal_title=goal.title_in(member.language),
            period_label=period.label,
            period_kind=period.kind,
        )
        feed = messages.goal_completed_by(
            member.feed_language,
            member_name=member.name,
            goal_title=goal.title_in(member.feed_language),
            period_label=period.label,
            period_kind=period.kind,
        )
        key = f"{_goal_key(moment)}:completed"
        self._event(moment, EventKind.GOAL_COMPLETED, key, message, feed)
        for reward in goal.rewards:
            self._reward(moment, reward, progress.current)

    def _reward(self, moment: Moment, reward: RewardRef, value: Decimal) -> None:
        line = self._ledger_line(moment, reward, value)
        self.history.ledger.append(line)
        shown = None
        if line.amount is not None:
            shown = format_money(line.amount, COMPANY_CURRENCY)
        member, goal = moment.member, moment.goal
        message = messages.reward_earned(
            member.language,
            reward_title=reward.title_in(member.language),
            amount=shown,
            goal_title=goal.title_in(member.language),
            period_kind=goal.kind,
        )
        feed = messages.reward_earned_by(
            member.feed_language,
            member_name=member.name,
            reward_title=reward.title_in(member.feed_language),
            amount=shown,
        )
        self._event(
            moment,
            EventKind.REWARD_EARNED,
            f"reward:{line.key}",
            message,
            feed,
            ledger_key=line.key,
        )

    def _ledger_line(
        self, moment: Moment, reward: RewardRef, value: Decimal
    ) -> LedgerLine:
        goal, period = moment.goal, moment.period
        amount = None
        if reward.amount is not None:
            amount = quantize(reward.amount, COMPANY_CURRENCY)
        return LedgerLine(
            key=f"{_goal_key(moment)}:reward:{reward.id}",
            member_id=moment.member.id,
            kind=reward.kind,
            title=reward.title,
            amount=amount,
            currency=COMPANY_CURRENCY if amount is not None else None,
            quantity=reward.quantity,
            status=self._status(moment.at),
            activity_id=moment.activity_id,
            goal_id=goal.id,
            period_start=period.start_date,
            inputs={
                "goal_target": _as_read(goal.target),
                "goal_value": _as_read(value),
                "period": period.label,
            },
            earned_at=moment.at,
            titles=dict(reward.titles),
        )

    def _status(self, earned_at: datetime) -> RewardStatus:
        # Last month's rewards went out with the payroll; this month's wait.
        this_month = period_containing(PeriodKind.MONTH, self.now, self.tz)
        if earned_at < this_month.start:
            return RewardStatus.PAID
        return RewardStatus.APPROVED

    def _event(
        self,
        moment: Moment,
        kind: EventKind,
        key: str,
        message: str,
        feed: str,
        ledger_key: str | None = None,
    ) -> None:
        self.history.events.append(
            EventLine(
                kind,
                moment.member.id,
                moment.member.team_id,
                moment.goal.id,
                moment.period.start_date,
                key,
                message,
                feed,
                moment.at,
                ledger_key,
                moment.activity_id,
            )
        )


def _as_read(value: Decimal) -> str:
    # The live path reads values back from their scaled-integer columns,
    # which fixes how many places their text shows ("10", not "10.00").
    stored = _STORED.to_python_value(_STORED.to_storage(value))
    return str(stored)


def _goal_key(moment: Moment) -> str:
    return f"goal:{moment.goal.id}:{moment.period.start_date.isoformat()}"


def replay(recorder: Recorder, activities: Iterable[tuple[int, Draft]]) -> History:
    """Fold `(activity id, draft)` pairs, oldest first, into the recorder's history."""
    for activity_id, draft in activities:
        recorder.record(activity_id, draft)
    return recorder.history
