"""The incentive rules in force: which plans cover whom, on which date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine.incentives import (
    Audience,
    Person,
    RuleParams,
    Span,
    covers,
    parse_rule,
    version_in_force,
)
from spur.models import (
    IncentivePlan,
    Member,
    PlanAssignment,
    PlanRule,
    PlanVersion,
)

_Row = TypeVar("_Row", PlanVersion, PlanRule)


@dataclass(frozen=True)
class RuleInForce:
    """One rule of the version of a plan in force, with its parsed settings."""

    plan: IncentivePlan
    version: PlanVersion
    rule: PlanRule
    params: RuleParams


@dataclass(frozen=True)
class RuleBook:
    """A company's active plans with all their versions, rules and audiences.

    Loaded in four queries; `rules_for` then answers for any member and date
    without touching the database, which is what re-rating a range needs.
    """

    plans: list[IncentivePlan]
    versions: dict[int, list[PlanVersion]]
    rules: dict[int, list[PlanRule]]
    audiences: dict[int, list[Audience]]

    def rules_for(self, person: Person, day: date) -> list[RuleInForce]:
        """Every rule in force on `day` in the plans that cover `person`."""
        found: list[RuleInForce] = []
        for plan in self.plans:
            if not any(covers(a, person, day) for a in self.audiences[plan.id]):
                continue
            version = self.version_on(plan.id, day)
            if version is None:
                continue
            found += [
                RuleInForce(plan, version, rule, parse_rule(rule.kind, rule.params))
                for rule in self.rules[version.id]
            ]
        return found

    def version_on(self, plan_id: int, day: date) -> PlanVersion | None:
        versions = self.versions[plan_id]
        spans = [
            Span(v.id, v.number, v.effective_from, v.effective_until) for v in versions
        ]
        chosen = version_in_force(spans, day)
        return next((v for v in versions if v.id == chosen), None)

    def with_version(self, version: PlanVersion, rules: list[PlanRule]) -> RuleBook:
        """This book with one more (unsaved) version, for previews."""
        versions = {k: list(v) for k, v in self.versions.items()}
        versions.setdefault(version.plan_id, []).append(version)
        return RuleBook(
            self.plans, versions, {**self.rules, version.id: rules}, self.audiences
        )


async def load_rulebook(
    conn: BaseDBAsyncClient, company_id: int, *, plan_ids: list[int] | None = None
) -> RuleBook:
    """The company's active plans (or only `plan_ids`) as a RuleBook."""
    query = IncentivePlan.filter(company_id=company_id, is_active=True)
    if plan_ids is not None:
        query = query.filter(id__in=plan_ids)
    plans = await query.order_by("id").using_db(conn)
    ids = [p.id for p in plans]
    versions = await PlanVersion.filter(plan_id__in=ids).using_db(conn)
    rules = (
        await PlanRule.filter(version_id__in=[v.id for v in versions])
        .order_by("position", "id")
        .using_db(conn)
    )
    assignments = await PlanAssignment.filter(plan_id__in=ids).using_db(conn)
    return RuleBook(
        plans,
        _group(versions, lambda v: v.plan_id, ids),
        _group(rules, lambda r: r.version_id, [v.id for v in versions]),
        _audiences(assignments, ids),
    )


def _group(
    rows: list[_Row], key: Callable[[_Row], int], ids: list[int]
) -> dict[int, list[_Row]]:
    grouped: dict[int, list[_Row]] = {i: [] for i in ids}
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def _audiences(
    assignments: list[PlanAssignment], ids: list[int]
) -> dict[int, list[Audience]]:
    found: dict[int, list[Audience]] = defaultdict(list)
    for plan_id in ids:
        found[plan_id] = []
    for a in assignments:
        found[a.plan_id].append(
            Audience(
                team_id=a.team_id,
                member_id=a.member_id,
                min_age=a.min_age,
                max_age=a.max_age,
                min_tenure_days=a.min_tenure_days,
                max_tenure_days=a.max_tenure_days,
                preference=a.preference.value if a.preference else None,
            )
        )
    return found


def person_of(member: Member) -> Person:
    """The facts about a member that plan audiences test."""
    preference = member.incentive_preference
    return Person(
        member_id=member.id,
        team_id=member.team_id,
        birth_date=member.birth_date,
        hire_date=member.hire_date,
        preference=preference.value if preference else None,
    )
