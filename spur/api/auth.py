"""Passwords, access tokens and rotating refresh tokens.

Access tokens are short-lived HS256 JWTs checked without a database hit;
refresh tokens are opaque, stored only as SHA-256 digests, used once, and a
reused one revokes every token descended from the same sign-in (its family).
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import Unauthenticated
from spur.api.settings import Settings
from spur.models.auth import RefreshToken
from spur.models.company import Member, Role, Team

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud", "iss", "cid", "role")
LEEWAY_SECONDS = 10
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32
_ROLE_VALUES = frozenset(role.value for role in Role)
_YEAR_10000 = 253_402_300_800
MAX_EMAIL_LENGTH = 254  # Member.email, after RFC 5321

WRONG_CREDENTIALS = "Wrong e-mail or password."
INVALID_ACCESS = "The access token is not valid; sign in again."
EXPIRED_ACCESS = "The access token has expired; refresh it or sign in again."
SESSION_ENDED = "The session has ended; sign in again."

_hasher = PasswordHasher()


def hash_password(plain: str) -> str:
    """An argon2id hash of `plain`, with the library's current defaults."""
    return _hasher.hash(plain)


def verify_password(password_hash: str, plain: str) -> bool:
    """True if `plain` matches; False for a wrong password or a malformed hash."""
    try:
        return _hasher.verify(password_hash, plain)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    return _hasher.check_needs_rehash(password_hash)


def normalize_email(email: str) -> str:
    """The form e-mails are stored and looked up in: trimmed, lowercased."""
    return email.strip().lower()


@functools.cache
def _dummy_hash() -> str:
    # Verified against for unknown e-mails, so they cost as much as known ones.
    return hash_password(secrets.token_urlsafe(16))


def _digest(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _is_timestamp(value: object) -> bool:
    # Only whole seconds, as we issue them; bounds keep fromtimestamp() safe.
    return type(value) is int and 0 <= value < _YEAR_10000


def _is_id(value: object) -> bool:
    return type(value) is int and 0 < value < 2**63


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says about its bearer."""

    member_id: int
    company_id: int
    role: Role
    expires_at: datetime
    issued_at: datetime


class _Refusal(enum.Enum):
    """Why a refresh token was refused (logged; the client sees one message)."""

    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    REUSED = "reused"
    INACTIVE = "member inactive"


class TokenService:
    """Issues and checks access tokens, and rotates refresh tokens."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self._secret = str(settings.jwt_secret)
        if len(self._secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"The JWT secret must be at least {MIN_SECRET_BYTES} bytes"
            )
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._access_ttl = timedelta(seconds=settings.access_token_seconds)
        self._refresh_ttl = timedelta(seconds=settings.refresh_token_seconds)
        self._clock = clock

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    # Access tokens

    def issue_access(self, member: Member) -> tuple[str, datetime]:
        """A signed access token for `member` and the instant it expires."""
        issued_at = self._now().replace(microsecond=0)
        expires_at = issued_at + self._access_ttl
        claims = {
            "sub": str(member.id),
            "cid": member.company_id,
            "role": str(member.role),
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
            "aud": self._audience,
            "iss": self._issuer,
            "jti": secrets.token_hex(16),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires_at

    def decode_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token; `Unauthenticated` for anything else."""
        payload = self._verified_payload(token)
        self._check_times(payload)
        return self._claims_from(payload)

    def _verified_payload(self, token: str) -> dict[str, Any]:
        # Times are checked against our clock in _check_times, not the wall clock,
        # so a service running on an injected clock accepts its own tokens.
        options: Any = {
            "require": list(REQUIRED_CLAIMS),
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
        }
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options=options,
            )
        except jwt.PyJWTError as error:
            logger.info("access token refused: %s", type(error).__name__)
            raise Unauthenticated(INVALID_ACCESS) from None

    def _check_times(self, payload: Mapping[str, Any]) -> None:
        exp, iat, nbf = payload["exp"], payload["iat"], payload.get("nbf", 0)
        if not (_is_timestamp(exp) and _is_timestamp(iat) and _is_timestamp(nbf)):
            logger.info("access token refused: malformed time claim")
            raise Unauthenticated(INVALID_ACCESS)
        now = self._now().timestamp()
        if exp <= now - LEEWAY_SECONDS:
            raise Unauthenticated(EXPIRED_ACCESS)
        if iat > now + LEEWAY_SECONDS or nbf > now + LEEWAY_SECONDS:
            logger.info("access token refused: issued in the future")
            raise Unauthenticated(INVALID_ACCESS)

    def _claims_from(self, payload: Mapping[str, Any]) -> AccessClaims:
        sub, cid, role = payload["sub"], payload["cid"], payload["role"]
        valid = (
            isinstance(sub, str)
            and sub.isascii()
            and sub.isdigit()
            and len(sub) <= 18
            and _is_id(int(sub))
            and _is_id(cid)
            and isinstance(role, str)
            and role in _ROLE_VALUES
        )
        if not valid:
            logger.info("access token refused: malformed sub, cid or role")
            raise Unauthenticated(INVALID_ACCESS)
        return AccessClaims(
            member_id=int(sub),
            company_id=cid,
            role=Role(role),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            issued_at=datetime.fromtimestamp(payload["iat"], UTC),
        )

    # Refresh tokens

    async def issue_refresh(self, member: Member, family: str | None = None) -> str:
        """A new refresh token for `member`, in `family` or in a new one."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        await RefreshToken.create(
            member_id=member.id,
            family=family or uuid.uuid4().hex,
            token_hash=_digest(token),
            issued_at=now,
            expires_at=now + self._refresh_ttl,
        )
        return token

    async def rotate(self, refresh_token: str) -> tuple[Member, str]:
        """Spend a refresh token for its member and a new one in the same family.

        A token presented a second time means it was copied: the whole family
        is revoked. The revocation commits before `Unauthenticated` is raised.
        """
        async with in_transaction():
            outcome = await self._rotate_locked(_digest(refresh_token))
        if isinstance(outcome, _Refusal):
            logger.info("refresh token refused: %s", outcome.value)
            raise Unauthenticated(SESSION_ENDED)
        return outcome

    async def _rotate_locked(self, digest: str) -> tuple[Member, str] | _Refusal:
        row = await RefreshToken.filter(token_hash=digest).select_for_update().first()
        if row is None:
            return _Refusal.UNKNOWN
        now = self._now()
        if row.revoked_at is not None:
            return _Refusal.REVOKED
        if row.used_at is not None:
            # Checked before expiry: a spent token shown again means theft,
            # and its family may still hold a live descendant.
            return await self._revoke_family(row.family, now)
        if row.expires_at <= now:
            return _Refusal.EXPIRED

        member = await Member.get_or_none(id=row.member_id)
        if member is None or not member.is_active:
            return _Refusal.INACTIVE

        # The row lock already serialises rotations on PostgreSQL; the
        # conditional update is what makes a lost race visible everywhere.
        claimed = await RefreshToken.filter(
            id=row.id, used_at__isnull=True, revoked_at__isnull=True
        ).update(used_at=now)
        if claimed != 1:
            return await self._revoke_family(row.family, now)
        return member, await self.issue_refresh(member, family=row.family)

    async def _revoke_family(self, family: str, now: datetime) -> _Refusal:
        revoked = await RefreshToken.filter(
            family=family, revoked_at__isnull=True
        ).update(revoked_at=now)
        logger.warning(
            "refresh token presented twice; revoked %s of its family", revoked
        )
        return _Refusal.REUSED

    # Sign-in

    async def login(
        self, email: str, password: str
    ) -> tuple[Member, str, datetime, str]:
        """Member, access token, its expiry and a refresh token for valid credentials.

        Unknown e-mail, wrong password and inactive member look the same to the
        caller, in message and in time.
        """
        member = await _member_by_email(normalize_email(email))
        # Argon2 takes tens of milliseconds of CPU; keep the event loop free.
        password_hash = (
            member.password_hash if member else await asyncio.to_thread(_dummy_hash)
        )
        matches = await asyncio.to_thread(verify_password, password_hash, password)
        if member is None or not matches or not member.is_active:
            raise Unauthenticated(WRONG_CREDENTIALS)

        await self._upgrade_hash(member, password)
        access, expires_at = self.issue_access(member)
        return member, access, expires_at, await self.issue_refresh(member)

    async def _upgrade_hash(self, member: Member, password: str) -> None:
        if needs_rehash(member.password_hash):
            member.password_hash = await asyncio.to_thread(hash_password, password)
            await member.save(update_fields=["password_hash"])

    async def refresh(self, refresh_token: str) -> tuple[Member, str, datetime, str]:
        """Member, access token, its expiry and the next refresh token."""
        member, new_refresh = await self.rotate(refresh_token)
        access, expires_at = self.issue_access(member)
        return member, access, expires_at, new_refresh


async def _member_by_email(email: str) -> Member | None:
    # No member can have an e-mail the column cannot hold; looking one up
    # would fail in the database (PostgreSQL refuses NUL, Tortoise the length).
    if len(email) > MAX_EMAIL_LENGTH or "\x00" in email:
        return None
    return await Member.get_or_none(email=email)


async def load_viewer(claims: AccessClaims) -> Viewer:
    """The viewer a verified token stands for, as the database describes them now.

    Two queries: the member with their company, then the teams they manage.
    A member gone, deactivated, moved or given another role since the token
    was issued is refused.
    """
    member = await Member.get_or_none(
        id=claims.member_id, company_id=claims.company_id
    ).select_related("company")
    if member is None or not member.is_active or member.role != claims.role:
        logger.info("viewer refused for member %s", claims.member_id)
        raise Unauthenticated(SESSION_ENDED)

    managed = await Team.filter(manager_id=member.id).only("id")
    company = member.company
    return Viewer(
        member_id=member.id,
        company_id=member.company_id,
        role=member.role,
        team_id=member.team_id,
        managed_team_ids=frozenset(team.id for team in managed),
        language=member.language,
        timezone=ZoneInfo(company.timezone),
        currency=company.currency,
        token_expires_at=claims.expires_at.timestamp(),
    )


def bearer_token(header_value: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if not header_value:
        return None
    parts = header_value.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]
