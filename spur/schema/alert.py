"""Manager alerts: what rules found in a team, and the manager's decision."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.engine.alerts import AlertRule, Direction
from spur.engine.periods import PeriodKind, period_starting
from spur.models import AlertStatus, ManagerAlert
from spur.resolvers import alert as alerts
from spur.resolvers.alert_feed import alert_feed
from spur.resolvers.alert_outcome import Outcome, OutcomeBatch
from spur.resolvers.ledger import key_of
from spur.resolvers.permissions import CanDecideRewards, CanWatchTeams
from spur.schema.achievement import team_pk
from spur.schema.member import MemberNode, TeamNode
from spur.schema.pagination import Connection, connection, page_bounds
from spur.schema.reward import Money, RewardNode

AlertRuleType = strawberry.enum(
    AlertRule,
    name="AlertRule",
    description="CONVERSION_LEAD: inquiry conversion 5 points or more above "
    "the rest of the team this month; LOW_UPKEEP: the team's platform upkeep "
    "rate this week below 60%; REPLY_DRIFT: average reply time this week up a "
    "quarter and 10 minutes on last week; GOAL_AT_RISK: a goal 20 points "
    "behind its pace with 3 days or fewer left.",
)
AlertStatusType = strawberry.enum(
    AlertStatus, name="AlertStatus", description="Where a manager's decision stands."
)
DirectionType = strawberry.enum(
    Direction,
    name="OutcomeDirection",
    description="Which way the measure went in the next period: BETTER, WORSE, "
    "UNCHANGED, or UNKNOWN (no data yet).",
)


@strawberry.type(description="The measure in the alert's period and the next.")
class AlertOutcome:
    outcome: strawberry.Private[Outcome]

    @strawberry.field(description="The alert's period, such as 2026-W49.")
    def period(self) -> str:
        return self.outcome.period.label

    @strawberry.field(description="The period after it.")
    def next_period(self) -> str:
        return self.outcome.next_period.label

    @strawberry.field(description="The measure over the alert's period.")
    def before(self) -> Decimal | None:
        return self.outcome.before

    @strawberry.field(description="The measure over the next period so far.")
    def after(self) -> Decimal | None:
        return self.outcome.after

    @strawberry.field(description="Whether it moved the way the alert hoped.")
    def direction(self) -> Direction:
        return self.outcome.direction

    @strawberry.field(description="True once the next period has ended.")
    def complete(self) -> bool:
        return self.outcome.complete


@strawberry.type(name="ManagerAlert", description="Something a rule found in a team.")
class AlertNode:
    alert: strawberry.Private[ManagerAlert]
    batch: strawberry.Private[OutcomeBatch]

    @strawberry.field(description="Global id of the alert.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(relay.GlobalID("ManagerAlert", str(self.alert.id))))

    @strawberry.field(description="The rule that raised it.")
    def rule(self) -> AlertRule:
        return self.alert.rule

    @strawberry.field(description="OPEN until accepted or dismissed.")
    def status(self) -> AlertStatus:
        return self.alert.status

    @strawberry.field(description="The sentence for the manager, in their language.")
    def message(self) -> str:
        return self.alert.message

    @strawberry.field(description="The team it concerns.")
    async def team(self, info: strawberry.Info[Context, Any]) -> TeamNode | None:
        team = await info.context.loaders.team.load(self.alert.team_id)
        return TeamNode(id=team.id, team=team) if team else None

    @strawberry.field(description="The member it is about (none for a team alert).")
    async def member(self, info: strawberry.Info[Context, Any]) -> MemberNode | None:
        if self.alert.member_id is None:
            return None
        member = await info.context.loaders.member.load(self.alert.member_id)
        return MemberNode.of(member) if member else None

    @strawberry.field(description="The kind of period watched.")
    def period_kind(self) -> PeriodKind:
        return self.alert.period_kind

    @strawberry.field(description="The period watched, such as 2026-12.")
    def period(self, info: strawberry.Info[Context, Any]) -> str:
        tz = info.context.viewer.timezone
        alert = self.alert
        return period_starting(alert.period_kind, alert.period_start, tz).label

    @strawberry.field(
        description="The subject's value: conversion or upkeep in percent, "
        "reply time in minutes, goal progress in percent of target."
    )
    def value(self) -> Decimal:
        return Decimal(self.alert.value)

    @strawberry.field(
        description="What it was held against: the rest of the team, the "
        "threshold, last week, or the share of the period gone."
    )
    def baseline(self) -> Decimal:
        return Decimal(self.alert.baseline)

    @strawberry.field(description="The cash award suggested, if any.")
    def suggested_reward(self) -> Money | None:
        amount, currency = self.alert.suggested_amount, self.alert.currency
        if amount is None or currency is None:
            return None
        return Money.of(amount, currency)

    @strawberry.field(description="When the rule raised it.")
    def raised_at(self) -> datetime:
        return self.alert.raised_at

    @strawberry.field(description="When it was accepted or dismissed.")
    def decided_at(self) -> datetime | None:
        return self.alert.decided_at

    @strawberry.field(description="Who accepted or dismissed it.")
    async def decided_by(
        self, info: strawberry.Info[Context, Any]
    ) -> MemberNode | None:
        if self.alert.decided_by_id is None:
            return None
        member = await info.context.loaders.member.load(self.alert.decided_by_id)
        return MemberNode.of(member) if member else None

    @strawberry.field(description="The reason or note given with the decision.")
    def reason(self) -> str:
        return self.alert.reason

    @strawberry.field(description="The ledger entry accepting it wrote, if any.")
    async def reward(self, info: strawberry.Info[Context, Any]) -> RewardNode | None:
        if self.alert.ledger_entry_id is None:
            return None
        entry = await info.context.loaders.ledger_entry.load(self.alert.ledger_entry_id)
        return RewardNode.of(entry) if entry else None

    @strawberry.field(description="Did the measure move in the next period?")
    async def outcome(self) -> AlertOutcome:
        return AlertOutcome(outcome=await self.batch.get(self.alert))


def nodes(ctx: Context, rows: list[ManagerAlert]) -> list[AlertNode]:
    """Alert types sharing one outcome batch: a fixed number of queries."""
    viewer = ctx.viewer
    batch = OutcomeBatch(rows, viewer.company_id, viewer.timezone, ctx.services.clock())
    return [AlertNode(alert=row, batch=batch) for row in rows]


def alert_pk(global_id: strawberry.ID) -> int:
    return key_of(str(global_id), "ManagerAlert", "alertId")


@strawberry.input(description="The alert to accept, and optionally the award.")
class AcceptAlertInput:
    alert_id: strawberry.ID = strawberry.field(description="A ManagerAlert id.")
    amount: Decimal | None = strawberry.field(
        default=None,
        description="The award in company currency, instead of the suggested "
        "one; only for an alert about a member.",
    )
    note: str = strawberry.field(default="", description="Up to 500 characters.")


@strawberry.input(description="The alert to dismiss, and why.")
class DismissAlertInput:
    alert_id: strawberry.ID = strawberry.field(description="A ManagerAlert id.")
    reason: str = strawberry.field(description="Why, 1 to 500 characters.")


@strawberry.type(description="The alert after a decision.")
class DecideAlertPayload:
    alert: AlertNode = strawberry.field(description="As it now stands.")
    already_decided: bool = strawberry.field(
        description="True when it was decided so before: this call wrote "
        "nothing. A repeated acceptAlert with another amount or note changes "
        "nothing either; `alert` shows what was decided the first time."
    )


@strawberry.type
class AlertQuery:
    @strawberry.field(
        description="Alerts of the viewer's teams (HR: every team), newest first.",
        permission_classes=[CanWatchTeams],
    )
    async def alerts(
        self,
        info: strawberry.Info[Context, Any],
        status: AlertStatus | None = None,
        team_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[AlertNode]:
        ctx = info.context
        offset, limit = page_bounds(first, after)
        team = team_pk(team_id) if team_id is not None else None
        rows = await alerts.list_alerts(ctx.viewer, status, team, offset, limit)
        return connection(nodes(ctx, rows), offset, limit)


@strawberry.type
class AlertMutation:
    @strawberry.mutation(
        description="Accept an alert: its suggested (or the given) award goes "
        "to the ledger and its approvals, once. The team's managers and HR, "
        "never on an alert about oneself.",
        permission_classes=[CanDecideRewards],
    )
    async def accept_alert(
        self, info: strawberry.Info[Context, Any], input: AcceptAlertInput
    ) -> DecideAlertPayload:
        ctx = info.context
        decided = await alerts.accept_alert(
            ctx.services, ctx.viewer, alert_pk(input.alert_id), input.amount, input.note
        )
        if decided.entry is not None:
            ctx.loaders.prime_all([decided.entry])
        node = nodes(ctx, [decided.alert])[0]
        return DecideAlertPayload(alert=node, already_decided=decided.already_decided)

    @strawberry.mutation(
        description="Dismiss an alert with a reason; nothing goes to the ledger.",
        permission_classes=[CanDecideRewards],
    )
    async def dismiss_alert(
        self, info: strawberry.Info[Context, Any], input: DismissAlertInput
    ) -> DecideAlertPayload:
        ctx = info.context
        decided = await alerts.dismiss_alert(
            ctx.services, ctx.viewer, alert_pk(input.alert_id), input.reason
        )
        node = nodes(ctx, [decided.alert])[0]
        return DecideAlertPayload(alert=node, already_decided=decided.already_decided)


@strawberry.type
class AlertSubscription:
    @strawberry.subscription(
        description="New alerts of the viewer's teams (or one team), live.",
        permission_classes=[CanWatchTeams],
    )
    async def alerts(
        self, info: strawberry.Info[Context, Any], team_id: strawberry.ID | None = None
    ) -> AsyncGenerator[AlertNode, None]:
        ctx = info.context
        team = team_pk(team_id) if team_id is not None else None
        return _typed(ctx, await alert_feed(ctx, team))


async def _typed(
    ctx: Context, feed: AsyncGenerator[ManagerAlert, None]
) -> AsyncGenerator[AlertNode, None]:
    # aclosing: leaving at a yield releases the broker subscription now.
    async with aclosing(feed) as rows:
        async for row in rows:
            yield nodes(ctx, [row])[0]
