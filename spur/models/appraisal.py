"""Appraisals: templates of weighted dimensions, cycles, reviews and scores."""

from __future__ import annotations

import enum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from spur.engine.appraisal import AppraisalStatus, DimensionKind, Grade
from spur.engine.periods import PeriodKind
from spur.models.company import Company, Member
from spur.models.fields import NO_TITLES, ScaledDecimalField
from spur.models.metric import MetricDefinition


class CycleStatus(enum.StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class AppraisalTemplate(Model):
    """Weighted dimensions, grade bands and the pay an appraisal moves.

    `bands` holds [{minimum, grade, multiplier}] (decimals as strings). The
    performance bonus of a cycle is `bonus_base` × the grade's multiplier; a
    process score of at least `process_reward_min` earns
    `process_reward_amount` whatever the results.
    """

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="appraisal_templates", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    bands: list[dict[str, str]] = fields.JSONField(default=list)
    bonus_base = ScaledDecimalField(scale=4, null=True)
    process_reward_min = ScaledDecimalField(scale=4, null=True)
    process_reward_amount = ScaledDecimalField(scale=4, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    company_id: int

    class Meta:
        table = "appraisal_template"
        unique_together = (("company", "name"),)


class AppraisalDimension(Model):
    """One weighted dimension: a metric measured over the cycle, or rated.

    A metric dimension's value is the member's total of `metric` in the
    cycle, divided by the total of `per_metric` when set (a reply rate), by
    `divisor` when set (minutes to hours) and by the cycle's working days
    when `per_working_day`; `scale` maps it to 0–100. It does not apply when
    the division has nothing to divide by.
    """

    id = fields.IntField(primary_key=True)
    template: fields.ForeignKeyRelation[AppraisalTemplate] = fields.ForeignKeyField(
        "models.AppraisalTemplate", related_name="dimensions", on_delete=fields.CASCADE
    )
    code = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    kind = fields.CharEnumField(DimensionKind, max_length=8)
    weight = ScaledDecimalField(scale=4)
    metric: fields.ForeignKeyNullableRelation[MetricDefinition] = (
        fields.ForeignKeyField(
            "models.MetricDefinition",
            related_name="dimensions",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    per_metric: fields.ForeignKeyNullableRelation[MetricDefinition] = (
        fields.ForeignKeyField(
            "models.MetricDefinition",
            related_name="per_dimensions",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    divisor = ScaledDecimalField(scale=4, null=True)
    per_working_day = fields.BooleanField(default=False)
    scale: dict[str, Any] = fields.JSONField(default=dict)
    position = fields.IntField(default=0)

    template_id: int
    metric_id: int | None
    per_metric_id: int | None

    class Meta:
        table = "appraisal_dimension"
        unique_together = (("template", "code"),)


class AppraisalCycle(Model):
    """An appraisal round over one period for a set of members."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="appraisal_cycles", on_delete=fields.CASCADE
    )
    template: fields.ForeignKeyRelation[AppraisalTemplate] = fields.ForeignKeyField(
        "models.AppraisalTemplate", related_name="cycles", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=200)
    # The name in other languages, by tag ("zh-CN", "en"); `name` otherwise.
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    period_kind = fields.CharEnumField(PeriodKind, max_length=8)
    period_start = fields.DateField()
    status = fields.CharEnumField(CycleStatus, max_length=8, default=CycleStatus.OPEN)
    created_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="opened_cycles",
        null=True,
        on_delete=fields.SET_NULL,
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    company_id: int
    template_id: int

    class Meta:
        table = "appraisal_cycle"
        unique_together = (("company", "name"),)


class Appraisal(Model):
    """One member's appraisal in a cycle, in one version.

    A finalised version is never changed; a correction is a new version that
    names the one it `supersedes` and why. `is_current` marks the version in
    force for the member and cycle.
    """

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="appraisals", on_delete=fields.CASCADE
    )
    cycle: fields.ForeignKeyRelation[AppraisalCycle] = fields.ForeignKeyField(
        "models.AppraisalCycle", related_name="appraisals", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="appraisals", on_delete=fields.CASCADE
    )
    version = fields.IntField(default=1)
    is_current = fields.BooleanField(default=True)
    status = fields.CharEnumField(
        AppraisalStatus, max_length=16, default=AppraisalStatus.DRAFT
    )
    score = ScaledDecimalField(scale=4, null=True)
    process_score = ScaledDecimalField(scale=4, null=True)
    result_score = ScaledDecimalField(scale=4, null=True)
    grade = fields.CharEnumField(Grade, max_length=16, null=True)
    bonus_multiplier = ScaledDecimalField(scale=4, null=True)
    self_comment = fields.TextField(null=True)
    manager_comment = fields.TextField(null=True)
    reviewer: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="reviewed_appraisals",
        null=True,
        on_delete=fields.SET_NULL,
    )
    finalized_at = fields.DatetimeField(null=True)
    finalized_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="finalized_appraisals",
        null=True,
        on_delete=fields.SET_NULL,
    )
    supersedes: fields.ForeignKeyNullableRelation[Appraisal] = fields.ForeignKeyField(
        "models.Appraisal",
        related_name="corrections",
        null=True,
        on_delete=fields.RESTRICT,
    )
    correction_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    company_id: int
    cycle_id: int
    member_id: int
    reviewer_id: int | None
    supersedes_id: int | None

    class Meta:
        table = "appraisal"
        unique_together = (("cycle", "member", "version"),)
        indexes = (("member_id", "is_current"),)


class AppraisalScore(Model):
    """A dimension of one appraisal version: measured or rated, and its score.

    `self_score` is the member's own rating in self review; `score` is the
    one that counts (measured, or the manager's rating). `applies` false
    leaves the dimension out and the other weights renormalise.
    """

    id = fields.BigIntField(primary_key=True)
    appraisal: fields.ForeignKeyRelation[Appraisal] = fields.ForeignKeyField(
        "models.Appraisal", related_name="scores", on_delete=fields.CASCADE
    )
    dimension: fields.ForeignKeyRelation[AppraisalDimension] = fields.ForeignKeyField(
        "models.AppraisalDimension", related_name="scores", on_delete=fields.RESTRICT
    )
    value = ScaledDecimalField(scale=4, null=True)
    self_score = ScaledDecimalField(scale=4, null=True)
    score = ScaledDecimalField(scale=4, null=True)
    applies = fields.BooleanField(default=True)
    comment = fields.TextField(null=True)
    rated_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="rated_scores",
        null=True,
        on_delete=fields.SET_NULL,
    )

    appraisal_id: int
    dimension_id: int
    rated_by_id: int | None

    class Meta:
        table = "appraisal_score"
        unique_together = (("appraisal", "dimension"),)
