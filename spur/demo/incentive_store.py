"""Storing the demo's incentive plans: plans, versions, rules, audiences."""

from __future__ import annotations

from datetime import datetime

from spur.demo.incentives import PlanDef
from spur.engine.incentives import parse_rule
from spur.models import IncentivePlan, PlanAssignment, PlanRule, PlanVersion


async def store_plans(
    company_id: int,
    plans: tuple[PlanDef, ...],
    metric_ids: dict[str, int],
    author_id: int,
    now: datetime,
) -> None:
    """Insert the plans as `author_id` (HR) wrote them at `now`.

    Every rule's settings are checked as the API checks them first, so a
    mistake in the demo's data fails the fill instead of a later payment.
    """
    for plan in plans:
        for version in plan.versions:
            for rule in version.rules:
                parse_rule(rule.kind.value, rule.params)
    plan_ids = await _store_plan_rows(company_id, plans, now)
    version_ids = await _store_versions(plans, plan_ids, author_id, now)
    await PlanRule.bulk_create(
        [
            PlanRule(
                version_id=version_ids[plan.name, version.number],
                code=rule.code,
                kind=rule.kind,
                title=rule.title,
                titles=rule.titles,
                metric_id=metric_ids[rule.metric] if rule.metric else None,
                period_kind=rule.period_kind,
                params=rule.params,
                position=position,
            )
            for plan in plans
            for version in plan.versions
            for position, rule in enumerate(version.rules)
        ]
    )
    await PlanAssignment.bulk_create(
        [
            PlanAssignment(
                plan_id=plan_ids[plan.name],
                min_age=audience.min_age,
                max_age=audience.max_age,
                created_at=now,
            )
            for plan in plans
            for audience in plan.audiences
        ]
    )


async def _store_plan_rows(
    company_id: int, plans: tuple[PlanDef, ...], now: datetime
) -> dict[str, int]:
    await IncentivePlan.bulk_create(
        [
            IncentivePlan(
                company_id=company_id,
                name=plan.name,
                titles=plan.titles,
                description=plan.description,
                approval_threshold=plan.approval_threshold,
                budget=plan.budget,
                budget_period=plan.budget_period,
                created_at=now,
            )
            for plan in plans
        ]
    )
    stored = await IncentivePlan.filter(company_id=company_id).values_list("name", "id")
    return dict(stored)


async def _store_versions(
    plans: tuple[PlanDef, ...],
    plan_ids: dict[str, int],
    author_id: int,
    now: datetime,
) -> dict[tuple[str, int], int]:
    """Versions by (plan name, number)."""
    await PlanVersion.bulk_create(
        [
            PlanVersion(
                plan_id=plan_ids[plan.name],
                number=version.number,
                effective_from=version.effective_from,
                note=version.note,
                created_by_id=author_id,
                created_at=now,
            )
            for plan in plans
            for version in plan.versions
        ]
    )
    names = {plan_id: name for name, plan_id in plan_ids.items()}
    stored = await PlanVersion.filter(plan_id__in=list(plan_ids.values())).values_list(
        "plan_id", "number", "id"
    )
    return {(names[plan_id], number): i for plan_id, number, i in stored}
