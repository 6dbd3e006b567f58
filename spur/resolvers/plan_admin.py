"""Shaping incentive plans: create, change settings, schedule versions, assign.

Each write checks everything first, then changes the database in one
transaction, so a refused request leaves nothing behind. The fields'
permission classes keep every role but HR admins out; rows are always looked
up within the viewer's company, so another company's ids are NOT_FOUND.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import Conflict, NotFound
from spur.engine.periods import PeriodKind
from spur.models import (
    IncentivePlan,
    Member,
    MetricDefinition,
    PlanAssignment,
    PlanRule,
    PlanVersion,
    Team,
)
from spur.resolvers.plan_input import (
    AudienceSpec,
    CheckedRule,
    Metrics,
    PlanSpec,
    VersionSpec,
    check_audience,
    check_budget,
    check_money,
    check_name,
    check_plan,
    check_text,
    check_titles,
    check_version,
)

logger = logging.getLogger(__name__)
NAME_TAKEN = "A plan of this company already has that name."


async def create_plan(viewer: Viewer, spec: PlanSpec, now: datetime) -> IncentivePlan:
    """A new plan with its first version (number 1) and that version's rules."""
    titles = check_plan(spec, viewer.currency)
    today = now.astimezone(viewer.timezone).date()
    metrics = await company_metrics(viewer.company_id)
    rules = check_version(
        spec.first_version, today, viewer.currency, metrics, "firstVersion."
    )
    await _check_name_free(viewer.company_id, spec.name.strip())

    plan = IncentivePlan(
        company_id=viewer.company_id,
        name=spec.name.strip(),
        titles=titles,
        description=spec.description.strip(),
        approval_threshold=spec.approval_threshold,
        budget=spec.budget,
        budget_period=spec.budget_period,
    )
    try:
        async with in_transaction() as conn:
            await plan.save(using_db=conn)
            await _save_version(conn, plan, 1, spec.first_version, rules, viewer)
    except IntegrityError as error:  # the same name saved meanwhile
        raise Conflict(NAME_TAKEN, field="name") from error

    logger.info("plan %s created by member %s", plan.id, viewer.member_id)
    return plan


async def update_plan(
    viewer: Viewer, plan_id: int, changes: dict[str, Any]
) -> IncentivePlan:
    """Plan-level settings only; rules change through a new version.

    `changes` holds only the settings the client sent (null clears a
    threshold, budget or budget period).
    """
    plan = await company_plan(viewer, plan_id, "id")
    checked = _checked_changes(plan, changes, viewer.currency)
    if "name" in checked and checked["name"] != plan.name:
        await _check_name_free(viewer.company_id, checked["name"])

    if not checked:
        return plan
    plan.update_from_dict(checked)
    try:
        async with in_transaction() as conn:
            await plan.save(using_db=conn, update_fields=list(checked))
    except IntegrityError as error:
        raise Conflict(NAME_TAKEN, field="name") from error

    logger.info("plan %s settings %s changed", plan.id, sorted(checked))
    return plan


def _checked_changes(
    plan: IncentivePlan, changes: dict[str, Any], currency: str
) -> dict[str, Any]:
    checked = dict(changes)
    if "name" in checked:
        checked["name"] = check_name(checked["name"])
    if "titles" in checked:
        checked["titles"] = check_titles(checked["titles"], "titles")
    if "description" in checked:
        checked["description"] = check_text(checked["description"], "description")
    threshold = checked.get("approval_threshold")
    check_money(threshold, currency, "approvalThreshold", zero=True)
    # The budget and its period are checked as they will be after the change;
    # clearing the budget clears its period unless one was sent.
    budget = checked.get("budget", plan.budget)
    if "budget" in checked and budget is None:
        checked.setdefault("budget_period", None)
    period: PeriodKind | None = checked.get("budget_period", plan.budget_period)
    check_budget(budget, period, currency)
    return checked


async def add_version(
    viewer: Viewer, plan_id: int, spec: VersionSpec, now: datetime
) -> PlanVersion:
    """Schedule a rule change: the next version number, from a date not past.

    A version starting on the same day as another is a CONFLICT: which of the
    two was meant to hold that day would be a guess.
    """
    plan = await company_plan(viewer, plan_id, "planId")
    today = now.astimezone(viewer.timezone).date()
    metrics = await company_metrics(viewer.company_id)
    rules = check_version(spec, today, viewer.currency, metrics)

    try:
        async with in_transaction() as conn:
            # Locked, so two changes at once are numbered one after the other.
            await _lock(conn, plan)
            number = await _next_number(conn, plan, spec)
            version = await _save_version(conn, plan, number, spec, rules, viewer)
    except IntegrityError as error:  # numbered by a concurrent change
        raise Conflict("The plan changed meanwhile; try again.") from error

    logger.info("plan %s version %s scheduled", plan.id, version.number)
    return version


async def _next_number(
    conn: BaseDBAsyncClient, plan: IncentivePlan, spec: VersionSpec
) -> int:
    existing = await PlanVersion.filter(plan_id=plan.id).using_db(conn)
    if any(v.effective_from == spec.effective_from for v in existing):
        raise Conflict(
            f"A version of this plan already starts on {spec.effective_from}.",
            field="effectiveFrom",
        )
    return max((v.number for v in existing), default=0) + 1


async def _save_version(
    conn: BaseDBAsyncClient,
    plan: IncentivePlan,
    number: int,
    spec: VersionSpec,
    rules: Sequence[CheckedRule],
    viewer: Viewer,
) -> PlanVersion:
    version = await PlanVersion.create(
        using_db=conn,
        plan_id=plan.id,
        number=number,
        effective_from=spec.effective_from,
        effective_until=spec.effective_until,
        member_cap=spec.member_cap,
        cap_period=spec.cap_period,
        note=spec.note.strip(),
        created_by_id=viewer.member_id,
    )
    for rule in rules:
        await PlanRule.create(using_db=conn, **_rule_row(version, rule))
    return version


def _rule_row(version: PlanVersion, rule: CheckedRule) -> dict[str, Any]:
    spec = rule.spec
    return {
        "version_id": version.id,
        "code": spec.code,
        "kind": spec.kind,
        "title": rule.title,
        "titles": rule.titles,
        "metric_id": rule.metric_id,
        "period_kind": spec.period_kind,
        "params": spec.params,
        "position": rule.position,
    }


async def assign_plan(
    viewer: Viewer, plan_id: int, audience: AudienceSpec
) -> PlanAssignment:
    """Cover a team, a member or a segment (every condition set must hold)."""
    plan = await company_plan(viewer, plan_id, "planId")
    check_audience(audience)
    await _check_subjects(viewer, audience)

    row = {"plan_id": plan.id, **asdict(audience)}
    async with in_transaction() as conn:
        # Locked, so the same assignment sent twice at once is made once.
        await _lock(conn, plan)
        if await PlanAssignment.filter(**row).using_db(conn).exists():
            raise Conflict("The plan already has this assignment.")
        assignment = await PlanAssignment.create(using_db=conn, **row)

    logger.info("plan %s assignment %s added", plan.id, assignment.id)
    return assignment


async def _check_subjects(viewer: Viewer, audience: AudienceSpec) -> None:
    if audience.team_id is not None and not await Team.exists(
        id=audience.team_id, company_id=viewer.company_id
    ):
        raise NotFound("No such team.", field="teamId")
    if audience.member_id is not None and not await Member.exists(
        id=audience.member_id, company_id=viewer.company_id, is_active=True
    ):
        raise NotFound("No such member.", field="memberId")


async def remove_assignment(viewer: Viewer, assignment_id: int) -> PlanAssignment:
    """Stop covering an assignment's people; entries already made stay."""
    assignment = await PlanAssignment.get_or_none(
        id=assignment_id, plan__company_id=viewer.company_id
    )
    if assignment is None:
        raise NotFound("No such plan assignment.", field="id")

    async with in_transaction() as conn:
        await assignment.delete(using_db=conn)

    logger.info("plan %s assignment %s removed", assignment.plan_id, assignment_id)
    return assignment


async def _lock(conn: BaseDBAsyncClient, plan: IncentivePlan) -> None:
    """Hold the plan's row until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway)."""
    await IncentivePlan.filter(id=plan.id).select_for_update().using_db(conn).get()


async def company_plan(viewer: Viewer, plan_id: int, field: str) -> IncentivePlan:
    """A plan of the viewer's company; NOT_FOUND for any other id."""
    plan = await IncentivePlan.get_or_none(id=plan_id, company_id=viewer.company_id)
    if plan is None:
        raise NotFound("No such incentive plan.", field=field)
    return plan


async def company_metrics(company_id: int) -> Metrics:
    """The company's metric definitions by key."""
    return {m.key: m for m in await MetricDefinition.filter(company_id=company_id)}


async def _check_name_free(company_id: int, name: str) -> None:
    if await IncentivePlan.exists(company_id=company_id, name=name):
        raise Conflict(NAME_TAKEN, field="name")
