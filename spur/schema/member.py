"""Members and teams, and the signed-in viewer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.engine.periods import PeriodKind
from spur.models import Member, Role, Team
from spur.resolvers import goal as goals
from spur.resolvers import reward as rewards
from spur.resolvers.ids import row_key
from spur.resolvers.permissions import CanHaveAppraisals, IsAuthenticated
from spur.schema.appraisal import AppraisalNode, member_appraisals
from spur.schema.enums import GoalListStatus
from spur.schema.goal import GoalNode
from spur.schema.pagination import Connection, connection, page_bounds
from spur.schema.reward import Earnings, Money, RewardNode


@strawberry.type(name="Team", description="A sales team, usually one market.")
class TeamNode(relay.Node):
    id: relay.NodeID[int]
    team: strawberry.Private[Team]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        viewer = info.context.viewer
        teams = await info.context.loaders.team.load_many(
            [row_key(k) for k in node_ids]
        )
        return [
            cls(id=t.id, team=t) if t and t.company_id == viewer.company_id else None
            for t in teams
        ]

    @strawberry.field(description="The team's name.")
    def name(self) -> str:
        return self.team.name

    @strawberry.field(description="The market code it sells to, such as SEA.")
    def market(self) -> str | None:
        return self.team.market


@strawberry.type(name="Member", description="A person who signs in to Spur.")
class MemberNode(relay.Node):
    id: relay.NodeID[int]
    member: strawberry.Private[Member]

    @classmethod
    def of(cls, member: Member) -> Self:
        return cls(id=member.id, member=member)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        viewer = info.context.viewer
        found = await info.context.loaders.member.load_many(
            [row_key(k) for k in node_ids]
        )
        return [
            cls.of(m)
            if m
            and m.company_id == viewer.company_id
            and viewer.can_see_member(m.id, m.team_id)
            else None
            for m in found
        ]

    @strawberry.field(description="Full name.")
    def name(self) -> str:
        return self.member.name

    @strawberry.field(description="What the member may see and do.")
    def role(self) -> Role:
        return self.member.role

    @strawberry.field(description="Preferred language, zh-CN or en.")
    def language(self) -> str:
        return self.member.language

    @strawberry.field(description="The member's team, if any.")
    async def team(self, info: strawberry.Info[Context, Any]) -> TeamNode | None:
        if self.member.team_id is None:
            return None
        team = await info.context.loaders.team.load(self.member.team_id)
        return TeamNode(id=team.id, team=team) if team else None

    @strawberry.field(description="The viewer's goals and team goals, in order.")
    async def goals(
        self,
        info: strawberry.Info[Context, Any],
        status: GoalListStatus = GoalListStatus.ACTIVE,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[GoalNode]:
        offset, limit = page_bounds(first, after)
        found = await goals.member_goals(info.context, self.member, status)
        window = found[offset : offset + limit + 1]
        return connection([GoalNode.of(item) for item in window], offset, limit)

    @strawberry.field(description="Cash earned in the current period of a kind.")
    async def earnings(
        self, info: strawberry.Info[Context, Any], period: PeriodKind = PeriodKind.MONTH
    ) -> Earnings:
        ctx = info.context
        total = await rewards.member_earnings(
            ctx, self.member.id, period, ctx.services.clock()
        )
        return Earnings(total=Money.of(total, ctx.viewer.currency))

    @strawberry.field(description="Rewards earned, newest first.")
    async def rewards(
        self,
        info: strawberry.Info[Context, Any],
        first: int = 10,
        after: str | None = None,
    ) -> Connection[RewardNode]:
        offset, limit = page_bounds(first, after)
        entries = await rewards.member_rewards(self.member.id, offset, limit)
        return connection([RewardNode.of(e) for e in entries], offset, limit)

    @strawberry.field(
        description="Appraisals in force (a correction replaces the version it "
        "corrects), newest cycle first.",
        permission_classes=[CanHaveAppraisals],
    )
    async def appraisals(
        self,
        info: strawberry.Info[Context, Any],
        first: int = 10,
        after: str | None = None,
    ) -> Connection[AppraisalNode]:
        return await member_appraisals(info, self.member.id, first, after)


@strawberry.type
class MemberQuery:
    @strawberry.field(
        description="The signed-in member.", permission_classes=[IsAuthenticated]
    )
    async def viewer(self, info: strawberry.Info[Context, Any]) -> MemberNode:
        viewer = info.context.viewer
        member = await info.context.loaders.member.load(viewer.member_id)
        assert member is not None
        return MemberNode.of(member)
