"""Appraisal templates as managers and HR read them: weighted dimensions,
grade bands and the pay they move."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from spur.api.context import Context, Viewer
from spur.engine import messages
from spur.engine.appraisal import DimensionKind, Grade, parse_bands
from spur.models import AppraisalDimension, AppraisalTemplate, Role
from spur.resolvers import appraisal_read as read
from spur.resolvers.ids import row_key
from spur.schema.reward import Money


def as_float(value: Decimal | None) -> float | None:
    """A stored decimal as the Float a score is shown in."""
    return None if value is None else float(value)


def asas_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@strawberry.type(description="Scores from `minimum` up earn the grade.")
class AppraisalBand:
    minimum: Decimal = strawberry.field(description="The lowest score, 0 to 100.")
    grade: Grade = strawberry.field(description="The grade it earns.")
    multiplier: Decimal = strawberry.field(
        description="What the performance bonus is multiplied by, such as 1.20."
    )


@strawberry.type(name="AppraisalDimension", description="One weighted dimension.")
class DimensionNode:
    row: strawberry.Private[AppraisalDimension]

    @strawberry.field(description="Stable code, used to rate it.")
    def code(self) -> str:
        return self.row.code

    @strawberry.field(description="The name in the viewer's language.")
    def name(self, info: strawberry.Info[Context, Any]) -> str:
        return messages.localized(self.row.name, self.row.titles, info.context.language)

    @strawberry.field(description="A process or result metric, or rated.")
    def kind(self) -> DimensionKind:
        return self.row.kind

    @strawberry.field(description="Its weight as set; shares renormalise.")
    def weight(self) -> Decimal:
        weight: Decimal = self.row.weight
        return weight

    @strawberry.field(description="The key of the metric measured, if any.")
    async def metric(self, info: strawberry.Info[Context, Any]) -> str | None:
        return await read.metric_key(info.context, self.row.metric_id)

    @strawberry.field(description="The key of the metric it is divided by, if any.")
    async def per_metric(self, info: strawberry.Info[Context, Any]) -> str | None:
        return await read.metric_key(info.context, self.row.per_metric_id)

    @strawberry.field(description="A constant it is divided by, such as 60.")
    def divisor(self) -> Decimal | None:
        divisor: Decimal | None = self.row.divisor
        return divisor

    @strawberry.field(description="Divided by the cycle's working days.")
    def per_working_day(self) -> bool:
        return self.row.per_working_day

    @strawberry.field(description="How the value maps to 0–100; null when rated.")
    def scale(self) -> JSON | None:
        return JSON(self.row.scale) if self.row.scale else None


@strawberry.type(name="AppraisalTemplate", description="Dimensions, bands and pay.")
class AppraisalTemplateNode(relay.Node):
    id: relay.NodeID[int]
    row: strawberry.Private[AppraisalTemplate]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        viewer = info.context.viewer
        found = await info.context.loaders.appraisal_template.load_many(
            [row_key(k) for k in node_ids]
        )
        return [
            cls(id=t.id, row=t) if t and _reads_setup(viewer, t.company_id) else None
            for t in found
        ]

    @strawberry.field(description="The name in the viewer's language.")
    def name(self, info: strawberry.Info[Context, Any]) -> str:
        return messages.localized(self.row.name, self.row.titles, info.context.language)

    @strawberry.field(description="The dimensions, in order.")
    async def dimensions(
        self, info: strawberry.Info[Context, Any]
    ) -> list[DimensionNode]:
        rows = await info.context.loaders.template_dimensions.load(self.row.id)
        return [DimensionNode(row=row) for row in rows]

    @strawberry.field(description="Grade bands, highest first.")
    def bands(self) -> list[AppraisalBand]:
        return [
            AppraisalBand(minimum=b.minimum, grade=b.grade, multiplier=b.multiplier)
            for b in parse_bands(self.row.bands)
        ]

    @strawberry.field(description="The bonus a 1.00 multiplier pays per cycle.")
    def bonus_base(self, info: strawberry.Info[Context, Any]) -> Money | None:
        return _money(self.row.bonus_base, info.context.viewer)

    @strawberry.field(description="The process score that earns the reward.")
    def process_reward_min(self) -> float | None:
        return as_float(self.row.process_reward_min)

    @strawberry.field(description="The process reward, whatever the results.")
    def process_reward_amount(
        self, info: strawberry.Info[Context, Any]
    ) -> Money | None:
        return _money(self.row.process_reward_amount, info.context.viewer)


def _money(amount: Decimal | None, viewer: Viewer) -> Money | None:
    return None if amount is None else Money.of(amount, viewer.currency)


def _reads_setup(viewer: Viewer, company_id: int) -> bool:
    """Templates: the company's managers and HR admins."""
    return company_id == viewer.company_id and viewer.role in (
        Role.MANAGER,
        Role.HR_ADMIN,
    )
