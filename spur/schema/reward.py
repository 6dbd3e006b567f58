"""Rewards and money, as the ledger records them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.engine import messages, money
from spur.models import CASH_KINDS, LedgerEntry, RewardKind, RewardStatus
from spur.resolvers.ids import row_key


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


async def _visible(ctx: Context, entry: LedgerEntry) -> bool:
    viewer = ctx.viewer
    if entry.company_id != viewer.company_id:
        return False
    owner = await ctx.loaders.member.load(entry.member_id)
    return owner is not None and viewer.can_see_member(owner.id, owner.team_id)
