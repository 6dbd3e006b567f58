"""Refresh tokens: rotated on use, and a reused one revokes its family."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from spur.models.company import Member


class RefreshToken(Model):
    """One refresh token, stored only as its SHA-256 digest."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    family = fields.CharField(max_length=64, db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    issued_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "refresh_token"
