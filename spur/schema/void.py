"""Voiding a recorded activity: its counts and rewards taken back once."""

from __future__ import annotations

from typing import Any

import strawberry

from spur.api.context import Context
from spur.resolvers.ledger import key_of
from spur.resolvers.permissions import CanVoidActivity
from spur.resolvers.void import void_activity
from spur.schema.activity import ActivityNode
from spur.schema.reward import RewardNode


@strawberry.input(description="The activity to void, and why.")
class VoidActivityInput:
    activity_id: strawberry.ID = strawberry.field(description="An Activity id.")
    reason: str = strawberry.field(
        description="Why, 1 to 500 characters; recorded on the activity and on "
        "every reward it takes back."
    )


@strawberry.type(description="The voided activity and what the void wrote.")
class VoidActivityPayload:
    activity: ActivityNode = strawberry.field(description="As it now stands.")
    already_voided: bool = strawberry.field(
        description="True when it was voided before: this call wrote nothing."
    )
    compensations: list[RewardNode] = strawberry.field(
        description="The compensating rewards this call wrote, one per reward "
        "taken back; empty when alreadyVoided."
    )


@strawberry.type
class VoidMutation:
    @strawberry.mutation(
        description="Void an activity: its totals and goal progress are taken "
        "back, unpaid rewards reversed and paid ones clawed back. The member's "
        "manager or HR, never one's own; repeats write nothing.",
        permission_classes=[CanVoidActivity],
    )
    async def void_activity(
        self, info: strawberry.Info[Context, Any], input: VoidActivityInput
    ) -> VoidActivityPayload:
        ctx = info.context
        key = key_of(str(input.activity_id), "Activity", "activityId")
        voided = await void_activity(ctx.services, ctx.viewer, key, input.reason)
        ctx.loaders.prime_all(voided.compensations)
        return VoidActivityPayload(
            activity=ActivityNode(id=voided.activity.id, activity=voided.activity),
            already_voided=voided.already_voided,
            compensations=[RewardNode.of(entry) for entry in voided.compensations],
        )
