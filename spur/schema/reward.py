"""Rewards and money, as the ledger records them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.engine import messages, money
from spur.models import (
    CASH_KINDS,
    EntryCause,
    LedgerEntry,
    RewardKind,
    RewardStatus,
    StatusChange,
)
from spur.resolvers.ids import row_key
from spur.resolvers.ledger import global_ids, rule_source

if TYPE_CHECKING:
    from spur.schema.member import MemberNode


@strawberry.type(description="An amount of money in an ISO 4217 currency.")
class Money:
    amount: Decimal = strawberry.field(description="Rounded to the minor unit.")
    currency: str = strawberry.field(description="ISO 4217 code, such as CNY.")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        return cls(amount=money.quantize(amount, currency), currency=currency)


@strawberry.type(description="What a member has earned over a period.")
class Earnings:
    total: Money = strawberry.field(description="Cash earned, in company currency.")


@strawberry.type(description="One value a reward was computed from.")
class RewardBasis:
    name: str = strawberry.field(description="Such as base, rate, exchange_rate.")
    value: str = strawberry.field(description="As recorded, such as 0.05.")


@strawberry.type(description="One move of a reward between statuses.")
class RewardStatusChange:
    change: strawberry.Private[StatusChange]

    @strawberry.field(description="The status before the move.")
    def from_status(self) -> RewardStatus:
        return self.change.from_status

    @strawberry.field(description="The status after the move.")
    def to_status(self) -> RewardStatus:
        return self.change.to_status

    @strawberry.field(description="Who moved it; null once that member is gone.")
    async def actor_name(self, info: strawberry.Info[Context, Any]) -> str | None:
        if self.change.actor_id is None:
            return None
        actor = await info.context.loaders.member.load(self.change.actor_id)
        return actor.name if actor else None

    @strawberry.field(description="Why, in the actor's words; may be empty.")
    def reason(self) -> str:
        return self.change.reason

    @strawberry.field(description="The payment reference, for a move to PAID.")
    def reference(self) -> str | None:
        return self.change.reference

    @strawberry.field(description="When it was moved.")
    def changed_at(self) -> datetime:
        return self.change.changed_at


@strawberry.type(name="Reward", description="One earned reward: a ledger line.")
class RewardNode(relay.Node):
    id: relay.NodeID[int]
    entry: strawberry.Private[LedgerEntry]

    @classmethod
    def of(cls, entry: LedgerEntry) -> Self:
        return cls(id=entry.id, entry=entry)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        ctx = info.context
        ids = [row_key(key) for key in node_ids]
        entries = await ctx.loaders.ledger_entry.load_many(ids)
        return [
            cls.of(entry) if entry and await _visible(ctx, entry) else None
            for entry in entries
        ]

    @strawberry.field(description="Cash, commission or a non-cash kind.")
    def kind(self) -> RewardKind:
        return self.entry.kind

    @strawberry.field(description="What the reward is, in the viewer's language.")
    def title(self, info: strawberry.Info[Context, Any]) -> str:
        entry = self.entry
        return messages.localized(entry.title, entry.titles, info.context.language)

    @strawberry.field(description="The cash amount; null for a non-cash reward.")
    def amount(self) -> Money | None:
        entry = self.entry
        if entry.kind not in CASH_KINDS or entry.amount is None or not entry.currency:
            return None
        return Money.of(entry.amount, entry.currency)

    @strawberry.field(description="How many units of a non-cash reward, if counted.")
    def quantity(self) -> float | None:
        return None if self.entry.quantity is None else float(self.entry.quantity)

    @strawberry.field(description="Where the reward stands on its way to pay.")
    def status(self) -> RewardStatus:
        return self.entry.status

    @strawberry.field(description="When it was earned (the activity's time).")
    def earned_at(self) -> datetime:
        return self.entry.earned_at

    @strawberry.field(description="Why the line exists: earned, a void, a re-rating.")
    def cause(self) -> EntryCause:
        return self.entry.cause

    @strawberry.field(description="Whose reward it is.")
    async def member(
        self, info: strawberry.Info[Context, Any]
    ) -> Annotated[MemberNode, strawberry.lazy("spur.schema.member")]:
        from spur.schema.member import MemberNode

        owner = await info.context.loaders.member.load(self.entry.member_id)
        assert owner is not None  # a ledger line's member is never deleted alone
        return MemberNode.of(owner)

    @strawberry.field(
        description="The incentive plan that paid it, in the viewer's language; "
        "null for a goal reward."
    )
    async def plan_name(self, info: strawberry.Info[Context, Any]) -> str | None:
        source = await rule_source(info.context, self.entry)
        if source is None:
            return None
        plan = source.plan
        return messages.localized(plan.name, plan.titles, info.context.language)

    @strawberry.field(description="The plan version's number; null for a goal reward.")
    async def plan_version(self, info: strawberry.Info[Context, Any]) -> int | None:
        source = await rule_source(info.context, self.entry)
        return source.version.number if source else None

    @strawberry.field(description="The code of the plan rule that paid it, if any.")
    async def rule_code(self, info: strawberry.Info[Context, Any]) -> str | None:
        source = await rule_source(info.context, self.entry)
        return source.rule.code if source and source.rule else None

    @strawberry.field(
        description="The values it was computed from (base, rate, tier…), by name."
    )
    def inputs(self) -> list[RewardBasis]:
        values = self.entry.inputs or {}
        return [RewardBasis(name=k, value=str(values[k])) for k in sorted(values)]

    @strawberry.field(description="The Activity that earned it, if one did.")
    def source_activity_id(self) -> strawberry.ID | None:
        return _global_id("Activity", self.entry.source_activity_id)

    @strawberry.field(description="The Reward this line compensates, if any.")
    def reverses_id(self) -> strawberry.ID | None:
        return _global_id("Reward", self.entry.reverses_id)

    @strawberry.field(description="Every move between statuses, oldest first.")
    async def status_history(
        self, info: strawberry.Info[Context, Any]
    ) -> list[RewardStatusChange]:
        changes = await info.context.loaders.status_changes.load(self.entry.id)
        return [RewardStatusChange(change=change) for change in changes]


def _global_id(type_name: str, key: int | None) -> strawberry.ID | None:
    return None if key is None else strawberry.ID(global_ids(type_name, [key])[0])


async def _visible(ctx: Context, entry: LedgerEntry) -> bool:
    viewer = ctx.viewer
    if entry.company_id != viewer.company_id:
        return False
    owner = await ctx.loaders.member.load(entry.member_id)
    return owner is not None and viewer.can_see_member(owner.id, owner.team_id)
