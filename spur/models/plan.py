"""Incentive plans: versions of rules as data, and who each plan covers."""

from __future__ import annotations

import enum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from spur.engine.periods import PeriodKind
from spur.models.company import Company, IncentivePreference, Member, Team
from spur.models.fields import NO_TITLES, ScaledDecimalField
from spur.models.metric import MetricDefinition


class RuleKind(enum.StrEnum):
    GOAL_COMPLETION = "GOAL_COMPLETION"
    STEP = "STEP"
    COMMISSION = "COMMISSION"
    TARGET_BONUS = "TARGET_BONUS"
    TEAM_THRESHOLD = "TEAM_THRESHOLD"
    APPRAISAL_STREAK = "APPRAISAL_STREAK"


class IncentivePlan(Model):
    """A named set of incentive rules, changed only by adding versions.

    Cash entries above `approval_threshold` wait for a manager or HR admin.
    `budget` caps the cash the plan pays per `budget_period` (or over its whole
    life when that is null).
    """

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="plans", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    description = fields.TextField(default="")
    approval_threshold = ScaledDecimalField(scale=4, null=True)
    budget = ScaledDecimalField(scale=4, null=True)
    budget_period = fields.CharEnumField(PeriodKind, max_length=8, null=True)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    company_id: int

    class Meta:
        table = "incentive_plan"
        unique_together = (("company", "name"),)


class PlanVersion(Model):
    """The rules of a plan from a date, until a later version or its end.

    A version is never edited once saved; a change is a new version from a
    date, so nothing already earned changes.
    """

    id = fields.IntField(primary_key=True)
    plan: fields.ForeignKeyRelation[IncentivePlan] = fields.ForeignKeyField(
        "models.IncentivePlan", related_name="versions", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    effective_from = fields.DateField()
    effective_until = fields.DateField(null=True)
    member_cap = ScaledDecimalField(scale=4, null=True)
    cap_period = fields.CharEnumField(PeriodKind, max_length=8, null=True)
    note = fields.TextField(default="")
    created_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="plan_versions",
        null=True,
        on_delete=fields.SET_NULL,
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    plan_id: int
    created_by_id: int | None

    class Meta:
        table = "plan_version"
        unique_together = (("plan", "number"),)
        indexes = (("plan_id", "effective_from"),)


class PlanRule(Model):
    """One rule of a plan version, its settings as data.

    `code` names the rule across versions; `params` holds the kind's settings
    (decimals as strings), checked by `spur.engine.incentives.parse_rule`
    before they are saved.
    """

    id = fields.IntField(primary_key=True)
    version: fields.ForeignKeyRelation[PlanVersion] = fields.ForeignKeyField(
        "models.PlanVersion", related_name="rules", on_delete=fields.CASCADE
    )
    code = fields.CharField(max_length=64)
    kind = fields.CharEnumField(RuleKind, max_length=24)
    title = fields.CharField(max_length=200)
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    metric: fields.ForeignKeyNullableRelation[MetricDefinition] = (
        fields.ForeignKeyField(
            "models.MetricDefinition",
            related_name="rules",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    period_kind = fields.CharEnumField(PeriodKind, max_length=8, null=True)
    params: dict[str, Any] = fields.JSONField(default=dict)
    position = fields.IntField(default=0)

    version_id: int
    metric_id: int | None

    class Meta:
        table = "plan_rule"
        unique_together = (("version", "code"),)


class PlanAssignment(Model):
    """Who a plan covers: every set condition must hold (none set: everyone).

    Ages and tenure are in whole years and days on the activity's local date;
    a member without a birth or hire date matches no age or tenure condition.
    """

    id = fields.IntField(primary_key=True)
    plan: fields.ForeignKeyRelation[IncentivePlan] = fields.ForeignKeyField(
        "models.IncentivePlan", related_name="assignments", on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team",
        related_name="plan_assignments",
        null=True,
        on_delete=fields.CASCADE,
    )
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="plan_assignments",
        null=True,
        on_delete=fields.CASCADE,
    )
    min_age = fields.IntField(null=True)
    max_age = fields.IntField(null=True)
    min_tenure_days = fields.IntField(null=True)
    max_tenure_days = fields.IntField(null=True)
    preference = fields.CharEnumField(IncentivePreference, max_length=24, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    plan_id: int
    team_id: int | None
    member_id: int | None

    class Meta:
        table = "plan_assignment"


class RuleCounter(Model):
    """A running count that a rule keeps beyond the metric totals.

    A team's days of platform upkeep, a member's capped cash, a plan's spent
    budget: changed only by atomic upserts inside the activity's transaction.
    """

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="rule_counters", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=200)
    value = ScaledDecimalField(scale=4, default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    company_id: int

    class Meta:
        table = "rule_counter"
        unique_together = (("company", "key"),)
