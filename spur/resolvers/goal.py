"""Goals as the viewer sees them: one goal in one period, with its progress."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from spur.api.context import Context, Viewer
from spur.engine import progress as rules
from spur.engine.periods import (
    ALL_KINDS,
    Period,
    period_containing,
    period_starting,
)
from spur.models import Goal, Member
from spur.resolvers.goal_progress import goal_applies
from spur.resolvers.ids import NO_ROW, row_key
from spur.schema.enums import GoalListStatus

PERIOD_ORDER = {kind: index for index, kind in enumerate(ALL_KINDS)}


@dataclass(frozen=True)
class GoalInPeriod:
    """A goal in one of its periods: what the API calls a `Goal`."""

    goal: Goal
    period: Period

    @property
    def node_id(self) -> str:
        return f"{self.goal.id}@{self.period.start_date.isoformat()}"


@dataclass(frozen=True)
class ProgressView:
    """A goal's progress in a period, as numbers for a progress bar."""

    current: Decimal
    target: Decimal
    status: rules.ProgressStatus

    @property
    def percent(self) -> float:
        return rules.percent(self.current, self.target)

    @property
    def remaining(self) -> Decimal:
        return rules.remaining(self.current, self.target)


async def member_goals(
    ctx: Context, member: Member, status: GoalListStatus
) -> list[GoalInPeriod]:
    """A member's own goals and their team's, current or past, in a fixed order."""
    viewer = ctx.viewer
    now = ctx.services.clock()
    owner = Q(member_id=member.id)
    if member.team_id is not None:
        owner |= Q(team_id=member.team_id)
    goals = await Goal.filter(owner, company_id=member.company_id).order_by("id")
    found = [item for goal in goals for item in _listed(goal, viewer, status, now)]
    found.sort(key=lambda item: (PERIOD_ORDER[item.period.kind], item.goal.id))
    return found


def _listed(
    goal: Goal, viewer: Viewer, status: GoalListStatus, now: datetime
) -> list[GoalInPeriod]:
    anchored = anchored_period(goal, viewer)
    if anchored is not None:
        current = anchored.contains(now)
    else:
        anchored = period_containing(goal.period_kind, now, viewer.timezone)
        current = goal_applies(goal, anchored, now)
    past = not current and anchored.end <= now
    wanted = status is GoalListStatus.ALL or (
        current if status is GoalListStatus.ACTIVE else past
    )
    return [GoalInPeriod(goal, anchored)] if wanted else []


def anchored_period(goal: Goal, viewer: Viewer) -> Period | None:
    """The single period of a goal bound to one period (None if it recurs)."""
    return anchored_period_in(goal, viewer.timezone)


def anchored_period_in(goal: Goal, tz: ZoneInfo) -> Period | None:
    """`anchored_period` in the company zone `tz`."""
    if goal.active_until is None:
        return None
    # Noon: some zones skip a local midnight on the day their clocks change.
    start = datetime.combine(goal.active_from, time(12), tz)
    period = period_containing(goal.period_kind, start, tz)
    return period if period.end.date() >= goal.active_until else None


async def goal_in_period(ctx: Context, node_id: str) -> GoalInPeriod | None:
    """A goal by its node id (`<goal>@<period start>`), if the viewer may see it."""
    goal_part, _, start_part = node_id.partition("@")
    key = row_key(goal_part)
    if key == NO_ROW:
        return None
    goal = await ctx.loaders.goal.load(key)
    if goal is None or not await can_see_goal(ctx, goal):
        return None
    return _in_period(ctx.viewer, goal, start_part, ctx.services.clock())


def _in_period(
    viewer: Viewer, goal: Goal, start_part: str, now: datetime
) -> GoalInPeriod | None:
    if not start_part:
        anchored = anchored_period(goal, viewer)
        period = anchored or period_containing(goal.period_kind, now, viewer.timezone)
        return GoalInPeriod(goal, period)
    try:
        start = date.fromisoformat(start_part)
        period = period_starting(goal.period_kind, start, viewer.timezone)
        runs = _runs_in(goal, period, viewer)
    except (ValueError, OverflowError):  # not a date, or at the calendar's ends
        return None
    return GoalInPeriod(goal, period) if runs else None


def _runs_in(goal: Goal, period: Period, viewer: Viewer) -> bool:
    """Whether `goal` has a period there: its only one, or one it recurs in."""
    anchored = anchored_period(goal, viewer)
    if anchored is not None:
        return anchored.start_date == period.start_date
    return goal_applies(goal, period, period.start)


async def can_see_goal(ctx: Context, goal: Goal) -> bool:
    """Company first, then the owner: self, the owner's manager, or HR."""
    viewer = ctx.viewer
    if goal.company_id != viewer.company_id:
        return False
    if goal.team_id is not None:
        return viewer.can_see_team(goal.team_id)
    assert goal.member_id is not None
    owner: Member | None = await ctx.loaders.member.load(goal.member_id)
    return owner is not None and viewer.can_see_member(owner.id, owner.team_id)


async def progress_of(ctx: Context, item: GoalInPeriod) -> ProgressView:
    """Stored progress for the goal's period (zero before any activity)."""
    row = await ctx.loaders.progress.load((item.goal.id, item.period.start_date))
    current = row.current if row is not None else Decimal(0)
    target = row.target if row is not None else item.goal.target
    status = rules.status(current, target, item.period, ctx.services.clock())
    return ProgressView(current, target, status)


async def parent_of(ctx: Context, item: GoalInPeriod) -> GoalInPeriod | None:
    """The goal this one was split from, in the period containing this one."""
    if item.goal.parent_id is None:
        return None
    parent = await ctx.loaders.goal.load(item.goal.parent_id)
    if parent is None or not await can_see_goal(ctx, parent):
        return None
    tz = ctx.viewer.timezone
    anchored = anchored_period(parent, ctx.viewer)
    return GoalInPeriod(
        parent, anchored or period_containing(parent.period_kind, item.period.start, tz)
    )


async def children_of(ctx: Context, item: GoalInPeriod) -> list[GoalInPeriod]:
    """The goals this one was split into that the viewer may see (a team goal's
    shares are its members' own goals), each in its own period."""
    children = await ctx.loaders.children.load(item.goal.id)
    # Gathered, so the owners load in one batch.
    visible = await asyncio.gather(*(can_see_goal(ctx, child) for child in children))
    return [
        GoalInPeriod(child, anchored_period(child, ctx.viewer) or item.period)
        for child, shown in zip(children, visible, strict=True)
        if shown
    ]
