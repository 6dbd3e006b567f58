"""Passwords, access tokens and refresh-token rotation against a real SQLite file."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from starlette.datastructures import Secret
from tortoise import Tortoise

from spur.api import auth
from spur.api.auth import (
    REQUIRED_CLAIMS,
    WRONG_CREDENTIALS,
    AccessClaims,
    TokenService,
    bearer_token,
    hash_password,
    load_viewer,
    verify_password,
)
from spur.api.errors import Unauthenticated
from spur.api.settings import Settings, load_settings
from spur.models.auth import RefreshToken
from spur.models.company import Company, Member, Role, Team
from spur.models.config import tortoise_config
from spur.models.database import migrate_database

SECRET = "test-secret-" + "x" * 52  # 64 bytes: long enough for HS512 too
PASSWORD = "correct horse battery staple"
START = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_settings(**changes: Any) -> Settings:
    # Built from the loader so settings added later need no change here.
    base = load_settings(env_file=None).with_overrides(
        jwt_secret=Secret(SECRET),
        jwt_issuer="spur",
        jwt_audience="spur-api",
        access_token_seconds=900,
        refresh_token_seconds=3600,
    )
    return base.with_overrides(**changes)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[None]:
    # generate_schemas() cannot order Team and Member (each refers to the
    # other); the project's migrations can.
    url = f"sqlite://{tmp_path / 't.sqlite3'}"
    await migrate_database(url)
    await Tortoise.init(config=tortoise_config(url))
    yield
    await Tortoise.close_connections()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> TokenService:
    return TokenService(make_settings(), clock)


@pytest.fixture
async def company(db: None) -> Company:
    return await Company.create(name="Acme Apparel", timezone="Asia/Shanghai")


@pytest.fixture
async def member(company: Company) -> Member:
    return await Member.create(
        company=company,
        email="ana@example.com",
        name="Ana",
        role=Role.SALESPERSON,
        password_hash=hash_password(PASSWORD),
    )


def encode(payload: dict[str, Any], alg: str = "HS256") -> str:
    return jwt.encode(payload, SECRET, algorithm=alg)


def claims_of(service: TokenService, member: Member) -> dict[str, Any]:
    token, _ = service.issue_access(member)
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Passwords


def test_hash_and_verify_password() -> None:
    hashed = hash_password(PASSWORD)

    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "!")
    assert not verify_password("not-a-hash", PASSWORD)


def test_short_secret_is_refused(clock: Clock) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenService(make_settings(jwt_secret=Secret("short")), clock)


# Access tokens


async def test_issued_access_token_decodes(
    service: TokenService, member: Member, clock: Clock
) -> None:
    token, expires_at = service.issue_access(member)

    claims = service.decode_access(token)

    assert claims == AccessClaims(
        member_id=member.id,
        company_id=member.company_id,
        role=Role.SALESPERSON,
        expires_at=START + timedelta(seconds=900),
        issued_at=START,
    )
    assert expires_at == claims.expires_at


async def test_every_token_has_its_own_jti(
    service: TokenService, member: Member
) -> None:
    assert claims_of(service, member)["jti"] != claims_of(service, member)["jti"]


async def test_expired_access_token_is_refused(
    service: TokenService, member: Member, clock: Clock
) -> None:
    token, _ = service.issue_access(member)
    clock.advance(900 + auth.LEEWAY_SECONDS - 1)
    service.decode_access(token)  # still inside the leeway

    clock.advance(2)

    with pytest.raises(Unauthenticated, match="expired"):
        service.decode_access(token)


async def test_token_from_the_future_is_refused(
    service: TokenService, member: Member, clock: Clock
) -> None:
    token, _ = service.issue_access(member)
    clock.advance(-60)

    with pytest.raises(Unauthenticated):
        service.decode_access(token)


async def test_token_signed_with_another_secret_is_refused(
    service: TokenService, member: Member, clock: Clock
) -> None:
    other = TokenService(make_settings(jwt_secret=Secret("y" * 64)), clock)
    token, _ = other.issue_access(member)

    with pytest.raises(Unauthenticated) as caught:
        service.decode_access(token)

    assert SECRET not in str(caught.value)
    assert SECRET not in repr(vars(caught.value))


async def test_alg_none_token_is_refused(service: TokenService, member: Member) -> None:
    payload = claims_of(service, member)
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."

    with pytest.raises(Unauthenticated):
        service.decode_access(token)


async def test_hs512_token_is_refused(service: TokenService, member: Member) -> None:
    token = encode(claims_of(service, member), alg="HS512")

    with pytest.raises(Unauthenticated):
        service.decode_access(token)


async def test_rs256_token_is_refused(service: TokenService, member: Member) -> None:
    # cryptography is not installed, so the signature is filler: the point is
    # that the header's algorithm alone gets the token refused.
    payload = claims_of(service, member)
    token = f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(payload)}.{'A' * 342}"

    with pytest.raises(Unauthenticated):
        service.decode_access(token)


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
async def test_token_missing_a_required_claim_is_refused(
    service: TokenService, member: Member, claim: str
) -> None:
    payload = claims_of(service, member)
    del payload[claim]

    with pytest.raises(Unauthenticated):
        service.decode_access(encode(payload))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("aud", "another-api"),
        ("iss", "someone-else"),
        ("role", "ROOT"),
        ("role", 1),
        ("sub", "abc"),
        ("sub", "1.5"),
        ("sub", " 1"),
        ("cid", "1"),
        ("cid", True),
        ("sub", "0"),
        ("sub", "9" * 5000),
        ("cid", 1.0),
        ("cid", -1),
        ("exp", "tomorrow"),
        ("exp", 1.8e9),
        ("exp", 10**30),
        ("iat", -5),
    ],
)
async def test_token_with_a_bad_claim_is_refused(
    service: TokenService, member: Member, claim: str, value: object
) -> None:
    payload = claims_of(service, member) | {claim: value}

    with pytest.raises(Unauthenticated):
        service.decode_access(encode(payload))


async def test_token_for_another_audience_or_issuer_is_refused(
    service: TokenService, member: Member, clock: Clock
) -> None:
    for changes in ({"jwt_audience": "other-api"}, {"jwt_issuer": "other"}):
        other = TokenService(make_settings(**changes), clock)
        token, _ = other.issue_access(member)

        with pytest.raises(Unauthenticated):
            service.decode_access(token)


def test_garbage_token_is_refused(service: TokenService) -> None:
    for token in ("", "abc", "a.b.c"):
        with pytest.raises(Unauthenticated):
            service.decode_access(token)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("BEARER   abc ", "abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Basic abc", None),
        ("Bearer a b", None),
        ("abc", None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


# Sign-in


async def test_login_issues_tokens(service: TokenService, member: Member) -> None:
    signed_in, access, expires_at, refresh = await service.login(
        "  Ana@Example.COM ", PASSWORD
    )

    assert signed_in.id == member.id
    assert service.decode_access(access).member_id == member.id
    assert expires_at == START + timedelta(seconds=900)
    assert await RefreshToken.filter(member_id=member.id).count() == 1
    assert refresh not in {row.token_hash for row in await RefreshToken.all()}


@pytest.mark.parametrize(
    ("email", "password"),
    [("ana@example.com", "wrong"), ("nobody@example.com", PASSWORD)],
)
async def test_login_refusals_look_alike(
    service: TokenService,
    member: Member,
    monkeypatch: pytest.MonkeyPatch,
    email: str,
    password: str,
) -> None:
    verified: list[str] = []

    def spy(password_hash: str, plain: str) -> bool:
        verified.append(plain)
        return verify_password(password_hash, plain)

    monkeypatch.setattr(auth, "verify_password", spy)

    with pytest.raises(Unauthenticated) as caught:
        await service.login(email, password)

    assert caught.value.message == WRONG_CREDENTIALS
    assert verified == [password]  # an unknown e-mail costs a hash check too


async def test_inactive_member_cannot_login(
    service: TokenService, member: Member
) -> None:
    member.is_active = False
    await member.save()

    with pytest.raises(Unauthenticated, match=WRONG_CREDENTIALS):
        await service.login(member.email, PASSWORD)


# Refresh tokens


async def test_refresh_rotates_the_token(service: TokenService, member: Member) -> None:
    *_, first = await service.login(member.email, PASSWORD)

    refreshed, access, _, second = await service.refresh(first)

    assert refreshed.id == member.id
    assert second != first
    assert service.decode_access(access).member_id == member.id
    families = await RefreshToken.all().values_list("family", flat=True)
    assert len(set(families)) == 1


async def test_used_refresh_token_is_refused_and_revokes_its_family(
    service: TokenService, member: Member
) -> None:
    *_, first = await service.login(member.email, PASSWORD)
    *_, second = await service.refresh(first)
    *_, elsewhere = await service.login(member.email, PASSWORD)

    with pytest.raises(Unauthenticated):
        await service.refresh(first)

    with pytest.raises(Unauthenticated):
        await service.refresh(second)
    revoked = await RefreshToken.filter(revoked_at__isnull=False).count()
    assert revoked == 2  # committed although the reuse raised
    await service.refresh(elsewhere)  # another sign-in is untouched


async def test_expired_refresh_token_is_refused(
    service: TokenService, member: Member, clock: Clock
) -> None:
    token = await service.issue_refresh(member)
    clock.advance(3600)

    with pytest.raises(Unauthenticated):
        await service.refresh(token)


async def test_unknown_refresh_token_is_refused(
    service: TokenService, member: Member
) -> None:
    with pytest.raises(Unauthenticated):
        await service.refresh("no-such-token")


async def test_refresh_for_an_inactive_member_is_refused(
    service: TokenService, member: Member
) -> None:
    token = await service.issue_refresh(member)
    await Member.filter(id=member.id).update(is_active=False)

    with pytest.raises(Unauthenticated):
        await service.refresh(token)


async def test_concurrent_rotations_let_exactly_one_through(
    service: TokenService, member: Member
) -> None:
    token = await service.issue_refresh(member)

    results = await asyncio.gather(
        service.rotate(token), service.rotate(token), return_exceptions=True
    )

    assert sum(isinstance(result, tuple) for result in results) == 1
    assert sum(isinstance(result, Unauthenticated) for result in results) == 1


async def test_rotation_that_loses_a_race_is_refused(
    service: TokenService, member: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await service.issue_refresh(member)
    load_member = Member.get_or_none

    async def spent_meanwhile(**filters: Any) -> Member | None:
        # Another rotation commits between our read and our conditional update.
        await RefreshToken.filter(member_id=member.id).update(used_at=START)
        return await load_member(**filters)

    monkeypatch.setattr(Member, "get_or_none", spent_meanwhile)

    with pytest.raises(Unauthenticated):
        await service.rotate(token)
    assert await RefreshToken.filter(revoked_at__isnull=True).count() == 0
    assert await RefreshToken.all().count() == 1  # no new token was issued


# Viewer


async def test_load_viewer_for_a_manager(
    service: TokenService, company: Company, caplog: pytest.LogCaptureFixture
) -> None:
    boss = await Member.create(
        company=company,
        email="boss@example.com",
        name="Boss",
        role=Role.MANAGER,
        password_hash="-",
        language="en",
    )
    sea = await Team.create(company=company, name="SEA", manager=boss)
    eu = await Team.create(company=company, name="EU", manager=boss)
    await Team.create(company=company, name="US")
    boss.team = sea
    await boss.save()
    claims = service.decode_access(service.issue_access(boss)[0])
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")

    viewer = await load_viewer(claims)

    selects = [r for r in caplog.records if r.getMessage().startswith("SELECT")]
    assert 1 <= len(selects) <= 3
    assert viewer.member_id == boss.id
    assert viewer.company_id == company.id
    assert viewer.role is Role.MANAGER
    assert viewer.team_id == sea.id
    assert viewer.managed_team_ids == frozenset({sea.id, eu.id})
    assert viewer.language == "en"
    assert viewer.timezone == ZoneInfo("Asia/Shanghai")
    assert viewer.currency == "CNY"
    assert viewer.token_expires_at == claims.expires_at.timestamp()


async def test_load_viewer_for_a_salesperson(
    service: TokenService, member: Member
) -> None:
    viewer = await load_viewer(service.decode_access(service.issue_access(member)[0]))

    assert viewer.managed_team_ids == frozenset()
    assert viewer.team_id is None


async def test_load_viewer_refuses_a_changed_role(
    service: TokenService, member: Member
) -> None:
    claims = service.decode_access(service.issue_access(member)[0])
    await Member.filter(id=member.id).update(role=Role.HR_ADMIN)

    with pytest.raises(Unauthenticated):
        await load_viewer(claims)


@pytest.mark.parametrize(
    "claims_change",
    [{"company_id": 999}, {"member_id": 999}],
)
async def test_load_viewer_refuses_a_stranger(
    service: TokenService, member: Member, claims_change: dict[str, int]
) -> None:
    claims = service.decode_access(service.issue_access(member)[0])
    forged = AccessClaims(**{**claims.__dict__, **claims_change})

    with pytest.raises(Unauthenticated):
        await load_viewer(forged)


async def test_load_viewer_refuses_an_inactive_member(
    service: TokenService, member: Member
) -> None:
    claims = service.decode_access(service.issue_access(member)[0])
    await Member.filter(id=member.id).update(is_active=False)

    with pytest.raises(Unauthenticated):
        await load_viewer(claims)
