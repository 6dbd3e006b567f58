"""Sales activity as it arrives: recorded once per company, source and id."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from spur.engine.metrics import ActivityKind
from spur.models.company import Company, Member
from spur.models.fields import ScaledDecimalField


class Activity(Model):
    """One thing a salesperson did, at the time it happened (`occurred_at`)."""

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="activities", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="activities", on_delete=fields.CASCADE
    )
    recorded_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="recorded_activities",
        null=True,
        on_delete=fields.SET_NULL,
    )
    kind = fields.CharEnumField(ActivityKind, max_length=24)
    occurred_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField(auto_now_add=True)
    source = fields.CharField(max_length=64)
    external_id = fields.CharField(max_length=128)
    quantity = ScaledDecimalField(scale=4)
    amount = ScaledDecimalField(scale=4, null=True)
    currency = fields.CharField(max_length=3, null=True)
    amount_company = ScaledDecimalField(scale=4, null=True)
    exchange_rate = ScaledDecimalField(scale=8, null=True)
    market = fields.CharField(max_length=16, null=True)
    product_category = fields.CharField(max_length=64, null=True)
    customer_ref = fields.CharField(max_length=128, null=True)
    new_customer = fields.BooleanField(null=True)
    response_minutes = fields.IntField(null=True)
    rating = ScaledDecimalField(scale=4, null=True)
    # A voided activity stays, with compensating ledger entries; its totals
    # are taken back out in the same transaction.
    voided_at = fields.DatetimeField(null=True)
    voided_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="voided_activities",
        null=True,
        on_delete=fields.SET_NULL,
    )
    void_reason = fields.TextField(null=True)

    company_id: int
    member_id: int

    class Meta:
        table = "activity"
        unique_together = (("company", "source", "external_id"),)
        indexes = (("company_id", "member_id", "occurred_at"),)


class ExchangeRate(Model):
    """Units of the company currency for one unit of `currency`, on a date."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="exchange_rates", on_delete=fields.CASCADE
    )
    currency = fields.CharField(max_length=3)
    on_date = fields.DateField()
    rate = ScaledDecimalField(scale=8)

    company_id: int

    class Meta:
        table = "exchange_rate"
        unique_together = (("company", "currency", "on_date"),)
