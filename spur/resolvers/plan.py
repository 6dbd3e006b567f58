"""Incentive plans as readers see them: lists, coverage, the version in force.

HR admins and managers read every plan of their company (managers approve
what any plan pays their teams, and a segment such as "aged 30 or under"
names no team, so "plans touching my teams" would need every member's
coverage). A salesperson reads the plans that cover them today. Partner apps
read none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

from spur.api.context import Context
from spur.engine import incentives as inc
from spur.models import IncentivePlan, Member, PlanAssignment, PlanVersion, Role

READERS = frozenset({Role.HR_ADMIN, Role.MANAGER})


def local_today(ctx: Context) -> date:
    """Today's date in the company's time zone."""
    return ctx.services.clock().astimezone(ctx.viewer.timezone).date()


async def list_plans(
    ctx: Context, active: bool | None, offset: int, limit: int
) -> list[IncentivePlan]:
    """A page of the company's plans by name (one extra row tells of more)."""
    query = IncentivePlan.filter(company_id=ctx.viewer.company_id)
    if active is not None:
        query = query.filter(is_active=active)
    plans = await query.order_by("name", "id").offset(offset).limit(limit + 1)
    for plan in plans:
        ctx.loaders.plan.prime(plan.id, plan)
    return list(plans)


async def plans_covering(ctx: Context, member_id: int) -> list[IncentivePlan]:
    """Active plans with a version in force today that cover the member today."""
    plans = await IncentivePlan.filter(
        company_id=ctx.viewer.company_id, is_active=True
    ).order_by("name", "id")
    for plan in plans:
        ctx.loaders.plan.prime(plan.id, plan)
    covered = await asyncio.gather(
        *(covers_today(ctx, plan, member_id) for plan in plans)
    )
    return [plan for plan, yes in zip(plans, covered, strict=True) if yes]


async def covers_today(ctx: Context, plan: IncentivePlan, member_id: int) -> bool:
    """Whether `plan` is active, in force and covers the member today.

    Batched: the plans' versions and assignments and the member come from
    the request's loaders, one query each however many plans are asked.
    """
    day = local_today(ctx)
    versions = await ctx.loaders.plan_versions.load(plan.id)
    assignments = await ctx.loaders.plan_assignments.load(plan.id)
    member = await ctx.loaders.member.load(member_id)
    if not plan.is_active or member is None or in_force(versions, day) is None:
        return False
    person = _person(member)
    return any(inc.covers(_audience(a), person, day) for a in assignments)


def in_force(versions: Sequence[PlanVersion], day: date) -> PlanVersion | None:
    """The version of a plan in force on `day`, if any."""
    spans = [
        inc.Span(v.id, v.number, v.effective_from, v.effective_until) for v in versions
    ]
    wanted = inc.version_in_force(spans, day)
    return next((v for v in versions if v.id == wanted), None)


async def current_version(ctx: Context, plan: IncentivePlan) -> PlanVersion | None:
    """The plan's version in force today in the company's time zone."""
    return in_force(await ctx.loaders.plan_versions.load(plan.id), local_today(ctx))


async def may_read(ctx: Context, plan: IncentivePlan | None) -> bool:
    """Whether the viewer may read this plan (see the module's docstring)."""
    viewer = ctx.viewer
    if plan is None or plan.company_id != viewer.company_id:
        return False
    if viewer.role in READERS:
        return True
    if viewer.role is Role.SALESPERSON:
        return await covers_today(ctx, plan, viewer.member_id)
    return False


async def readable_plans(
    ctx: Context, plans: Sequence[IncentivePlan | None]
) -> list[IncentivePlan | None]:
    """Each plan if the viewer may read it, else None; batched."""
    allowed = await asyncio.gather(*(may_read(ctx, plan) for plan in plans))
    return [plan if yes else None for plan, yes in zip(plans, allowed, strict=True)]


def _person(member: Member) -> inc.Person:
    preference = member.incentive_preference
    return inc.Person(
        member_id=member.id,
        team_id=member.team_id,
        birth_date=member.birth_date,
        hire_date=member.hire_date,
        preference=preference.value if preference else None,
    )


def _audience(assignment: PlanAssignment) -> inc.Audience:
    preference = assignment.preference
    return inc.Audience(
        team_id=assignment.team_id,
        member_id=assignment.member_id,
        min_age=assignment.min_age,
        max_age=assignment.max_age,
        min_tenure_days=assignment.min_tenure_days,
        max_tenure_days=assignment.max_tenure_days,
        preference=preference.value if preference else None,
    )
