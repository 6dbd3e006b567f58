"""Goals with live progress, as the mobile app's progress bars show them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.engine import messages
from spur.engine.periods import Period as EnginePeriod
from spur.engine.periods import PeriodKind
from spur.engine.progress import ProgressStatus
from spur.resolvers import goal as resolve
from spur.resolvers.goal import GoalInPeriod, ProgressView


@strawberry.type(description="A half-open span [start, end) in the company's zone.")
class Period:
    kind: PeriodKind = strawberry.field(description="Day, week, month, quarter, year.")
    start: datetime = strawberry.field(description="First instant inside the period.")
    end: datetime = strawberry.field(description="First instant after the period.")
    label: str = strawberry.field(description="Such as 2026-W49, 2026-12 or 2026-Q4.")

    @classmethod
    def of(cls, period: EnginePeriod) -> Period:
        return cls(
            kind=period.kind, start=period.start, end=period.end, label=period.label
        )


@strawberry.type(description="How far a goal is in its period.")
class Progress:
    view: strawberry.Private[ProgressView]

    @strawberry.field(description="Value so far, in the metric's unit.")
    def current(self) -> float:
        return float(self.view.current)

    @strawberry.field(description="The value to reach, in the metric's unit.")
    def target(self) -> float:
        return float(self.view.target)

    @strawberry.field(description="100 × current / target; over 100 when exceeded.")
    def percent(self) -> float:
        return self.view.percent

    @strawberry.field(description="max(0, target − current).")
    def remaining(self) -> float:
        return float(self.view.remaining)

    @strawberry.field(description="Where the goal stands against the calendar.")
    def status(self) -> ProgressStatus:
        return self.view.status


@strawberry.type(name="Goal", description="A target on a metric in one period.")
class GoalNode(relay.Node):
    id: relay.NodeID[str]
    item: strawberry.Private[GoalInPeriod]

    @classmethod
    def of(cls, item: GoalInPeriod) -> Self:
        return cls(id=item.node_id, item=item)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        found = [await resolve.goal_in_period(info.context, key) for key in node_ids]
        return [cls.of(item) if item else None for item in found]

    @strawberry.field(description="What the goal asks for, in the viewer's language.")
    def title(self, info: strawberry.Info[Context, Any]) -> str:
        goal = self.item.goal
        return messages.localized(goal.title, goal.titles, info.context.language)

    @strawberry.field(description="The key of the metric definition it tracks.")
    async def metric(self, info: strawberry.Info[Context, Any]) -> str:
        metric = await info.context.loaders.metric.load(self.item.goal.metric_id)
        return metric.key if metric else ""

    @strawberry.field(description="The period this goal instance covers.")
    def period(self) -> Period:
        return Period.of(self.item.period)

    @strawberry.field(description="Progress in this period.")
    async def progress(self, info: strawberry.Info[Context, Any]) -> Progress:
        return Progress(view=await resolve.progress_of(info.context, self.item))

    @strawberry.field(description="The goal this one was split from, if any.")
    async def parent(self, info: strawberry.Info[Context, Any]) -> GoalNode | None:
        parent = await resolve.parent_of(info.context, self.item)
        return GoalNode.of(parent) if parent else None

    @strawberry.field(description="The goals this one was split into.")
    async def children(self, info: strawberry.Info[Context, Any]) -> list[GoalNode]:
        return [
            GoalNode.of(c) for c in await resolve.children_of(info.context, self.item)
        ]
