"""Manager alerts and preference surveys: what insight stores."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model

from spur.engine.alerts import AlertRule
from spur.engine.periods import PeriodKind
from spur.models.company import Company, Member, Team
from spur.models.fields import ScaledDecimalField
from spur.models.goal import Goal
from spur.models.ledger import LedgerEntry


class AlertStatus(enum.StrEnum):
    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    DISMISSED = "DISMISSED"


class ManagerAlert(Model):
    """A condition a rule found in a team, for its manager to act on.

    `key` (rule, subject, period) is unique per company, so a condition is
    raised once however often it is evaluated. `member` is the subject, or
    null for a team-level alert. Accepting moves OPEN to ACCEPTED by a
    conditional UPDATE and writes at most one ledger entry (`ledger_entry`,
    under the key `alert:{id}`); dismissing writes none.
    """

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="alerts", on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="alerts", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="alerts", null=True, on_delete=fields.CASCADE
    )
    goal: fields.ForeignKeyNullableRelation[Goal] = fields.ForeignKeyField(
        "models.Goal", related_name="alerts", null=True, on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=200)
    rule = fields.CharEnumField(AlertRule, max_length=24)
    status = fields.CharEnumField(AlertStatus, max_length=16, default=AlertStatus.OPEN)
    period_kind = fields.CharEnumField(PeriodKind, max_length=8)
    period_start = fields.DateField()
    value = ScaledDecimalField(scale=4)
    baseline = ScaledDecimalField(scale=4)
    suggested_amount = ScaledDecimalField(scale=4, null=True)
    currency = fields.CharField(max_length=3, null=True)
    facts: dict[str, str] = fields.JSONField(default=dict)
    message = fields.TextField()
    raised_at = fields.DatetimeField()
    decided_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="decided_alerts",
        null=True,
        on_delete=fields.SET_NULL,
    )
    decided_at = fields.DatetimeField(null=True)
    reason = fields.TextField(default="")
    ledger_entry: fields.ForeignKeyNullableRelation[LedgerEntry] = (
        fields.ForeignKeyField(
            "models.LedgerEntry",
            related_name="alerts",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )

    company_id: int
    team_id: int
    member_id: int | None
    goal_id: int | None
    decided_by_id: int | None
    ledger_entry_id: int | None

    class Meta:
        table = "manager_alert"
        unique_together = (("company", "key"),)
        indexes = (("company_id", "team_id", "status"),)


class PreferenceSurvey(Model):
    """An answer of a member to the preference survey, the latest counting.

    `ranking` lists one to four `IncentivePreference` values, the favourite
    first; answering again adds a row, so earlier answers stay on record.
    """

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="preference_surveys", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="preference_surveys", on_delete=fields.CASCADE
    )
    ranking: list[str] = fields.JSONField(default=list)
    answered_on = fields.DateField()
    submitted_at = fields.DatetimeField()

    company_id: int
    member_id: int

    class Meta:
        table = "preference_survey"
        indexes = (("member_id", "submitted_at"),)
