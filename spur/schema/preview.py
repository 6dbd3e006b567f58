"""Previewing a rule change on the last days of real activity."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from spur.api.context import Context
from spur.engine.periods import PeriodKind
from spur.resolvers.ledger import key_of
from spur.resolvers.permissions import CanAdministerIncentives
from spur.resolvers.preview import Cost, Preview, Proposal, preview_version
from spur.schema.member import MemberNode, TeamNode
from spur.schema.plan_admin import PlanRuleInput
from spur.schema.reward import Money


@strawberry.input(
    description="A proposed plan version, as addPlanVersion takes it, to try on "
    "the last days of real activity."
)
class PreviewPlanVersionInput:
    plan_id: strawberry.ID = strawberry.field(description="The plan to change.")
    days: int = strawberry.field(
        default=30, description="How many days up to today to replay: 1 to 90."
    )
    member_cap: Decimal | None = strawberry.field(
        default=None, description="The most cash a member earns per capPeriod."
    )
    cap_period: PeriodKind | None = strawberry.field(
        default=None, description="The member cap's period; set with memberCap."
    )
    rules: list[PlanRuleInput] = strawberry.field(
        description="The whole proposed rule set, up to 50 rules."
    )

    def proposal(self) -> Proposal:
        return Proposal(
            plan_id=key_of(self.plan_id, "IncentivePlan", "planId"),
            days=self.days,
            member_cap=self.member_cap,
            cap_period=self.cap_period,
            rules=tuple(rule.spec() for rule in self.rules),
        )


@strawberry.type(description="Local dates [from, to), in the company's zone.")
class DateWindow:
    from_: date = strawberry.field(name="from", description="The first date.")
    to: date = strawberry.field(description="The first date after the window.")
    start: datetime = strawberry.field(description="The first instant inside.")
    end: datetime = strawberry.field(description="The first instant after.")


@strawberry.type(description="Cash paid under the plan now and as proposed.")
class CostComparison:
    current: Money = strawberry.field(description="Under the versions in force.")
    proposed: Money = strawberry.field(description="Under the proposed version.")
    difference: Money = strawberry.field(description="Proposed minus current.")

    @classmethod
    def of(cls, cost: Cost, currency: str) -> CostComparison:
        return cls(
            current=Money.of(cost.current, currency),
            proposed=Money.of(cost.proposed, currency),
            difference=Money.of(cost.difference, currency),
        )


@strawberry.type(description="What one member would be paid.")
class MemberCost:
    member: MemberNode = strawberry.field(description="The member paid.")
    cost: CostComparison = strawberry.field(description="Now and as proposed.")


@strawberry.type(description="What one team's members and lead would be paid.")
class TeamCost:
    team: TeamNode = strawberry.field(description="The team.")
    cost: CostComparison = strawberry.field(description="Now and as proposed.")


@strawberry.type(description="A proposed version tried on real activity.")
class PlanVersionPreview:
    window: DateWindow = strawberry.field(description="The days replayed.")
    activities: int = strawberry.field(description="Activities in the window.")
    total: CostComparison = strawberry.field(description="The plan's whole cost.")
    members: list[MemberCost] = strawberry.field(
        description="Members paid either way, largest rise first."
    )
    teams: list[TeamCost] = strawberry.field(
        description="Teams paid either way, largest rise first."
    )

    @classmethod
    def of(cls, found: Preview) -> PlanVersionPreview:
        currency = found.currency
        return cls(
            window=DateWindow(
                from_=found.first, to=found.end, start=found.start, end=found.finish
            ),
            activities=found.activities,
            total=CostComparison.of(found.total, currency),
            members=[
                MemberCost(member=MemberNode.of(m), cost=CostComparison.of(c, currency))
                for m, c in found.members
            ],
            teams=[
                TeamCost(
                    team=TeamNode(id=t.id, team=t), cost=CostComparison.of(c, currency)
                )
                for t, c in found.teams
            ],
        )


@strawberry.type
class PreviewQuery:
    @strawberry.field(
        description="Replay the last days of real activity under a proposed "
        "version and compare the cash with the plan as it stands; writes nothing.",
        permission_classes=[CanAdministerIncentives],
    )
    async def preview_plan_version(
        self, info: strawberry.Info[Context, Any], input: PreviewPlanVersionInput
    ) -> PlanVersionPreview:
        ctx = info.context
        found = await preview_version(
            ctx.viewer, input.proposal(), ctx.services.clock()
        )
        return PlanVersionPreview.of(found)
