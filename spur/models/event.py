"""Achievement events: the outbox written in the activity's transaction."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model

from spur.models.company import Company, Member, Team
from spur.models.goal import Goal
from spur.models.ledger import LedgerEntry


class EventKind(enum.StrEnum):
    GOAL_COMPLETED = "GOAL_COMPLETED"
    MILESTONE_REACHED = "MILESTONE_REACHED"
    REWARD_EARNED = "REWARD_EARNED"
    RANK_CHANGED = "RANK_CHANGED"
    ORDER_CLOSED = "ORDER_CLOSED"
    APPRAISAL_FINALIZED = "APPRAISAL_FINALIZED"
    TEAM_BEST_OF_WEEK = "TEAM_BEST_OF_WEEK"
    # For a team's managers and HR only: never in the subject's own feed.
    MANAGER_ALERT = "MANAGER_ALERT"


class AchievementEvent(Model):
    """One event for a member (and their team's feed).

    Rows are inserted with `seq` unset. After commit the relay stamps `seq`
    from one increasing counter in commit order and publishes; clients resume
    by `seq`, so an event committed late can never slip behind a cursor.
    `dedupe_key` makes "once per goal period" a database fact.
    """

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="events", on_delete=fields.CASCADE
    )
    seq = fields.BigIntField(null=True, unique=True)
    kind = fields.CharEnumField(EventKind, max_length=24)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="events", on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    goal: fields.ForeignKeyNullableRelation[Goal] = fields.ForeignKeyField(
        "models.Goal", related_name="events", null=True, on_delete=fields.CASCADE
    )
    period_start = fields.DateField(null=True)
    ledger_entry: fields.ForeignKeyNullableRelation[LedgerEntry] = (
        fields.ForeignKeyField(
            "models.LedgerEntry",
            related_name="events",
            null=True,
            on_delete=fields.CASCADE,
        )
    )
    dedupe_key = fields.CharField(max_length=200)
    message = fields.TextField()
    team_message = fields.TextField()
    occurred_at = fields.DatetimeField()
    published_at = fields.DatetimeField(null=True)

    company_id: int
    member_id: int
    team_id: int | None
    goal_id: int | None
    ledger_entry_id: int | None

    class Meta:
        table = "achievement_event"
        unique_together = (("company", "dedupe_key"),)
        indexes = (("company_id", "seq"), ("member_id", "seq"), ("team_id", "seq"))
