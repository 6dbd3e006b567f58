"""Bringing a database to the current schema with Tortoise's own migrations."""

from __future__ import annotations

import logging

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate

from spur.models.config import tortoise_config

logger = logging.getLogger(__name__)


async def migrate_database(database_url: str) -> None:
    """Apply every pending migration to `database_url` (creating the file)."""
    async with TortoiseContext():
        await migrate(config=tortoise_config(database_url), progress=_log_step)


def _log_step(event: str, app_label: str, name: str) -> None:
    logger.info("migration %s: %s.%s", event, app_label, name)
