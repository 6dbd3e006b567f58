"""Metric definitions: what counts toward goals and incentive rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.engine import messages
from spur.engine.metrics import ActivityKind, Aggregation
from spur.models import MetricDefinition
from spur.resolvers import metric as metrics
from spur.resolvers.ids import row_key
from spur.resolvers.permissions import CanAdministerIncentives, CanReadIncentives
from spur.resolvers.plan import READERS
from spur.schema.pagination import Connection, connection, page_bounds
from spur.schema.plan import LocalizedText, localized_texts
from spur.schema.plan_admin import LocalizedTextInput

strawberry.enum(
    Aggregation,
    description="How matching activities add up: a count, amounts or quantities.",
)


@strawberry.type(
    name="MetricDefinition",
    description="What counts toward a metric: an activity kind, filters, and "
    "how matching activities add up.",
)
class MetricDefinitionNode(relay.Node):
    id: relay.NodeID[int]
    metric: strawberry.Private[MetricDefinition]

    @classmethod
    def of(cls, metric: MetricDefinition) -> Self:
        return cls(id=metric.id, metric=metric)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        viewer = info.context.viewer
        found = await info.context.loaders.metric.load_many(
            [row_key(k) for k in node_ids]
        )
        readable = viewer.role in READERS
        return [
            cls.of(m) if m and readable and m.company_id == viewer.company_id else None
            for m in found
        ]

    @strawberry.field(description="The key goals and rules name it by.")
    def key(self) -> str:
        return self.metric.key

    @strawberry.field(description="Its name for people, in the viewer's language.")
    def name(self, info: strawberry.Info[Context, Any]) -> str:
        metric = self.metric
        return messages.localized(metric.name, metric.titles, info.context.language)

    @strawberry.field(description="Its name per language, where one was given.")
    def titles(self) -> list[LocalizedText]:
        return localized_texts(self.metric.titles)

    @strawberry.field(description="The unit of its values, such as CNY or min.")
    def unit(self) -> str:
        return self.metric.unit

    @strawberry.field(description="The kind of activity it counts.")
    def activity_kind(self) -> ActivityKind:
        return self.metric.activity_kind

    @strawberry.field(description="How matching activities add up.")
    def aggregation(self) -> Aggregation:
        return self.metric.aggregation

    @strawberry.field(description="Only activity in this market, if set.")
    def market(self) -> str | None:
        return self.metric.market

    @strawberry.field(description="Only activity in this product category, if set.")
    def product_category(self) -> str | None:
        return self.metric.product_category

    @strawberry.field(description="Only new (true) or existing (false) customers.")
    def new_customer(self) -> bool | None:
        return self.metric.new_customer

    @strawberry.field(description="Only replies sent within this many minutes.")
    def reply_within_minutes(self) -> int | None:
        return self.metric.reply_within_minutes


@strawberry.input(description="A new metric definition.")
class DefineMetricInput:
    key: str = strawberry.field(
        description="Unique in the company: lowercase letters, digits and _."
    )
    name: str = strawberry.field(description="Its name for people.")
    titles: list[LocalizedTextInput] | None = strawberry.field(
        default=None,
        description="Its name per language (zh-CN, en), if it differs; "
        "readers of another language see name.",
    )
    unit: str = strawberry.field(
        default="",
        description="The unit of its values; the company currency "
        "for SUM_AMOUNT when empty.",
    )
    activity_kind: ActivityKind = strawberry.field(description="What it counts.")
    aggregation: Aggregation = strawberry.field(description="How it adds up.")
    market: str | None = strawberry.field(
        default=None, description="Only activity in this market, such as SEA."
    )
    product_category: str | None = strawberry.field(
        default=None, description="Only activity in this product category."
    )
    new_customer: bool | None = strawberry.field(
        default=None, description="Only new (true) or existing (false) customers."
    )
    reply_within_minutes: int | None = strawberry.field(
        default=None, description="Only replies sent within this many minutes."
    )

    def spec(self) -> metrics.MetricSpec:
        return metrics.MetricSpec(
            key=self.key,
            name=self.name,
            activity_kind=self.activity_kind,
            aggregation=self.aggregation,
            unit=self.unit,
            market=self.market,
            product_category=self.product_category,
            new_customer=self.new_customer,
            reply_within_minutes=self.reply_within_minutes,
            titles=tuple((t.language, t.text) for t in self.titles or ()),
        )


@strawberry.type(description="The metric defined.")
class DefineMetricPayload:
    metric: MetricDefinitionNode = strawberry.field(description="The new metric.")


@strawberry.type
class MetricQuery:
    @strawberry.field(
        description="The company's metric definitions by key, for HR admins and "
        "managers.",
        permission_classes=[CanReadIncentives],
    )
    async def metric_definitions(
        self,
        info: strawberry.Info[Context, Any],
        first: int = 20,
        after: str | None = None,
    ) -> Connection[MetricDefinitionNode]:
        offset, limit = page_bounds(first, after)
        found = await metrics.list_metrics(info.context.viewer, offset, limit)
        return connection([MetricDefinitionNode.of(m) for m in found], offset, limit)


@strawberry.type
class MetricMutation:
    @strawberry.mutation(
        description="Define a metric that goals and incentive rules can name; "
        "it counts activity recorded from now on.",
        permission_classes=[CanAdministerIncentives],
    )
    async def define_metric(
        self, info: strawberry.Info[Context, Any], input: DefineMetricInput
    ) -> DefineMetricPayload:
        ctx = info.context
        metric = await metrics.define_metric(ctx.viewer, input.spec())
        ctx.loaders.metric.prime(metric.id, metric, force=True)
        return DefineMetricPayload(metric=MetricDefinitionNode.of(metric))
