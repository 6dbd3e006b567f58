"""Incentive plans, their dated versions, rules and assignments, for reading."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from spur.api.context import Context
from spur.engine import messages
from spur.engine.periods import PeriodKind
from spur.models import (
    IncentivePlan,
    IncentivePreference,
    PlanAssignment,
    PlanRule,
    PlanVersion,
    RuleKind,
)
from spur.resolvers import plan as resolve
from spur.resolvers.ids import NO_ROW, row_key
from spur.resolvers.permissions import CanHavePlans, CanReadIncentives
from spur.schema.member import MemberNode, TeamNode
from spur.schema.pagination import Connection, connection, page_bounds
from spur.schema.reward import Money

strawberry.enum(RuleKind, description="What an incentive rule pays for.")
strawberry.enum(
    IncentivePreference, description="The kind of reward a member says they prefer."
)


@strawberry.type(description="A name in one language.")
class LocalizedText:
    language: str = strawberry.field(description="zh-CN or en.")
    text: str = strawberry.field(description="The name in that language.")


def localized_texts(titles: Mapping[str, str]) -> list[LocalizedText]:
    """Stored titles as a list, by language tag."""
    return [LocalizedText(language=k, text=titles[k]) for k in sorted(titles)]


def _money(info: strawberry.Info[Context, Any], amount: Any) -> Money | None:
    return None if amount is None else Money.of(amount, info.context.viewer.currency)


@strawberry.type(
    name="IncentivePlan",
    description="A named set of incentive rules, changed by dated versions.",
)
class IncentivePlanNode(relay.Node):
    id: relay.NodeID[int]
    plan: strawberry.Private[IncentivePlan]

    @classmethod
    def of(cls, plan: IncentivePlan) -> Self:
        return cls(id=plan.id, plan=plan)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        ctx = info.context
        plans = await ctx.loaders.plan.load_many([row_key(k) for k in node_ids])
        readable = await resolve.readable_plans(ctx, plans)
        return [cls.of(plan) if plan else None for plan in readable]

    @strawberry.field(description="The plan's name, unique in the company.")
    def name(self) -> str:
        return self.plan.name

    @strawberry.field(description="The plan's name in the viewer's language.")
    def title(self, info: strawberry.Info[Context, Any]) -> str:
        plan = self.plan
        return messages.localized(plan.name, plan.titles, info.context.language)

    @strawberry.field(description="The plan's name per language.")
    def titles(self) -> list[LocalizedText]:
        return localized_texts(self.plan.titles)

    @strawberry.field(description="What the plan is for, for people.")
    def description(self) -> str:
        return self.plan.description

    @strawberry.field(
        description="Cash entries above this wait for approval; null: none wait."
    )
    def approval_threshold(self, info: strawberry.Info[Context, Any]) -> Money | None:
        return _money(info, self.plan.approval_threshold)

    @strawberry.field(description="The most cash the plan pays per budgetPeriod.")
    def budget(self, info: strawberry.Info[Context, Any]) -> Money | None:
        return _money(info, self.plan.budget)

    @strawberry.field(description="The budget's period; null: the plan's whole life.")
    def budget_period(self) -> PeriodKind | None:
        return self.plan.budget_period

    @strawberry.field(description="Whether the plan pays at all.")
    def is_active(self) -> bool:
        return self.plan.is_active

    @strawberry.field(description="When the plan was created.")
    def created_at(self) -> datetime:
        return self.plan.created_at

    @strawberry.field(description="Every version, by number.")
    async def versions(
        self, info: strawberry.Info[Context, Any]
    ) -> list[PlanVersionNode]:
        found = await info.context.loaders.plan_versions.load(self.plan.id)
        return [PlanVersionNode.of(version) for version in found]

    @strawberry.field(
        description="The version in force today (company time); null when none is."
    )
    async def current_version(
        self, info: strawberry.Info[Context, Any]
    ) -> PlanVersionNode | None:
        found = await resolve.current_version(info.context, self.plan)
        return PlanVersionNode.of(found) if found else None

    @strawberry.field(description="Who the plan covers; none: nobody yet.")
    async def assignments(
        self, info: strawberry.Info[Context, Any]
    ) -> list[PlanAssignmentNode]:
        found = await info.context.loaders.plan_assignments.load(self.plan.id)
        return [PlanAssignmentNode.of(assignment) for assignment in found]


@strawberry.type(
    name="PlanVersion",
    description="A plan's rules from a date; never edited once saved.",
)
class PlanVersionNode(relay.Node):
    id: relay.NodeID[int]
    version: strawberry.Private[PlanVersion]

    @classmethod
    def of(cls, version: PlanVersion) -> Self:
        return cls(id=version.id, version=version)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        ctx = info.context
        keys = [row_key(k) for k in node_ids]
        versions = await ctx.loaders.plan_version.load_many(keys)
        plans = await _plans(ctx, [v.plan_id if v else NO_ROW for v in versions])
        return [
            cls.of(v) if v and p else None for v, p in zip(versions, plans, strict=True)
        ]

    @strawberry.field(description="1 for the first version, then one more each.")
    def number(self) -> int:
        return self.version.number

    @strawberry.field(description="The first day it is in force (company time).")
    def effective_from(self) -> date:
        return self.version.effective_from

    @strawberry.field(description="The first day it no longer is; null: open.")
    def effective_until(self) -> date | None:
        return self.version.effective_until

    @strawberry.field(description="The most cash a member earns per capPeriod.")
    def member_cap(self, info: strawberry.Info[Context, Any]) -> Money | None:
        return _money(info, self.version.member_cap)

    @strawberry.field(description="The period the member cap applies to.")
    def cap_period(self) -> PeriodKind | None:
        return self.version.cap_period

    @strawberry.field(description="Why the version was made.")
    def note(self) -> str:
        return self.version.note

    @strawberry.field(description="Who made it; null once that member is gone.")
    async def created_by(self, info: strawberry.Info[Context, Any]) -> str | None:
        if self.version.created_by_id is None:
            return None
        author = await info.context.loaders.member.load(self.version.created_by_id)
        return author.name if author else None

    @strawberry.field(description="When it was saved.")
    def created_at(self) -> datetime:
        return self.version.created_at

    @strawberry.field(description="Its rules, in the order they were given.")
    async def rules(self, info: strawberry.Info[Context, Any]) -> list[PlanRuleNode]:
        found = await info.context.loaders.plan_rules.load(self.version.id)
        return [PlanRuleNode.of(rule) for rule in found]

    @strawberry.field(description="The plan it belongs to.")
    async def plan(self, info: strawberry.Info[Context, Any]) -> IncentivePlanNode:
        found = await info.context.loaders.plan.load(self.version.plan_id)
        assert found is not None  # a version goes only with its plan
        return IncentivePlanNode.of(found)


@strawberry.type(name="PlanRule", description="One rule of a plan version.")
class PlanRuleNode(relay.Node):
    id: relay.NodeID[int]
    rule: strawberry.Private[PlanRule]

    @classmethod
    def of(cls, rule: PlanRule) -> Self:
        return cls(id=rule.id, rule=rule)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        ctx = info.context
        rules = await ctx.loaders.plan_rule.load_many([row_key(k) for k in node_ids])
        versions = await ctx.loaders.plan_version.load_many(
            [r.version_id if r else NO_ROW for r in rules]
        )
        plans = await _plans(ctx, [v.plan_id if v else NO_ROW for v in versions])
        return [
            cls.of(r) if r and p else None for r, p in zip(rules, plans, strict=True)
        ]

    @strawberry.field(description="The rule's stable name across versions.")
    def code(self) -> str:
        return self.rule.code

    @strawberry.field(description="What the rule pays for.")
    def kind(self) -> RuleKind:
        return self.rule.kind

    @strawberry.field(description="What the rule is called, in the viewer's language.")
    def title(self, info: strawberry.Info[Context, Any]) -> str:
        rule = self.rule
        return messages.localized(rule.title, rule.titles, info.context.language)

    @strawberry.field(description="The rule's name per language.")
    def titles(self) -> list[LocalizedText]:
        return localized_texts(self.rule.titles)

    @strawberry.field(description="The key of the metric it watches, if any.")
    async def metric(self, info: strawberry.Info[Context, Any]) -> str | None:
        if self.rule.metric_id is None:
            return None
        found = await info.context.loaders.metric.load(self.rule.metric_id)
        return found.key if found else None

    @strawberry.field(description="The period its totals are counted over, if any.")
    def period_kind(self) -> PeriodKind | None:
        return self.rule.period_kind

    @strawberry.field(
        description="The kind's settings, decimals as strings (see the design notes)."
    )
    def params(self) -> JSON:
        return JSON(self.rule.params)

    @strawberry.field(description="The version it belongs to.")
    async def version(self, info: strawberry.Info[Context, Any]) -> PlanVersionNode:
        found = await info.context.loaders.plan_version.load(self.rule.version_id)
        assert found is not None  # a rule goes only with its version
        return PlanVersionNode.of(found)


@strawberry.type(
    name="PlanAssignment",
    description="Who a plan covers: every condition set must hold; none set "
    "covers the whole company. Ages in whole years, tenure in days.",
)
class PlanAssignmentNode(relay.Node):
    id: relay.NodeID[int]
    assignment: strawberry.Private[PlanAssignment]

    @classmethod
    def of(cls, assignment: PlanAssignment) -> Self:
        return cls(id=assignment.id, assignment=assignment)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        ctx = info.context
        keys = [row_key(k) for k in node_ids]
        found = await ctx.loaders.plan_assignment.load_many(keys)
        plans = await _plans(ctx, [a.plan_id if a else NO_ROW for a in found])
        return [
            cls.of(a) if a and p else None for a, p in zip(found, plans, strict=True)
        ]

    @strawberry.field(description="Only members of this team, if set.")
    async def team(self, info: strawberry.Info[Context, Any]) -> TeamNode | None:
        if self.assignment.team_id is None:
            return None
        team = await info.context.loaders.team.load(self.assignment.team_id)
        return TeamNode(id=team.id, team=team) if team else None

    @strawberry.field(
        description="Only this member, if set; null too when the viewer may not "
        "see that member."
    )
    async def member(self, info: strawberry.Info[Context, Any]) -> MemberNode | None:
        if self.assignment.member_id is None:
            return None
        found = await info.context.loaders.member.load(self.assignment.member_id)
        visible = found and info.context.viewer.can_see_member(found.id, found.team_id)
        return MemberNode.of(found) if found and visible else None

    @strawberry.field(description="Aged at least this many years, if set.")
    def min_age(self) -> int | None:
        return self.assignment.min_age

    @strawberry.field(description="Aged at most this many years, if set.")
    def max_age(self) -> int | None:
        return self.assignment.max_age

    @strawberry.field(description="Employed at least this many days, if set.")
    def min_tenure_days(self) -> int | None:
        return self.assignment.min_tenure_days

    @strawberry.field(description="Employed at most this many days, if set.")
    def max_tenure_days(self) -> int | None:
        return self.assignment.max_tenure_days

    @strawberry.field(description="Only members stating this preference, if set.")
    def preference(self) -> IncentivePreference | None:
        return self.assignment.preference

    @strawberry.field(description="The plan it assigns.")
    async def plan(self, info: strawberry.Info[Context, Any]) -> IncentivePlanNode:
        found = await info.context.loaders.plan.load(self.assignment.plan_id)
        assert found is not None  # an assignment goes only with its plan
        return IncentivePlanNode.of(found)


async def _plans(ctx: Context, keys: list[int]) -> list[IncentivePlan | None]:
    """The readable plans with these keys, in order (None where not)."""
    return await resolve.readable_plans(ctx, await ctx.loaders.plan.load_many(keys))


@strawberry.type
class PlanQuery:
    @strawberry.field(
        description="The company's incentive plans by name, for HR admins and "
        "(read-only) managers; `active` filters on isActive.",
        permission_classes=[CanReadIncentives],
    )
    async def plans(
        self,
        info: strawberry.Info[Context, Any],
        first: int = 20,
        after: str | None = None,
        active: bool | None = None,
    ) -> Connection[IncentivePlanNode]:
        offset, limit = page_bounds(first, after)
        found = await resolve.list_plans(info.context, active, offset, limit)
        return connection([IncentivePlanNode.of(p) for p in found], offset, limit)

    @strawberry.field(
        description="The active plans that cover the viewer today, by name.",
        permission_classes=[CanHavePlans],
    )
    async def my_plans(
        self, info: strawberry.Info[Context, Any]
    ) -> list[IncentivePlanNode]:
        ctx = info.context
        found = await resolve.plans_covering(ctx, ctx.viewer.member_id)
        return [IncentivePlanNode.of(plan) for plan in found]
