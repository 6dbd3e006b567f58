"""Shared fixtures: a fresh database per test, on SQLite or PostgreSQL.

`SPUR_TEST_DATABASE=postgres` runs the suite on PostgreSQL: each test gets a
database of its own on `SPUR_TEST_POSTGRES_URL`, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

POSTGRES_URL = os.environ.get(
    "SPUR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
BACKEND = os.environ.get("SPUR_TEST_DATABASE", "sqlite")


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty database that lives as long as the test."""
    if BACKEND != "postgres":
        yield f"sqlite://{tmp_path / 'spur.sqlite3'}"
        return
    name = f"spur_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(autouse=True)
def fresh_tortoise_sql_cache() -> None:
    """Forget the SQL Tortoise cached for the previous test's database.

    Tortoise caches each model's INSERT statement by connection name, not by
    dialect, so after a test on SQLite (some always use it) a PostgreSQL test
    would send `?` bind markers and fail with a syntax error.
    """
    EXECUTOR_CACHE.clear()
