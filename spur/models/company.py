"""The tenant and its people: companies, teams and members."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model


class Role(enum.StrEnum):
    SALESPERSON = "SALESPERSON"
    MANAGER = "MANAGER"
    HR_ADMIN = "HR_ADMIN"
    PARTNER = "PARTNER"


class IncentivePreference(enum.StrEnum):
    INSTANT_COMMISSION = "INSTANT_COMMISSION"
    GROWTH_TRAINING = "GROWTH_TRAINING"
    TEAM_HONOR = "TEAM_HONOR"
    LONG_TERM_BENEFITS = "LONG_TERM_BENEFITS"


class Company(Model):
    """A tenant: every other row belongs to exactly one company."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    timezone = fields.CharField(max_length=64, default="Asia/Shanghai")
    currency = fields.CharField(max_length=3, default="CNY")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "company"


class Team(Model):
    """A sales team, usually one per market."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="teams", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    market = fields.CharField(max_length=16, null=True)
    manager: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="managed_teams",
        null=True,
        on_delete=fields.SET_NULL,
    )

    company_id: int
    manager_id: int | None

    class Meta:
        table = "team"
        unique_together = (("company", "name"),)


class Member(Model):
    """A person who signs in: salesperson, manager, HR admin or partner app."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="members", on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=16)
    password_hash = fields.CharField(max_length=256)
    birth_date = fields.DateField(null=True)
    hire_date = fields.DateField(null=True)
    language = fields.CharField(max_length=8, default="zh-CN")
    incentive_preference = fields.CharEnumField(
        IncentivePreference, max_length=24, null=True
    )
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    company_id: int
    team_id: int | None

    class Meta:
        table = "member"
