"""Planning goals: creating one, and splitting it into finer child goals."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict, Forbidden, NotFound
from spur.engine.goals import child_periods, split_target
from spur.engine.periods import (
    Period,
    PeriodKind,
    as_utc,
    next_period,
    period_containing,
)
from spur.models import (
    Company,
    Goal,
    GoalReward,
    Member,
    MetricDefinition,
    Role,
    Team,
)
from spur.resolvers.goal_backfill import backfill_progress
from spur.resolvers.goal_plan_input import (
    GoalSpec,
    RewardSpec,
    check_spec,
    check_target,
    check_text,
    check_weights,
    checked_rewards,
    target_places,
)

logger = logging.getLogger(__name__)
MAX_METRIC_KEY = 64  # MetricDefinition.key

Owner = tuple[int | None, int | None]


async def create_goal(viewer: Viewer, spec: GoalSpec, now: datetime) -> Goal:
    """Create a goal for a member or a team of the viewer's company.

    An HR admin plans for anyone in the company, a manager for the teams they
    manage and those teams' members (the field's permission class keeps other
    roles out). Everything is checked first; then one transaction writes the
    goal, its rewards and, when asked, its children, or nothing at all. Each
    starts from what its owner already recorded in its running period.
    """
    goal, rewards = await _checked_goal(viewer, spec)
    split, tz = spec.split, viewer.timezone

    async with in_transaction() as conn:
        await goal.save(using_db=conn)
        await _add_rewards(conn, goal, rewards)
        children = []
        if split is not None:
            children = await split_goal(goal, split.kind, split.weights, tz)
        await backfill_progress(conn, [goal, *children], tz, now)

    logger.info("goal %s created by member %s", goal.id, viewer.member_id)
    return goal


async def split_goal(
    goal: Goal,
    child_kind: PeriodKind,
    weights: Sequence[Decimal] | None,
    tz: ZoneInfo,
) -> list[Goal]:
    """Split a goal for one period into a child goal per period of `child_kind`.

    Children share the parent's owner and metric, run in their own periods
    but count only inside the parent's bounds (a week reaching into the next
    quarter counts its days in this one), and take a share of the target,
    even or by `weights`, one per child. Shares add up to the target exactly,
    so the children's progress adds up to the parent's. Inside a caller's
    transaction this is part of it.
    """
    places = await _places(goal)
    children = _children(goal, child_kind, weights, places, tz)

    async with in_transaction() as conn:
        await Goal.filter(id=goal.id).select_for_update().using_db(conn).get()
        if await Goal.filter(parent_id=goal.id).using_db(conn).exists():
            raise Conflict("This goal is already split.", field="split")
        for child in children:
            await child.save(using_db=conn)

    return children


def first_period(goal: Goal, tz: ZoneInfo) -> Period:
    """The period a goal starts in (its only one, unless it recurs)."""
    return period_containing(goal.period_kind, _noon(goal.active_from, tz), tz)


async def _checked_goal(
    viewer: Viewer, spec: GoalSpec
) -> tuple[Goal, list[RewardSpec]]:
    """The unsaved goal and its rewards; raises before anything is written."""
    check_spec(spec)
    owner = await _owner(viewer, spec)
    metric = await _metric(viewer, spec.metric)
    check_target(spec.target, metric.aggregation, viewer.currency)
    rewards = checked_rewards(spec.rewards, viewer.currency)
    goal = _unsaved_goal(viewer, spec, owner, metric.id)
    if spec.split is not None:
        places = target_places(metric.aggregation, spec.target, viewer.currency)
        _children(goal, spec.split.kind, spec.split.weights, places, viewer.timezone)
    return goal, rewards


async def _owner(viewer: Viewer, spec: GoalSpec) -> Owner:
    if spec.member_id is not None:
        member = await Member.get_or_none(
            id=spec.member_id, company_id=viewer.company_id, is_active=True
        )
        if member is None:
            raise NotFound("No such member.", field="memberId")
        _check_scope(viewer, member.team_id)
        return member.id, None
    team = await Team.get_or_none(id=spec.team_id, company_id=viewer.company_id)
    if team is None:
        raise NotFound("No such team.", field="teamId")
    _check_scope(viewer, team.id)
    return None, team.id


def _check_scope(viewer: Viewer, team_id: int | None) -> None:
    """HR plans for the company, a manager for the teams they manage."""
    if viewer.role is Role.HR_ADMIN:
        return
    if viewer.role is Role.MANAGER and team_id in viewer.managed_team_ids:
        return
    raise Forbidden("Managers set goals only for their own teams and members.")


async def _metric(viewer: Viewer, key: str) -> MetricDefinition:
    # A key no definition of this company has is a wrong value, whether or not
    # another company uses it: saying which would tell about that company.
    check_text(key, "metric")
    if len(key.strip()) > MAX_METRIC_KEY:  # the lookup would fail validation
        raise BadUserInput("No such metric in this company.", field="metric")
    metric = await MetricDefinition.get_or_none(
        company_id=viewer.company_id, key=key.strip()
    )
    if metric is None:
        raise BadUserInput(f"No metric {key!r} in this company.", field="metric")
    return metric


def _unsaved_goal(viewer: Viewer, spec: GoalSpec, owner: Owner, metric_id: int) -> Goal:
    period, following = _first_periods(spec, viewer.timezone)
    member_id, team_id = owner
    return Goal(
        company_id=viewer.company_id,
        member_id=member_id,
        team_id=team_id,
        metric_id=metric_id,
        title=spec.title.strip(),
        period_kind=spec.period_kind,
        target=spec.target,
        active_from=period.start_date,
        active_until=None if spec.recurring else following.start_date,
    )


def _first_periods(spec: GoalSpec, tz: ZoneInfo) -> tuple[Period, Period]:
    """The period `startsOn` falls in, and the one after it."""
    try:
        period = period_containing(spec.period_kind, _noon(spec.starts_on, tz), tz)
        return period, next_period(period, tz)
    except (OverflowError, ValueError) as error:  # beyond year 1 or 9999
        raise BadUserInput("startsOn is out of range.", field="startsOn") from error


async def _add_rewards(
    conn: BaseDBAsyncClient, goal: Goal, rewards: list[RewardSpec]
) -> None:
    for reward in rewards:
        await GoalReward.create(
            using_db=conn,
            goal_id=goal.id,
            kind=reward.kind.value,
            title=reward.title,
            amount=reward.amount,
            quantity=reward.quantity,
        )


async def _places(goal: Goal) -> int:
    metric = await MetricDefinition.get(id=goal.metric_id)
    company = await Company.get(id=goal.company_id)
    return target_places(metric.aggregation, goal.target, company.currency)


def _children(
    parent: Goal,
    kind: PeriodKind,
    weights: Sequence[Decimal] | None,
    places: int,
    tz: ZoneInfo,
) -> list[Goal]:
    """The unsaved child goals of a split; raises `BAD_USER_INPUT` for bad ones."""
    period = _only_period(parent, tz)
    periods = _finer(period, kind, tz)
    check_weights(weights, periods)
    shares = split_target(parent.target, len(periods), weights, places)
    bounds = _bounds(parent, period)
    return [
        _child(parent, child, share, bounds, tz)
        for child, share in zip(periods, shares, strict=True)
    ]


def _only_period(goal: Goal, tz: ZoneInfo) -> Period:
    period = first_period(goal, tz)
    if goal.active_until is None or goal.active_until > period.end.date():
        raise BadUserInput(
            "Only a goal for a single period can be split.", field="split"
        )
    return period


def _finer(period: Period, kind: PeriodKind, tz: ZoneInfo) -> list[Period]:
    try:
        return child_periods(period, kind, tz)
    except ValueError as error:
        raise BadUserInput(
            f"A {period.kind.value} goal splits into shorter periods, "
            f"and {kind.value} is not shorter.",
            field="split.kind",
        ) from error


def _bounds(goal: Goal, period: Period) -> tuple[datetime, datetime]:
    """Where the goal counts: its period, narrowed by its own window if any."""
    start, end = period.start, period.end
    if goal.window_start is not None:
        start = max(start, goal.window_start, key=as_utc)
    if goal.window_end is not None:
        end = min(end, goal.window_end, key=as_utc)
    return start, end


def _child(
    parent: Goal,
    period: Period,
    target: Decimal,
    bounds: tuple[datetime, datetime],
    tz: ZoneInfo,
) -> Goal:
    return Goal(
        company_id=parent.company_id,
        member_id=parent.member_id,
        team_id=parent.team_id,
        metric_id=parent.metric_id,
        parent_id=parent.id,
        title=f"{parent.title} · {period.label}",
        titles={
            lang: f"{text} · {period.label}" for lang, text in parent.titles.items()
        },
        period_kind=period.kind,
        target=target,
        active_from=period.start_date,
        active_until=next_period(period, tz).start_date,
        window_start=bounds[0],
        window_end=bounds[1],
    )


def _noon(day: date, tz: ZoneInfo) -> datetime:
    # Noon, because a local midnight does not exist on some DST days.
    return datetime.combine(day, time(12), tz)
