"""Databases, people and helpers shared by the subscription tests."""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tortoise import Tortoise

from spur.models import AchievementEvent, Company, EventKind, Member, Role, Team
from spur.models.config import tortoise_config
from spur.models.database import migrate_database

POSTGRES_ENV = "SPUR_TEST_POSTGRES_URL"
_keys = itertools.count()


async def _open(url: str) -> None:
    # generate_schemas() cannot order Team and Member (each refers to the
    # other); the project's migrations can, and match production.
    await migrate_database(url)
    await Tortoise.init(config=tortoise_config(url))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """The suite's database for this test (SQLite unless CI asks otherwise)."""
    await _open(database_url)
    yield database_url.split(":", 1)[0]
    await Tortoise.close_connections()


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """SQLite always; a throw-away PostgreSQL database when one is configured."""
    if request.param == "sqlite":
        await _open(f"sqlite://{tmp_path / 't.sqlite3'}")
        yield "sqlite"
        await Tortoise.close_connections()
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    async with _scratch_database(server) as url:
        await _open(url)
        yield "postgres"
        await Tortoise.close_connections()


@asynccontextmanager
async def _scratch_database(server_url: str) -> AsyncIterator[str]:
    """A randomly named database on the server, dropped afterwards."""
    name = f"spur_test_{uuid.uuid4().hex[:12]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@dataclass
class People:
    """One company with a team of two salespeople and a manager."""

    company: Company
    team: Team
    alice: Member
    bob: Member
    manager: Member


async def make_people(name: str = "Acme") -> People:
    """Create a company and its people with plain `create` calls."""
    company = await Company.create(name=name)
    team = await Team.create(company=company, name="Southeast Asia", market="SEA")
    alice, bob, manager = [
        await Member.create(
            company=company,
            team=team,
            email=f"{who}.{uuid.uuid4().hex[:8]}@example.com",
            name=who,
            role=role,
            password_hash="not-a-hash",
        )
        for who, role in [
            ("alice", Role.SALESPERSON),
            ("bob", Role.SALESPERSON),
            ("manager", Role.MANAGER),
        ]
    ]
    return People(company, team, alice, bob, manager)


@pytest.fixture
async def people(db: str) -> People:
    """Company people in the suite's database."""
    return await make_people()


MakePeople = Callable[[str], Awaitable[People]]


@pytest.fixture
def people_factory() -> MakePeople:
    """Creates another company with its people."""
    return make_people


@pytest.fixture
async def any_people(any_db: str) -> People:
    """Company people in each database under test."""
    return await make_people()


NewEvent = Callable[[Member], Awaitable[AchievementEvent]]
WaitUntil = Callable[[Callable[[], bool]], Awaitable[None]]


@pytest.fixture
def new_event() -> NewEvent:
    """Inserts an unstamped event for a member."""
    return add_event


@pytest.fixture
def wait() -> WaitUntil:
    """Waits for a condition to hold (see `wait_until`)."""
    return wait_until


async def add_event(
    member: Member, kind: EventKind = EventKind.GOAL_COMPLETED
) -> AchievementEvent:
    """An outbox row as a producer writes it: `seq` unset, unpublished."""
    return await AchievementEvent.create(
        company_id=member.company_id,
        member=member,
        team_id=member.team_id,
        kind=kind,
        dedupe_key=f"test:{next(_keys)}",
        message="done",
        team_message="someone is done",
        occurred_at=datetime.now(UTC),
    )


async def wait_until(condition: Callable[[], bool]) -> None:
    """Yield to the loop until `condition()` holds; fail after about 5 s."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    pytest.fail("condition never held")
