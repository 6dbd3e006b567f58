"""Recording sales activity: the mutation behind every progress bar."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.api.errors import BadUserInput
from spur.engine.metrics import ActivityKind
from spur.models import Activity
from spur.resolvers.activity import record_activity
from spur.resolvers.activity_input import ActivityDraft
from spur.resolvers.ids import is_key_text, row_key
from spur.resolvers.permissions import CanWrite
from spur.schema.achievement import AchievementEventType


@strawberry.type(name="Activity", description="One recorded thing a member did.")
class ActivityNode(relay.Node):
    id: relay.NodeID[int]
    activity: strawberry.Private[Activity]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        viewer = info.context.viewer
        keys = [row_key(k) for k in node_ids]
        rows = {
            a.id: a
            for a in await Activity.filter(
                id__in=keys, company_id=viewer.company_id
            ).prefetch_related("member")
        }
        return [
            cls(id=row.id, activity=row)
            if (row := rows.get(key))
            and viewer.can_see_member(row.member.id, row.member.team_id)
            else None
            for key in keys
        ]

    @strawberry.field(description="What was done.")
    def kind(self) -> ActivityKind:
        return self.activity.kind

    @strawberry.field(description="When it happened (it counts in that period).")
    def occurred_at(self) -> datetime:
        return self.activity.occurred_at

    @strawberry.field(description="When Spur received it.")
    def recorded_at(self) -> datetime:
        return self.activity.recorded_at

    @strawberry.field(description="When it was voided; null while it counts.")
    def voided_at(self) -> datetime | None:
        return self.activity.voided_at

    @strawberry.field(description="Why it was voided; null while it counts.")
    def void_reason(self) -> str | None:
        return self.activity.void_reason


@strawberry.input(
    description="One activity; repeats of (source, externalId) count once."
)
class RecordActivityInput:
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Whose activity; the viewer when omitted."
    )
    kind: ActivityKind
    occurred_at: datetime = strawberry.field(description="With a UTC offset.")
    source: str | None = strawberry.field(default=None, description="Sending system.")
    external_id: str | None = strawberry.field(
        default=None, description="The id in the sending system; makes retries safe."
    )
    quantity: float | None = strawberry.field(
        default=None, description="Minutes for PLATFORM_SESSION, else a count; 1."
    )
    amount: Decimal | None = strawberry.field(default=None, description="Order value.")
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code.")
    market: str | None = strawberry.field(default=None, description="Such as SEA.")
    product_category: str | None = None
    customer_ref: str | None = None
    new_customer: bool | None = None
    response_minutes: int | None = strawberry.field(
        default=None, description="Minutes taken to answer an inquiry."
    )
    rating: float | None = strawberry.field(default=None, description="0 to 5.")

    def draft(self) -> ActivityDraft:
        return ActivityDraft(
            kind=self.kind,
            occurred_at=self.occurred_at,
            source=self.source,
            external_id=self.external_id,
            quantity=self.quantity,
            amount=self.amount,
            currency=self.currency,
            market=self.market,
            product_category=self.product_category,
            customer_ref=self.customer_ref,
            new_customer=self.new_customer,
            response_minutes=self.response_minutes,
            rating=self.rating,
        )


@strawberry.type(description="The recorded activity and what it caused.")
class RecordActivityPayload:
    activity: ActivityNode
    duplicate: bool = strawberry.field(
        description="True when this (source, externalId) was recorded before."
    )
    achievements: list[AchievementEventType] = strawberry.field(
        description="Events this activity caused, in order (empty for a duplicate)."
    )


def member_id_of(global_id: strawberry.ID | None) -> int | None:
    """The member's primary key from a Member global id."""
    if global_id is None:
        return None
    try:
        decoded = relay.GlobalID.from_id(str(global_id))
    except (ValueError, TypeError) as error:
        raise BadUserInput("memberId is not a Member id.", field="memberId") from error
    if decoded.type_name != "Member" or not is_key_text(decoded.node_id):
        raise BadUserInput("memberId is not a Member id.", field="memberId")
    return row_key(decoded.node_id)


@strawberry.type
class ActivityMutation:
    @strawberry.mutation(
        description="Record one activity; progress, rewards and events follow.",
        permission_classes=[CanWrite],
    )
    async def record_activity(
        self, info: strawberry.Info[Context, Any], input: RecordActivityInput
    ) -> RecordActivityPayload:
        ctx = info.context
        recorded = await record_activity(
            ctx.services, ctx.viewer, member_id_of(input.member_id), input.draft()
        )
        ctx.loaders.prime_all(recorded.rewards)
        return RecordActivityPayload(
            activity=ActivityNode(id=recorded.activity.id, activity=recorded.activity),
            duplicate=recorded.duplicate,
            achievements=[AchievementEventType(event=e) for e in recorded.events],
        )
