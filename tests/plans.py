"""Incentive plans for tests, written straight to the models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from spur.engine.incentives import parse_rule
from spur.engine.periods import PeriodKind
from spur.models import (
    Company,
    IncentivePlan,
    MetricDefinition,
    PlanAssignment,
    PlanRule,
    PlanVersion,
    RuleKind,
)


@dataclass(frozen=True)
class Rule:
    """A rule to store; `params` are checked as the API would check them."""

    code: str
    kind: RuleKind
    params: dict[str, Any]
    metric: MetricDefinition | None = None
    period_kind: PeriodKind | None = None
    title: str = ""


@dataclass(frozen=True)
class Audience:
    team_id: int | None = None
    member_id: int | None = None
    min_age: int | None = None
    max_age: int | None = None


@dataclass
class PlanSpec:
    name: str
    rules: list[Rule]
    effective_from: date = date(2026, 1, 1)
    audiences: list[Audience] = field(default_factory=lambda: [Audience()])
    approval_threshold: Decimal | None = None
    budget: Decimal | None = None
    budget_period: PeriodKind | None = None
    member_cap: Decimal | None = None
    cap_period: PeriodKind | None = None


async def make_plan(company: Company, spec: PlanSpec) -> IncentivePlan:
    """A plan with one version and its audiences."""
    plan = await IncentivePlan.create(
        company=company,
        name=spec.name,
        approval_threshold=spec.approval_threshold,
        budget=spec.budget,
        budget_period=spec.budget_period,
    )
    await add_version(plan, spec.rules, spec.effective_from, spec)
    for audience in spec.audiences:
        await PlanAssignment.create(
            plan=plan,
            team_id=audience.team_id,
            member_id=audience.member_id,
            min_age=audience.min_age,
            max_age=audience.max_age,
        )
    return plan


async def add_version(
    plan: IncentivePlan,
    rules: list[Rule],
    effective_from: date,
    spec: PlanSpec | None = None,
) -> PlanVersion:
    """The plan's next version from `effective_from`."""
    number = await PlanVersion.filter(plan=plan).count() + 1
    version = await PlanVersion.create(
        plan=plan,
        number=number,
        effective_from=effective_from,
        member_cap=spec.member_cap if spec else None,
        cap_period=spec.cap_period if spec else None,
    )
    for position, rule in enumerate(rules):
        parse_rule(rule.kind.value, rule.params)
        await PlanRule.create(
            version=version,
            code=rule.code,
            kind=rule.kind,
            title=rule.title or rule.code,
            metric=rule.metric,
            period_kind=rule.period_kind,
            params=rule.params,
            position=position,
        )
    return version
