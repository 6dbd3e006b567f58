"""Goals, their completion rewards and their stored progress per period."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from spur.engine.periods import PeriodKind
from spur.models.company import Company, Member, Team
from spur.models.fields import NO_TITLES, ScaledDecimalField
from spur.models.metric import MetricDefinition


class Goal(Model):
    """A target on a metric for a member or a team, per period of a kind.

    A goal applies to every period of its kind that starts inside
    `[active_from, active_until)`; an open end makes it recurring (every week,
    say). A child goal of a decomposition also carries the parent's bounds in
    `window_start`/`window_end`, so activity outside the parent's period does
    not count and the children add up to the parent exactly.
    """

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="goals", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="goals", null=True, on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="goals", null=True, on_delete=fields.CASCADE
    )
    metric: fields.ForeignKeyRelation[MetricDefinition] = fields.ForeignKeyField(
        "models.MetricDefinition", related_name="goals", on_delete=fields.RESTRICT
    )
    parent: fields.ForeignKeyNullableRelation[Goal] = fields.ForeignKeyField(
        "models.Goal", related_name="children", null=True, on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    # The title in other languages, by tag ("zh-CN", "en"); `title` otherwise.
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    period_kind = fields.CharEnumField(PeriodKind, max_length=8)
    target = ScaledDecimalField(scale=4)
    active_from = fields.DateField()
    active_until = fields.DateField(null=True)
    window_start = fields.DatetimeField(null=True)
    window_end = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    company_id: int
    member_id: int | None
    team_id: int | None
    metric_id: int
    parent_id: int | None

    class Meta:
        table = "goal"
        indexes = (("company_id", "metric_id"),)


class GoalReward(Model):
    """What completing a goal in one of its periods earns, once per period."""

    id = fields.IntField(primary_key=True)
    goal: fields.ForeignKeyRelation[Goal] = fields.ForeignKeyField(
        "models.Goal", related_name="rewards", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=24)
    title = fields.CharField(max_length=200)
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    amount = ScaledDecimalField(scale=4, null=True)
    quantity = ScaledDecimalField(scale=4, null=True)

    goal_id: int

    class Meta:
        table = "goal_reward"


class GoalProgress(Model):
    """A goal's running value in one period, changed only by atomic upserts."""

    id = fields.BigIntField(primary_key=True)
    goal: fields.ForeignKeyRelation[Goal] = fields.ForeignKeyField(
        "models.Goal", related_name="progress", on_delete=fields.CASCADE
    )
    period_start = fields.DateField()
    current = ScaledDecimalField(scale=4, default=0)
    target = ScaledDecimalField(scale=4)
    completed_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    goal_id: int

    class Meta:
        table = "goal_progress"
        unique_together = (("goal", "period_start"),)
