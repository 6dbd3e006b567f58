"""Metric definitions as data, and the stored totals they feed."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import PeriodKind
from spur.models.company import Company, Member, Team
from spur.models.fields import NO_TITLES, ScaledDecimalField


class MetricDefinition(Model):
    """What counts toward a metric: an activity kind, filters, an aggregation."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="metrics", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    # The name in other languages, by tag ("zh-CN", "en"); `name` otherwise.
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    unit = fields.CharField(max_length=32, default="")
    activity_kind = fields.CharEnumField(ActivityKind, max_length=24)
    aggregation = fields.CharEnumField(Aggregation, max_length=16)
    market = fields.CharField(max_length=16, null=True)
    product_category = fields.CharField(max_length=64, null=True)
    new_customer = fields.BooleanField(null=True)
    reply_within_minutes = fields.IntField(null=True)

    company_id: int

    class Meta:
        table = "metric_definition"
        unique_together = (("company", "key"),)


class MetricTotal(Model):
    """A member's or a team's running total of one metric in one period.

    Exactly one of `member` and `team` is set. Rows are only ever changed by
    an atomic `value = value + delta` upsert inside the activity's transaction.
    """

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="metric_totals", on_delete=fields.CASCADE
    )
    metric: fields.ForeignKeyRelation[MetricDefinition] = fields.ForeignKeyField(
        "models.MetricDefinition", related_name="totals", on_delete=fields.CASCADE
    )
    scope = fields.CharField(max_length=16)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="metric_totals",
        null=True,
        on_delete=fields.CASCADE,
    )
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team",
        related_name="metric_totals",
        null=True,
        on_delete=fields.CASCADE,
    )
    subject_id = fields.IntField()
    period_kind = fields.CharEnumField(PeriodKind, max_length=8)
    period_start = fields.DateField()
    value = ScaledDecimalField(scale=4, default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "metric_total"
        unique_together = (
            ("metric", "scope", "subject_id", "period_kind", "period_start"),
        )
