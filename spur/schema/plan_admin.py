"""Shaping incentive plans: HR admins create them, change their settings,
schedule rule changes as new versions, and assign them to people."""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import UNSET, relay
from strawberry.scalars import JSON

from spur.api.context import Context
from spur.api.errors import BadUserInput
from spur.engine.periods import PeriodKind
from spur.models import IncentivePlan, IncentivePreference, RuleKind
from spur.resolvers import plan_admin as admin
from spur.resolvers.ids import is_key_text, row_key
from spur.resolvers.permissions import CanAdministerIncentives
from spur.resolvers.plan_input import (
    AudienceSpec,
    PlanSpec,
    RuleSpec,
    Titles,
    VersionSpec,
)
from spur.schema.plan import IncentivePlanNode, PlanAssignmentNode, PlanVersionNode


@strawberry.input(description="A name in one language.")
class LocalizedTextInput:
    language: str = strawberry.field(description="zh-CN or en.")
    text: str = strawberry.field(description="The name in that language.")


def _titles(titles: list[LocalizedTextInput] | None) -> Titles:
    return tuple((title.language, title.text) for title in titles or ())


@strawberry.input(description="One rule of a plan version.")
class PlanRuleInput:
    code: str = strawberry.field(
        description="Stable name across versions: letters, digits, _ or -."
    )
    kind: RuleKind = strawberry.field(description="What the rule pays for.")
    title: str = strawberry.field(description="What the rule is called.")
    titles: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description="The name per language, if it differs."
    )
    metric: str | None = strawberry.field(
        default=None, description="The key of the metric it watches."
    )
    period_kind: PeriodKind | None = strawberry.field(
        default=None, description="The period its totals are counted over."
    )
    params: JSON = strawberry.field(
        description="The kind's settings as an object, decimals as strings."
    )

    def spec(self) -> RuleSpec:
        return RuleSpec(
            code=self.code,
            kind=self.kind,
            title=self.title,
            titles=_titles(self.titles),
            metric=self.metric,
            period_kind=self.period_kind,
            params=self.params,
        )


@strawberry.input(description="A plan's rules from a date.")
class PlanVersionInput:
    effective_from: date = strawberry.field(
        description="The first day in force (company time); today or later."
    )
    effective_until: date | None = strawberry.field(
        default=None, description="The first day no longer in force; null: open."
    )
    member_cap: Decimal | None = strawberry.field(
        default=None, description="The most cash a member earns per capPeriod."
    )
    cap_period: PeriodKind | None = strawberry.field(
        default=None, description="The member cap's period; set with memberCap."
    )
    note: str = strawberry.field(default="", description="Why the version is made.")
    rules: list[PlanRuleInput] = strawberry.field(description="Up to 50 rules.")

    def spec(self) -> VersionSpec:
        return _version(self)


def _version(source: PlanVersionInput | AddPlanVersionInput) -> VersionSpec:
    return VersionSpec(
        effective_from=source.effective_from,
        effective_until=source.effective_until,
        member_cap=source.member_cap,
        cap_period=source.cap_period,
        note=source.note,
        rules=tuple(rule.spec() for rule in source.rules),
    )


@strawberry.input(description="A new incentive plan with its first version.")
class CreatePlanInput:
    name: str = strawberry.field(description="Unique in the company.")
    titles: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description="The name per language, if it differs."
    )
    description: str = strawberry.field(default="", description="What it is for.")
    approval_threshold: Decimal | None = strawberry.field(
        default=None, description="Cash entries above this wait for approval."
    )
    budget: Decimal | None = strawberry.field(
        default=None, description="The most cash the plan pays per budgetPeriod."
    )
    budget_period: PeriodKind | None = strawberry.field(
        default=None, description="The budget's period; null: the plan's life."
    )
    first_version: PlanVersionInput = strawberry.field(
        description="Version 1: its dates, cap and rules."
    )

    def spec(self) -> PlanSpec:
        return PlanSpec(
            name=self.name,
            titles=_titles(self.titles),
            description=self.description,
            approval_threshold=self.approval_threshold,
            budget=self.budget,
            budget_period=self.budget_period,
            first_version=self.first_version.spec(),
        )


@strawberry.input(
    description="Plan-level settings to change; omitted fields stay, null clears."
)
class UpdatePlanInput:
    id: strawberry.ID = strawberry.field(description="The plan.")
    name: str | None = strawberry.field(default=UNSET, description="A new name.")
    titles: list[LocalizedTextInput] | None = strawberry.field(
        default=UNSET, description="The names per language, replacing all."
    )
    description: str | None = strawberry.field(
        default=UNSET, description="A new description."
    )
    approval_threshold: Decimal | None = strawberry.field(
        default=UNSET, description="A new threshold; null: nothing waits."
    )
    budget: Decimal | None = strawberry.field(
        default=UNSET, description="A new budget; null: no budget."
    )
    budget_period: PeriodKind | None = strawberry.field(
        default=UNSET, description="A new budget period; null: the plan's life."
    )
    is_active: bool | None = strawberry.field(
        default=UNSET, description="False stops the plan paying; true resumes."
    )

    def changes(self) -> dict[str, Any]:
        """The settings sent, by model field; a null name or flag is refused."""
        for name in ("name", "is_active"):
            if getattr(self, name) is None:
                field = "isActive" if name == "is_active" else name
                raise BadUserInput(f"{field} may not be null.", field=field)
        sent = {
            "name": self.name,
            "titles": self.titles if self.titles is UNSET else _titles(self.titles),
            "description": self.description or "",
            "approval_threshold": self.approval_threshold,
            "budget": self.budget,
            "budget_period": self.budget_period,
            "is_active": self.is_active,
        }
        if self.description is UNSET:
            sent["description"] = UNSET
        return {key: value for key, value in sent.items() if value is not UNSET}


@strawberry.input(description="Schedule a rule change: a new version from a date.")
class AddPlanVersionInput:
    plan_id: strawberry.ID = strawberry.field(description="The plan to change.")
    effective_from: date = strawberry.field(
        description="The first day in force (company time): today or later, and "
        "no other version's first day."
    )
    effective_until: date | None = strawberry.field(
        default=None, description="The first day no longer in force; null: open."
    )
    member_cap: Decimal | None = strawberry.field(
        default=None, description="The most cash a member earns per capPeriod."
    )
    cap_period: PeriodKind | None = strawberry.field(
        default=None, description="The member cap's period; set with memberCap."
    )
    note: str = strawberry.field(default="", description="Why the change is made.")
    rules: list[PlanRuleInput] = strawberry.field(
        description="The whole rule set from that date, up to 50 rules."
    )

    def spec(self) -> VersionSpec:
        return _version(self)


@strawberry.input(
    description="Who to cover: a team, a member, a segment, or any mix (every "
    "condition set must hold); none set covers the whole company."
)
class AssignPlanInput:
    plan_id: strawberry.ID = strawberry.field(description="The plan.")
    team_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only members of this team."
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this member."
    )
    min_age: int | None = strawberry.field(
        default=None, description="Aged at least this many years (35 or over: 35)."
    )
    max_age: int | None = strawberry.field(
        default=None, description="Aged at most this many years (30 or under: 30)."
    )
    min_tenure_days: int | None = strawberry.field(
        default=None, description="Employed at least this many days."
    )
    max_tenure_days: int | None = strawberry.field(
        default=None, description="Employed at most this many days."
    )
    preference: IncentivePreference | None = strawberry.field(
        default=None, description="Only members stating this preference."
    )

    def spec(self) -> AudienceSpec:
        return AudienceSpec(
            team_id=node_key(self.team_id, "Team", "teamId"),
            member_id=node_key(self.member_id, "Member", "memberId"),
            min_age=self.min_age,
            max_age=self.max_age,
            min_tenure_days=self.min_tenure_days,
            max_tenure_days=self.max_tenure_days,
            preference=self.preference,
        )


@strawberry.input(description="The assignment to remove.")
class RemovePlanAssignmentInput:
    id: strawberry.ID = strawberry.field(description="A PlanAssignment id.")


@strawberry.type(description="The plan created, with version 1.")
class CreatePlanPayload:
    plan: IncentivePlanNode = strawberry.field(description="The new plan.")


@strawberry.type(description="The plan with its settings changed.")
class UpdatePlanPayload:
    plan: IncentivePlanNode = strawberry.field(description="The plan as saved.")


@strawberry.type(description="The version scheduled, and its plan.")
class AddPlanVersionPayload:
    version: PlanVersionNode = strawberry.field(description="The new version.")
    plan: IncentivePlanNode = strawberry.field(description="Its plan.")


@strawberry.type(description="The assignment made, and its plan.")
class AssignPlanPayload:
    assignment: PlanAssignmentNode = strawberry.field(description="The assignment.")
    plan: IncentivePlanNode = strawberry.field(description="Its plan.")


@strawberry.type(description="The id of the assignment removed, and its plan.")
class RemovePlanAssignmentPayload:
    removed_id: strawberry.ID = strawberry.field(description="The removed id.")
    plan: IncentivePlanNode = strawberry.field(description="Its plan.")


def node_key(global_id: strawberry.ID | None, type_name: str, field: str) -> int | None:
    """The primary key inside a global id of `type_name`; None for none."""
    if global_id is None:
        return None
    try:
        decoded = relay.GlobalID.from_id(str(global_id))
    except (ValueError, TypeError) as error:
        raise BadUserInput(f"{field} is not a {type_name} id.", field=field) from error
    if decoded.type_name != type_name or not is_key_text(decoded.node_id):
        raise BadUserInput(f"{field} is not a {type_name} id.", field=field)
    return row_key(decoded.node_id)


def _required_key(global_id: strawberry.ID, type_name: str, field: str) -> int:
    key = node_key(global_id, type_name, field)
    assert key is not None
    return key


def _fresh(ctx: Context, plan: IncentivePlan) -> IncentivePlanNode:
    """The plan's node, its cached versions and assignments forgotten, so a
    later field in the same request reads what was just written."""
    loaders = ctx.loaders
    loaders.plan.prime(plan.id, plan, force=True)
    for loader in (loaders.plan_versions, loaders.plan_assignments):
        # Strawberry's clear raises KeyError for a key it never cached.
        with suppress(KeyError):
            loader.clear(plan.id)
    return IncentivePlanNode.of(plan)


@strawberry.type
class PlanMutation:
    @strawberry.mutation(
        description="Create an incentive plan with its first version.",
        permission_classes=[CanAdministerIncentives],
    )
    async def create_plan(
        self, info: strawberry.Info[Context, Any], input: CreatePlanInput
    ) -> CreatePlanPayload:
        ctx = info.context
        plan = await admin.create_plan(ctx.viewer, input.spec(), ctx.services.clock())
        return CreatePlanPayload(plan=_fresh(ctx, plan))

    @strawberry.mutation(
        description="Change a plan's name, titles, description, threshold, "
        "budget or whether it is active; rules change by addPlanVersion.",
        permission_classes=[CanAdministerIncentives],
    )
    async def update_plan(
        self, info: strawberry.Info[Context, Any], input: UpdatePlanInput
    ) -> UpdatePlanPayload:
        ctx = info.context
        key = _required_key(input.id, "IncentivePlan", "id")
        plan = await admin.update_plan(ctx.viewer, key, input.changes())
        return UpdatePlanPayload(plan=_fresh(ctx, plan))

    @strawberry.mutation(
        description="Schedule a rule change from a date (today or later): a "
        "new version numbered after the last; what was earned stays.",
        permission_classes=[CanAdministerIncentives],
    )
    async def add_plan_version(
        self, info: strawberry.Info[Context, Any], input: AddPlanVersionInput
    ) -> AddPlanVersionPayload:
        ctx = info.context
        key = _required_key(input.plan_id, "IncentivePlan", "planId")
        version = await admin.add_version(
            ctx.viewer, key, input.spec(), ctx.services.clock()
        )
        plan = await admin.company_plan(ctx.viewer, key, "planId")
        return AddPlanVersionPayload(
            version=PlanVersionNode.of(version), plan=_fresh(ctx, plan)
        )

    @strawberry.mutation(
        description="Cover a team, member or segment with a plan.",
        permission_classes=[CanAdministerIncentives],
    )
    async def assign_plan(
        self, info: strawberry.Info[Context, Any], input: AssignPlanInput
    ) -> AssignPlanPayload:
        ctx = info.context
        key = _required_key(input.plan_id, "IncentivePlan", "planId")
        assignment = await admin.assign_plan(ctx.viewer, key, input.spec())
        plan = await admin.company_plan(ctx.viewer, key, "planId")
        return AssignPlanPayload(
            assignment=PlanAssignmentNode.of(assignment), plan=_fresh(ctx, plan)
        )

    @strawberry.mutation(
        description="Remove a plan assignment; rewards already earned stay.",
        permission_classes=[CanAdministerIncentives],
    )
    async def remove_plan_assignment(
        self, info: strawberry.Info[Context, Any], input: RemovePlanAssignmentInput
    ) -> RemovePlanAssignmentPayload:
        ctx = info.context
        key = _required_key(input.id, "PlanAssignment", "id")
        removed = await admin.remove_assignment(ctx.viewer, key)
        plan = await admin.company_plan(ctx.viewer, removed.plan_id, "id")
        return RemovePlanAssignmentPayload(
            removed_id=strawberry.ID(str(relay.GlobalID("PlanAssignment", str(key)))),
            plan=_fresh(ctx, plan),
        )
