"""Re-rating a past range under the versions now in force."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import strawberry

from spur.api.context import Context
from spur.resolvers.ledger import key_of
from spur.resolvers.permissions import IsHrAdmin
from spur.resolvers.rerate import Rerated, RerateRequest, rerate
from spur.schema.member import MemberNode
from spur.schema.reward import Money


@strawberry.input(description="A past range to re-rate under the versions in force.")
class RerateInput:
    from_: date = strawberry.field(
        name="from", description="The first local date re-rated."
    )
    to: date = strawberry.field(
        description="The first local date after the range: at most tomorrow, "
        "and at most 366 days after from."
    )
    plan_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this plan's lines; null: every active plan."
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this member's lines; null: everyone."
    )

    def request(self) -> RerateRequest:
        plan = self.plan_id
        member = self.member_id
        return RerateRequest(
            first=self.from_,
            end=self.to,
            plan_id=None if plan is None else key_of(plan, "IncentivePlan", "planId"),
            member_id=None if member is None else key_of(member, "Member", "memberId"),
        )


@strawberry.type(description="The cash adjustments a re-rating wrote for a member.")
class MemberAdjustment:
    member: MemberNode = strawberry.field(description="Whose lines moved.")
    difference: Money = strawberry.field(
        description="What the member's adjustments add up to (negative: taken back)."
    )


@strawberry.type(description="What a re-rating wrote.")
class ReratePayload:
    written: int = strawberry.field(
        description="Adjustment entries written; 0 when the ledger already agrees."
    )
    difference: Money = strawberry.field(
        description="The cash all adjustments add up to."
    )
    members: list[MemberAdjustment] = strawberry.field(
        description="Cash moved per member, largest rise first."
    )

    @classmethod
    def of(cls, done: Rerated) -> ReratePayload:
        currency = done.currency
        members = sorted(done.differences.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls(
            written=done.written,
            difference=Money.of(sum(done.differences.values(), Decimal(0)), currency),
            members=[
                MemberAdjustment(
                    member=MemberNode.of(done.members[key]),
                    difference=Money.of(amount, currency),
                )
                for key, amount in members
            ],
        )


@strawberry.type
class RerateMutation:
    @strawberry.mutation(
        description="Recompute a past range under the versions now in force and "
        "write only the differences, as RERATE adjustment entries; a second run "
        "writes nothing.",
        permission_classes=[IsHrAdmin],
    )
    async def rerate(
        self, info: strawberry.Info[Context, Any], input: RerateInput
    ) -> ReratePayload:
        ctx = info.context
        done = await rerate(ctx.viewer, input.request(), ctx.services.clock())
        return ReratePayload.of(done)
