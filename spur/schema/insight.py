"""Insight for HR and managers: which behaviours go with results, team health."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry

from spur.api.context import Context
from spur.engine.driver_findings import Finding
from spur.engine.drivers import CORRELATION_NOTE
from spur.resolvers.drivers import AgeBand, Analysis
from spur.resolvers.insights import driver_analysis, health
from spur.resolvers.ledger import key_of
from spur.resolvers.permissions import CanReadInsights
from spur.resolvers.team_health import TeamHealth
from spur.schema.member import TeamNode

strawberry.enum(AgeBand, description="Age bands: YOUNG 30 or under, SENIOR 35 or over.")


@strawberry.input(description="A group of members to analyse; every set field holds.")
class SegmentInput:
    age_band: AgeBand | None = strawberry.field(
        default=None, description="Age on the last analysed day."
    )
    market: str | None = strawberry.field(
        default=None, description="The market of the member's team, such as SEA."
    )


@strawberry.type(description="One behaviour against one outcome.")
class DriverFinding:
    finding: strawberry.Private[Finding]

    @strawberry.field(
        description="platform_hours_per_day, inquiry_reply_minutes, "
        "follow_ups or product_optimisations."
    )
    def behaviour(self) -> str:
        return self.finding.behaviour

    @strawberry.field(description="orders, inquiry_conversion or sales.")
    def outcome(self) -> str:
        return self.finding.outcome

    @strawberry.field(description="What one observation is: member-day or inquiry.")
    def unit(self) -> str:
        return self.finding.unit

    @strawberry.field(
        description="The behaviour's threshold (hours a day, "
        "follow-ups a day, optimisations a day, reply minutes)."
    )
    def threshold(self) -> float:
        return self.finding.threshold

    @strawberry.field(description="Who counts as above the threshold.")
    def above_label(self) -> str:
        return self.finding.above

    @strawberry.field(description="Who counts as below the threshold.")
    def below_label(self) -> str:
        return self.finding.below

    @strawberry.field(description="The outcome per unit above the threshold.")
    def mean_above(self) -> float | None:
        return self.finding.stats.mean_above

    @strawberry.field(description="The outcome per unit below the threshold.")
    def mean_below(self) -> float | None:
        return self.finding.stats.mean_below

    @strawberry.field(description="Relative lift above over below: 0.30 is 30% more.")
    def lift(self) -> float | None:
        return self.finding.stats.lift

    @strawberry.field(description="Lower end of the lift's 95% interval.")
    def low(self) -> float | None:
        return self.finding.stats.low

    @strawberry.field(description="Upper end of the lift's 95% interval.")
    def high(self) -> float | None:
        return self.finding.stats.high

    @strawberry.field(
        description="Spearman's rank correlation of the behaviour "
        "and the outcome over units."
    )
    def correlation(self) -> float | None:
        return self.finding.stats.spearman

    @strawberry.field(description="Pearson's correlation over the same units.")
    def pearson(self) -> float | None:
        return self.finding.stats.pearson

    @strawberry.field(description="Units above the threshold.")
    def n_above(self) -> int:
        return self.finding.stats.n_above

    @strawberry.field(description="Units below the threshold.")
    def n_below(self) -> int:
        return self.finding.stats.n_below

    @strawberry.field(description="Members with units above the threshold.")
    def members_above(self) -> int:
        return self.finding.stats.members_above

    @strawberry.field(description="Members with units below the threshold.")
    def members_below(self) -> int:
        return self.finding.stats.members_below

    @strawberry.field(description="True when the interval leaves out zero.")
    def significant(self) -> bool:
        return self.finding.stats.significant

    @strawberry.field(
        description="True when fewer than 30 units or 5 members "
        "sit on one side: read the interval with care."
    )
    def small_sample(self) -> bool:
        return self.finding.stats.small_sample


@strawberry.type(description="Driver analysis over a window of local dates.")
class DriverAnalysis:
    analysis: strawberry.Private[Analysis]

    @strawberry.field(name="from", description="The first analysed date.")
    def from_(self) -> date:
        return self.analysis.scope.first

    @strawberry.field(description="The first date after the window.")
    def to(self) -> date:
        return self.analysis.scope.end

    @strawberry.field(description="Salespeople analysed.")
    def members(self) -> int:
        return self.analysis.members

    @strawberry.field(description="Their working days in the window.")
    def member_days(self) -> int:
        return self.analysis.member_days

    @strawberry.field(description="Inquiries they received in the window.")
    def inquiries(self) -> int:
        return self.analysis.inquiries

    @strawberry.field(description="How to read the findings.")
    def note(self) -> str:
        return CORRELATION_NOTE

    @strawberry.field(description="Every behaviour against every outcome.")
    def findings(self) -> list[DriverFinding]:
        return [DriverFinding(finding=f) for f in self.analysis.findings]


@strawberry.type(description="A team's health in one period.")
class TeamHealthReport:
    health: strawberry.Private[TeamHealth]

    @strawberry.field(description="The team.")
    def team(self) -> TeamNode:
        return TeamNode(id=self.health.team.id, team=self.health.team)

    @strawberry.field(description="The period's label, such as 2026-11.")
    def period(self) -> str:
        return self.health.period.label

    @strawberry.field(description="Active salespeople in the team.")
    def salespeople(self) -> int:
        return self.health.salespeople

    @strawberry.field(
        description="Share of their working days so far with an "
        "hour or more on the platform (0 to 1)."
    )
    def upkeep_rate(self) -> float | None:
        return self.health.upkeep_rate

    @strawberry.field(description="Member working days so far with an hour or more.")
    def upkeep_days(self) -> int:
        return self.health.upkeep_days

    @strawberry.field(description="Member working days so far.")
    def working_days(self) -> int:
        return self.health.working_days

    @strawberry.field(description="Average minutes to reply to an inquiry.")
    def average_reply_minutes(self) -> float | None:
        return self.health.average_reply_minutes

    @strawberry.field(description="Inquiry replies in the period.")
    def replies(self) -> int:
        return self.health.replies

    @strawberry.field(description="Orders closed in the period.")
    def orders(self) -> int:
        return self.health.orders

    @strawberry.field(description="Orders closed in the period before.")
    def previous_orders(self) -> int:
        return self.health.previous_orders

    @strawberry.field(
        description="Orders over the period before, minus one "
        "(0.10 is 10% more); a running period counts so far."
    )
    def order_growth(self) -> float | None:
        return self.health.order_growth

    @strawberry.field(description="Goal periods due: ended in the period, or met.")
    def goals_due(self) -> int:
        return self.health.goals_due

    @strawberry.field(description="Goal periods met among those due.")
    def goals_achieved(self) -> int:
        return self.health.goals_achieved

    @strawberry.field(description="Goals achieved over goals due (0 to 1).")
    def goals_achieved_share(self) -> float | None:
        return self.health.goals_achieved_share


@strawberry.type
class InsightQuery:
    @strawberry.field(
        description="Which behaviours go with orders, conversion and sales: "
        "each outcome above and below a behaviour's threshold, the lift and its "
        "interval. HR admins: the company or a team; managers: their teams.",
        permission_classes=[CanReadInsights],
    )
    async def driver_analysis(
        self,
        info: strawberry.Info[Context, Any],
        from_: Annotated[
            date | None,
            strawberry.argument(name="from", description="Default: 90 days back."),
        ] = None,
        to: Annotated[
            date | None,
            strawberry.argument(description="The first date after; default today."),
        ] = None,
        team_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="One team; default all one may read."),
        ] = None,
        segment: Annotated[
            SegmentInput | None,
            strawberry.argument(description="Only members of this segment."),
        ] = None,
    ) -> DriverAnalysis:
        ctx = info.context
        team = None if team_id is None else key_of(str(team_id), "Team", "teamId")
        found = await driver_analysis(
            ctx.viewer,
            ctx.services.clock(),
            from_,
            to,
            team,
            segment.age_band if segment else None,
            segment.market if segment else None,
        )
        return DriverAnalysis(analysis=found)

    @strawberry.field(
        description="A team's platform upkeep, reply time, order growth and "
        "goals achieved in one period, from stored totals.",
        permission_classes=[CanReadInsights],
    )
    async def team_health(
        self,
        info: strawberry.Info[Context, Any],
        team_id: Annotated[strawberry.ID, strawberry.argument(description="The team.")],
        period: Annotated[
            str,
            strawberry.argument(
                description="A week, month, quarter or year label: 2026-W48, "
                "2026-11, 2026-Q4, 2026."
            ),
        ],
    ) -> TeamHealthReport:
        ctx = info.context
        team = key_of(str(team_id), "Team", "teamId")
        found = await health(ctx.viewer, ctx.services.clock(), team, period)
        return TeamHealthReport(health=found)
