"""Achievement events: what the app celebrates and the team feed shows."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.api.errors import BadUserInput
from spur.engine.periods import period_starting
from spur.models import AchievementEvent, EventKind
from spur.resolvers import achievement as feeds
from spur.resolvers.goal import GoalInPeriod, anchored_period
from spur.resolvers.ids import is_key_text, row_key
from spur.resolvers.permissions import CanWatchTeams, IsAuthenticated
from spur.schema.goal import GoalNode
from spur.schema.member import MemberNode
from spur.schema.reward import RewardNode


@strawberry.type(name="AchievementEvent", description="Something worth celebrating.")
class AchievementEventType:
    event: strawberry.Private[AchievementEvent]
    for_team: strawberry.Private[bool] = False

    @strawberry.field(description="Resume after this event with `after: cursor`.")
    def cursor(self) -> str | None:
        return None if self.event.seq is None else str(self.event.seq)

    @strawberry.field(description="What happened.")
    def kind(self) -> EventKind:
        return self.event.kind

    @strawberry.field(description="A sentence for a person, in their language.")
    def message(self) -> str:
        return self.event.team_message if self.for_team else self.event.message

    @strawberry.field(description="When the activity behind it happened.")
    def occurred_at(self) -> datetime:
        return self.event.occurred_at

    @strawberry.field(description="Whose achievement it is.")
    async def member(self, info: strawberry.Info[Context, Any]) -> MemberNode | None:
        member = await info.context.loaders.member.load(self.event.member_id)
        return MemberNode.of(member) if member else None

    @strawberry.field(description="The goal it concerns, in the event's period.")
    async def goal(self, info: strawberry.Info[Context, Any]) -> GoalNode | None:
        event = self.event
        if event.goal_id is None:
            return None
        goal = await info.context.loaders.goal.load(event.goal_id)
        if goal is None:
            return None
        tz = info.context.viewer.timezone
        period = anchored_period(goal, info.context.viewer)
        if period is None and event.period_start is not None:
            period = period_starting(goal.period_kind, event.period_start, tz)
        if period is None:
            return None
        return GoalNode.of(GoalInPeriod(goal, period))

    @strawberry.field(description="The reward it earned, if any.")
    async def reward(self, info: strawberry.Info[Context, Any]) -> RewardNode | None:
        if self.event.ledger_entry_id is None:
            return None
        entry = await info.context.loaders.ledger_entry.load(self.event.ledger_entry_id)
        return RewardNode.of(entry) if entry else None


@strawberry.type
class AchievementSubscription:
    """Each resolver checks its arguments and rights before it returns the
    stream, so a refusal reaches the client as the operation's `error`."""

    @strawberry.subscription(
        description="The viewer's events; with `after`, the missed ones first.",
        permission_classes=[IsAuthenticated],
    )
    async def achievements(
        self, info: strawberry.Info[Context, Any], after: str | None = None
    ) -> AsyncGenerator[AchievementEventType, None]:
        return _typed(feeds.member_feed(info.context, after), for_team=False)

    @strawberry.subscription(
        description="A team's events, for its managers and HR admins.",
        permission_classes=[CanWatchTeams],
    )
    async def team_feed(
        self,
        info: strawberry.Info[Context, Any],
        team_id: strawberry.ID,
        after: str | None = None,
    ) -> AsyncGenerator[AchievementEventType, None]:
        events = await feeds.team_feed(info.context, team_pk(team_id), after)
        return _typed(events, for_team=True)

    @strawberry.subscription(
        description="The viewer's goals, each time their progress moves.",
        permission_classes=[IsAuthenticated],
    )
    async def goal_progress(
        self, info: strawberry.Info[Context, Any]
    ) -> AsyncGenerator[GoalNode, None]:
        async with aclosing(feeds.goal_changes(info.context)) as changes:
            async for item in changes:
                yield GoalNode.of(item)


async def _typed(
    events: AsyncGenerator[AchievementEvent, None], *, for_team: bool
) -> AsyncGenerator[AchievementEventType, None]:
    # aclosing: leaving this generator at a yield must release the feed's
    # broker subscription now, not when the garbage collector gets to it.
    async with aclosing(events):
        async for event in events:
            yield AchievementEventType(event=event, for_team=for_team)


def team_pk(global_id: strawberry.ID) -> int:
    """The team's primary key from a Team global id."""
    try:
        decoded = relay.GlobalID.from_id(str(global_id))
    except (ValueError, TypeError) as error:
        raise BadUserInput("teamId is not a Team id.", field="teamId") from error
    if decoded.type_name != "Team" or not is_key_text(decoded.node_id):
        raise BadUserInput("teamId is not a Team id.", field="teamId")
    return row_key(decoded.node_id)
