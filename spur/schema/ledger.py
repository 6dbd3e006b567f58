"""The ledger's workflow and reports: approvals, payment, statements, payroll."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import strawberry

from spur.api.context import Context
from spur.engine.statements import StatementLine as EngineLine
from spur.models import RewardStatus
from spur.resolvers import approval
from spur.resolvers.approval import MoveRequest, Transition
from spur.resolvers.ledger import checked_text, key_of
from spur.resolvers.payroll import payroll_csv
from spur.resolvers.permissions import CanDecideRewards, CanReadStatements, IsHrAdmin
from spur.resolvers.statement import MemberMonth, member_statement
from spur.schema.goal import Period
from spur.schema.member import MemberNode
from spur.schema.pagination import Connection, connection, page_bounds
from spur.schema.reward import Money, RewardNode

MAX_REASON = 1000
MAX_REFERENCE = 128  # StatusChange.reference

_IDS = "Reward ids, 1 to 100; all move or none do."


@strawberry.input(description="Rewards to approve, and why.")
class ApproveRewardsInput:
    ids: list[strawberry.ID] = strawberry.field(description=_IDS)
    reason: str | None = strawberry.field(
        default=None, description="Recorded with each move; optional."
    )


@strawberry.input(description="Rewards to reject, and why.")
class RejectRewardsInput:
    ids: list[strawberry.ID] = strawberry.field(description=_IDS)
    reason: str = strawberry.field(description="Why; required, told to the member.")


@strawberry.input(description="Approved rewards that have been paid out.")
class MarkRewardsPaidInput:
    ids: list[strawberry.ID] = strawberry.field(description=_IDS)
    reference: str = strawberry.field(
        description="The payment's reference, such as a payroll run; required."
    )
    reason: str | None = strawberry.field(
        default=None, description="A note recorded with each move; optional."
    )


@strawberry.type(description="The approved rewards.")
class ApproveRewardsPayload:
    rewards: list[RewardNode] = strawberry.field(description="In the order asked.")


@strawberry.type(description="The rejected rewards.")
class RejectRewardsPayload:
    rewards: list[RewardNode] = strawberry.field(description="In the order asked.")


@strawberry.type(description="The rewards marked paid.")
class MarkRewardsPaidPayload:
    rewards: list[RewardNode] = strawberry.field(description="In the order asked.")


@strawberry.type(description="An amount of money in one status.")
class StatusTotal:
    status: RewardStatus = strawberry.field(description="The ledger status.")
    amount: Money = strawberry.field(description="The sum of entries in it.")


@strawberry.type(description="The month's cash from one rule (or adjustment).")
class StatementLine:
    line: strawberry.Private[EngineLine]
    currency: strawberry.Private[str]

    @strawberry.field(
        description='"Plan · rule", "Goal reward", or an adjustment such as '
        '"Adjustment · Plan · rule".'
    )
    def rule(self) -> str:
        return self.line.label

    @strawberry.field(description="How many ledger entries the line sums.")
    def entries(self) -> int:
        return self.line.entries

    @strawberry.field(description="Every status but REJECTED and REVERSED.")
    def total(self) -> Money:
        return Money.of(self.line.total, self.currency)

    @strawberry.field(description="Sums per status present on the line.")
    def by_status(self) -> list[StatusTotal]:
        return _totals(self.line.by_status, self.currency)


@strawberry.type(description="A member's cash for one month, by rule and status.")
class MemberStatement:
    month: strawberry.Private[MemberMonth]

    @strawberry.field(description="Whose statement it is.")
    def member(self) -> MemberNode:
        return MemberNode.of(self.month.member)

    @strawberry.field(description="The month, half-open, in the company's zone.")
    def period(self) -> Period:
        return Period.of(self.month.period)

    @strawberry.field(description="The company currency every amount is in.")
    def currency(self) -> str:
        return self.month.currency

    @strawberry.field(description="One line per rule, earned before adjustments.")
    def lines(self) -> list[StatementLine]:
        currency = self.month.currency
        return [
            StatementLine(line=line, currency=currency)
            for line in self.month.statement.lines
        ]

    @strawberry.field(description="Sums per status, every status listed.")
    def totals_by_status(self) -> list[StatusTotal]:
        return _totals(self.month.statement.totals_by_status, self.month.currency)

    @strawberry.field(description="Earned: every status but REJECTED and REVERSED.")
    def total(self) -> Money:
        return Money.of(self.month.statement.total, self.month.currency)

    @strawberry.field(description="Approved and not yet paid.")
    def payable(self) -> Money:
        return Money.of(self.month.statement.payable, self.month.currency)

    @strawberry.field(description="Paid out.")
    def paid(self) -> Money:
        return Money.of(self.month.statement.paid, self.month.currency)

    @strawberry.field(description="Non-cash rewards earned in the month.")
    def entitlements(self) -> list[RewardNode]:
        return [RewardNode.of(entry) for entry in self.month.entitlements]


def _totals(pairs: tuple[tuple[str, Decimal], ...], currency: str) -> list[StatusTotal]:
    return [
        StatusTotal(status=RewardStatus(status), amount=Money.of(amount, currency))
        for status, amount in pairs
    ]


async def _move(
    info: strawberry.Info[Context, Any], transition: Transition, request: MoveRequest
) -> list[RewardNode]:
    ctx = info.context
    entries = await approval.move_entries(
        ctx.viewer, transition, request, ctx.services.clock
    )
    ctx.loaders.prime_all(entries)
    return [RewardNode.of(entry) for entry in entries]


def _keys(ids: list[strawberry.ID]) -> list[int]:
    return [key_of(str(value), "Reward", "ids") for value in ids]


def _reason(value: str | None, *, required: bool = False) -> str:
    return checked_text(value, "reason", MAX_REASON, required=required)


@strawberry.type
class LedgerMutation:
    @strawberry.mutation(
        description="Approve pending rewards: the member's manager or HR, "
        "never one's own.",
        permission_classes=[CanDecideRewards],
    )
    async def approve_rewards(
        self, info: strawberry.Info[Context, Any], input: ApproveRewardsInput
    ) -> ApproveRewardsPayload:
        request = MoveRequest(_keys(input.ids), _reason(input.reason))
        moved = await _move(info, approval.APPROVE, request)
        return ApproveRewardsPayload(rewards=moved)

    @strawberry.mutation(
        description="Reject pending or approved rewards, with a reason: the "
        "member's manager or HR, never one's own.",
        permission_classes=[CanDecideRewards],
    )
    async def reject_rewards(
        self, info: strawberry.Info[Context, Any], input: RejectRewardsInput
    ) -> RejectRewardsPayload:
        request = MoveRequest(_keys(input.ids), _reason(input.reason, required=True))
        moved = await _move(info, approval.REJECT, request)
        return RejectRewardsPayload(rewards=moved)

    @strawberry.mutation(
        description="Mark approved rewards paid, with the payment's reference: "
        "HR admins only.",
        permission_classes=[IsHrAdmin],
    )
    async def mark_rewards_paid(
        self, info: strawberry.Info[Context, Any], input: MarkRewardsPaidInput
    ) -> MarkRewardsPaidPayload:
        reference = checked_text(
            input.reference, "reference", MAX_REFERENCE, required=True
        )
        request = MoveRequest(_keys(input.ids), _reason(input.reason), reference)
        moved = await _move(info, approval.PAY, request)
        return MarkRewardsPaidPayload(rewards=moved)


@strawberry.type
class LedgerQuery:
    @strawberry.field(
        description="Rewards waiting for the viewer's decision, oldest first: "
        "a team's, or all the viewer decides on when teamId is null.",
        permission_classes=[CanDecideRewards],
    )
    async def pending_rewards(
        self,
        info: strawberry.Info[Context, Any],
        team_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[RewardNode]:
        offset, limit = page_bounds(first, after)
        team = None if team_id is None else key_of(str(team_id), "Team", "teamId")
        entries = await approval.pending_entries(
            info.context.viewer, team, offset, limit
        )
        info.context.loaders.prime_all(entries)
        return connection([RewardNode.of(e) for e in entries], offset, limit)

    @strawberry.field(
        description="A member's statement for a month: the viewer's by default; "
        "a manager reads their teams', HR anyone's.",
        permission_classes=[CanReadStatements],
    )
    async def statement(
        self,
        info: strawberry.Info[Context, Any],
        month: Annotated[
            str, strawberry.argument(description='The month, such as "2026-12".')
        ],
        member_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Whose; the viewer when omitted."),
        ] = None,
    ) -> MemberStatement:
        member = (
            None if member_id is None else key_of(str(member_id), "Member", "memberId")
        )
        month_of = await member_statement(info.context, member, month)
        info.context.loaders.prime_all(month_of.entitlements)
        return MemberStatement(month=month_of)

    @strawberry.field(
        description="The payroll CSV for a month (as GET "
        "/exports/payroll/{YYYY-MM}.csv serves it): HR admins only.",
        permission_classes=[IsHrAdmin],
    )
    async def payroll_export(
        self,
        info: strawberry.Info[Context, Any],
        month: Annotated[
            str, strawberry.argument(description='The month, such as "2026-12".')
        ],
    ) -> str:
        return await payroll_csv(info.context.viewer, month)
