"""One demo database filled per test module, opened afresh by each test.

Filling takes seconds, so the module shares one filled database and the tests
only read it. `SPUR_TEST_DATABASE=postgres` puts it on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import pytest_asyncio
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext

from spur.demo import DemoSummary, fill_demo
from spur.models import Activity
from spur.models.config import tortoise_config
from spur.models.database import migrate_database
from tests.conftest import BACKEND, POSTGRES_URL

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI)

ACTIVITY_FIELDS = (
    "id",
    "member_id",
    "kind",
    "occurred_at",
    "quantity",
    "amount",
    "currency",
    "amount_company",
    "exchange_rate",
    "market",
    "product_category",
    "customer_ref",
    "new_customer",
    "response_minutes",
    "rating",
    "source",
    "external_id",
)


@dataclass(frozen=True)
class FilledDemo:
    """A demo database on disk, what filling it reported, and its activities."""

    url: str
    summary: DemoSummary
    # Kept out of the repr: asyncio and pytest print fixture values at times.
    activities: list[dict[str, Any]] = field(repr=False)


@asynccontextmanager
async def empty_database(folder: Path) -> AsyncIterator[str]:
    """The URL of a new empty database, dropped afterwards on PostgreSQL."""
    if BACKEND != "postgres":
        yield f"sqlite://{folder / 'demo.sqlite3'}"
        return
    name = f"spur_demo_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def filled(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FilledDemo]:
    """Fill a fresh, migrated database once for the module."""
    async with empty_database(tmp_path_factory.mktemp("demo")) as url:
        # Tortoise caches INSERTs per connection name, whatever the dialect.
        EXECUTOR_CACHE.clear()
        await migrate_database(url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url))
            summary = await fill_demo(NOW)
            rows = await Activity.all().order_by("id").values(*ACTIVITY_FIELDS)
        yield FilledDemo(url, summary, rows)


@pytest.fixture
async def demo(filled: FilledDemo) -> AsyncIterator[FilledDemo]:
    """The filled database, connected for this test."""
    await Tortoise.init(config=tortoise_config(filled.url))
    yield filled
    await Tortoise.close_connections()
