"""Leaderboards: each member's stored score on a board, and the count tree.

A board is one metric over one period (kind and start) in one scope: the
whole company, a team, or a segment of the company (an age band or a
market); `spur.engine.ranking` names the scopes. Both tables are changed
only inside the transaction that records or voids an activity.

Reading a board walks `leaderboard_score_board` (created by migration 0005
as `value DESC, reached_at`, which Tortoise cannot declare), so the top of
a board is an index range read. A member's rank is `1 + (scores above)`,
answered from `LeaderboardNode` counts in a bounded number of index reads
whatever the board's size; see `spur.engine.ranking.sibling_ranges`.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from spur.engine.periods import PeriodKind
from spur.models.company import Company, Member
from spur.models.fields import ScaledDecimalField
from spur.models.metric import MetricDefinition


class LeaderboardScore(Model):
    """One member's value on one board, and when it reached that value.

    `reached_at` is the first tie-breaker (earlier ranks first among equal
    values), so it changes whenever the value does.
    """

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="leaderboard_scores", on_delete=fields.CASCADE
    )
    metric: fields.ForeignKeyRelation[MetricDefinition] = fields.ForeignKeyField(
        "models.MetricDefinition",
        related_name="leaderboard_scores",
        on_delete=fields.CASCADE,
    )
    period_kind = fields.CharEnumField(PeriodKind, max_length=8)
    period_start = fields.DateField()
    scope_key = fields.CharField(max_length=48)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="leaderboard_scores", on_delete=fields.CASCADE
    )
    value = ScaledDecimalField(scale=4, default=0)
    reached_at = fields.DatetimeField()

    company_id: int
    metric_id: int
    member_id: int

    class Meta:
        table = "leaderboard_score"
        unique_together = (
            ("metric", "period_kind", "period_start", "scope_key", "member"),
        )
        indexes = (("member_id", "metric_id", "period_kind", "scope_key"),)


class LeaderboardNode(Model):
    """How many scores on a board share a prefix of their (offset) value.

    Level 1 holds the value's first hex digit, the last level the whole
    value; `count` is how many members' scores start with `prefix`.
    """

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="leaderboard_nodes", on_delete=fields.CASCADE
    )
    metric: fields.ForeignKeyRelation[MetricDefinition] = fields.ForeignKeyField(
        "models.MetricDefinition",
        related_name="leaderboard_nodes",
        on_delete=fields.CASCADE,
    )
    period_kind = fields.CharEnumField(PeriodKind, max_length=8)
    period_start = fields.DateField()
    scope_key = fields.CharField(max_length=48)
    level = fields.SmallIntField()
    prefix = fields.BigIntField()
    count = fields.IntField(default=0)

    company_id: int
    metric_id: int

    class Meta:
        table = "leaderboard_node"
        unique_together = (
            ("metric", "period_kind", "period_start", "scope_key", "level", "prefix"),
        )
