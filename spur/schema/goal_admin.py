"""Setting goals: a manager's or HR admin's plan, split into finer goals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.api.errors import BadUserInput
from spur.engine.periods import PeriodKind
from spur.models import RewardKind
from spur.resolvers.goal import GoalInPeriod, children_of
from spur.resolvers.goal_plan import create_goal, first_period
from spur.resolvers.goal_plan_input import GoalSpec, RewardSpec, SplitSpec
from spur.resolvers.ids import is_key_text, row_key
from spur.resolvers.permissions import CanPlanGoals
from spur.schema.goal import GoalNode


@strawberry.input(description="What completing the goal in a period earns.")
class GoalRewardInput:
    kind: RewardKind = strawberry.field(
        description="CASH or COMMISSION with an amount, or a non-cash kind."
    )
    title: str = strawberry.field(description="What the reward is called.")
    amount: Decimal | None = strawberry.field(
        default=None, description="For cash: the amount in the company currency."
    )
    quantity: Decimal | None = strawberry.field(
        default=None, description="For a non-cash reward: how many, if countable."
    )

    def spec(self) -> RewardSpec:
        return RewardSpec(self.kind, self.title, self.amount, self.quantity)


@strawberry.input(description="Split the goal into one goal per shorter period.")
class GoalSplitInput:
    kind: PeriodKind = strawberry.field(
        description="The children's period kind, shorter than the goal's."
    )
    weights: list[Decimal] | None = strawberry.field(
        default=None,
        description="One share per child period, in order; an even split if null.",
    )

    def spec(self) -> SplitSpec:
        weights = None if self.weights is None else tuple(self.weights)
        return SplitSpec(self.kind, weights)


@strawberry.input(description="A goal for one member or one team.")
class CreateGoalInput:
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="The member it is for; or give teamId."
    )
    team_id: strawberry.ID | None = strawberry.field(
        default=None, description="The team it is for; or give memberId."
    )
    metric: str = strawberry.field(description="The key of a metric definition.")
    title: str = strawberry.field(description="What the goal asks for, for people.")
    period_kind: PeriodKind = strawberry.field(description="The goal's period.")
    target: Decimal = strawberry.field(
        description="The value to reach each period, in the metric's unit."
    )
    starts_on: date | None = strawberry.field(
        default=None,
        description="A day in the first period; today (company time) if null.",
    )
    recurring: bool = strawberry.field(
        default=False,
        description="Every period from the first on, instead of that one only.",
    )
    rewards: list[GoalRewardInput] | None = strawberry.field(
        default=None, description="What completing the goal in a period earns."
    )
    split: GoalSplitInput | None = strawberry.field(
        default=None, description="Split a one-period goal into shorter goals."
    )

    def spec(self, today: date) -> GoalSpec:
        return GoalSpec(
            metric=self.metric,
            title=self.title,
            period_kind=self.period_kind,
            target=self.target,
            starts_on=self.starts_on or today,
            member_id=_pk(self.member_id, "Member", "memberId"),
            team_id=_pk(self.team_id, "Team", "teamId"),
            recurring=self.recurring,
            rewards=tuple(reward.spec() for reward in self.rewards or ()),
            split=self.split.spec() if self.split else None,
        )


@strawberry.type(description="The goal created and the goals it was split into.")
class CreateGoalPayload:
    goal: GoalNode = strawberry.field(description="The new goal, in its first period.")
    children: list[GoalNode] = strawberry.field(
        description="Its child goals in period order; empty when not split."
    )


def _pk(global_id: strawberry.ID | None, type_name: str, field: str) -> int | None:
    """The primary key inside a global id of `type_name`."""
    if global_id is None:
        return None
    try:
        decoded = relay.GlobalID.from_id(str(global_id))
    except (ValueError, TypeError) as error:
        raise BadUserInput(f"{field} is not a {type_name} id.", field=field) from error
    if decoded.type_name != type_name or not is_key_text(decoded.node_id):
        raise BadUserInput(f"{field} is not a {type_name} id.", field=field)
    return row_key(decoded.node_id)


@strawberry.type
class GoalAdminMutation:
    @strawberry.mutation(
        description="Set a goal for a member or team, optionally split into "
        "shorter goals whose progress adds up to it.",
        permission_classes=[CanPlanGoals],
    )
    async def create_goal(
        self, info: strawberry.Info[Context, Any], input: CreateGoalInput
    ) -> CreateGoalPayload:
        ctx = info.context
        viewer = ctx.viewer
        now = ctx.services.clock()
        today = now.astimezone(viewer.timezone).date()
        goal = await create_goal(viewer, input.spec(today), now)
        item = GoalInPeriod(goal, first_period(goal, viewer.timezone))
        children = await children_of(ctx, item)
        return CreateGoalPayload(
            goal=GoalNode.of(item), children=[GoalNode.of(c) for c in children]
        )
