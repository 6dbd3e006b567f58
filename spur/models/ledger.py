"""The reward ledger: append-only lines, each naming why it was written."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model

from spur.models.activity import Activity
from spur.models.appraisal import Appraisal
from spur.models.company import Company, Member
from spur.models.fields import NO_TITLES, ScaledDecimalField
from spur.models.goal import Goal
from spur.models.plan import PlanRule, PlanVersion


class RewardKind(enum.StrEnum):
    CASH = "CASH"
    COMMISSION = "COMMISSION"
    TRAINING = "TRAINING"
    LEAD_ALLOCATION = "LEAD_ALLOCATION"
    HONOR_TITLE = "HONOR_TITLE"
    PAID_LEAVE = "PAID_LEAVE"
    EQUITY = "EQUITY"
    PROMOTION = "PROMOTION"


CASH_KINDS = frozenset({RewardKind.CASH, RewardKind.COMMISSION})


class RewardStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    PAID = "PAID"
    REJECTED = "REJECTED"
    REVERSED = "REVERSED"


class EntryCause(enum.StrEnum):
    EARNED = "EARNED"
    VOID = "VOID"
    RERATE = "RERATE"
    APPRAISAL = "APPRAISAL"
    MANAGER_AWARD = "MANAGER_AWARD"


class LedgerEntry(Model):
    """One earned reward, cash or not.

    `key` is unique per company and built from what earned the entry (a goal
    reward and period today; a rule version, member, period and step once
    incentive plans exist), so the same cause can never pay twice. Amounts are
    rounded to the currency's minor unit once, here. A correction is a new
    entry that names the one it compensates in `reverses`; nothing is edited.
    """

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="ledger", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="ledger", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=200)
    kind = fields.CharEnumField(RewardKind, max_length=24)
    title = fields.CharField(max_length=200)
    # Copied from what earned it, so the line reads in each member's language.
    titles: dict[str, str] = fields.JSONField(default=dict, db_default=NO_TITLES)
    amount = ScaledDecimalField(scale=4, null=True)
    currency = fields.CharField(max_length=3, null=True)
    quantity = ScaledDecimalField(scale=4, null=True)
    status = fields.CharEnumField(RewardStatus, max_length=16)
    source_activity: fields.ForeignKeyNullableRelation[Activity] = (
        fields.ForeignKeyField(
            "models.Activity",
            related_name="ledger",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    goal: fields.ForeignKeyNullableRelation[Goal] = fields.ForeignKeyField(
        "models.Goal", related_name="ledger", null=True, on_delete=fields.RESTRICT
    )
    period_start = fields.DateField(null=True)
    rule_ref = fields.CharField(max_length=64)
    plan_version: fields.ForeignKeyNullableRelation[PlanVersion] = (
        fields.ForeignKeyField(
            "models.PlanVersion",
            related_name="entries",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    rule: fields.ForeignKeyNullableRelation[PlanRule] = fields.ForeignKeyField(
        "models.PlanRule", related_name="entries", null=True, on_delete=fields.RESTRICT
    )
    appraisal: fields.ForeignKeyNullableRelation[Appraisal] = fields.ForeignKeyField(
        "models.Appraisal", related_name="entries", null=True, on_delete=fields.RESTRICT
    )
    # Why the line exists: earned by a rule, compensating a void, a re-rating.
    cause = fields.CharEnumField(
        EntryCause, max_length=16, default=EntryCause.EARNED, db_default="EARNED"
    )
    inputs: dict[str, str] = fields.JSONField(default=dict)
    reverses: fields.ForeignKeyNullableRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry",
        related_name="reversals",
        null=True,
        on_delete=fields.RESTRICT,
    )
    earned_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    company_id: int
    member_id: int
    goal_id: int | None
    source_activity_id: int | None
    plan_version_id: int | None
    rule_id: int | None
    reverses_id: int | None
    appraisal_id: int | None

    class Meta:
        table = "ledger_entry"
        unique_together = (("company", "key"),)
        indexes = (("company_id", "member_id", "earned_at"),)


class StatusChange(Model):
    """Who moved a ledger entry from one status to another, when and why."""

    id = fields.BigIntField(primary_key=True)
    entry: fields.ForeignKeyRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="status_changes", on_delete=fields.CASCADE
    )
    from_status = fields.CharEnumField(RewardStatus, max_length=16)
    to_status = fields.CharEnumField(RewardStatus, max_length=16)
    actor: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="status_changes",
        null=True,
        on_delete=fields.SET_NULL,
    )
    reason = fields.TextField(default="")
    reference = fields.CharField(max_length=128, null=True)
    changed_at = fields.DatetimeField()

    entry_id: int
    actor_id: int | None

    class Meta:
        table = "ledger_status_change"
        indexes = (("entry_id", "changed_at"),)
