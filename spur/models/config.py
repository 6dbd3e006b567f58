"""Tortoise configuration for a database URL."""

from __future__ import annotations

from typing import Any

MODELS_APP = "models"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for `database_url` (sqlite:// or postgres://)."""
    return {
        "connections": {"default": database_url},
        "apps": {
            MODELS_APP: {
                "models": [
                    "spur.models.company",
                    "spur.models.metric",
                    "spur.models.activity",
                    "spur.models.goal",
                    "spur.models.plan",
                    "spur.models.appraisal",
                    "spur.models.leaderboard",
                    "spur.models.ledger",
                    "spur.models.event",
                    "spur.models.auth",
                    "spur.models.insight",
                ],
                "default_connection": "default",
                "migrations": "spur.models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_sqlite(database_url: str) -> bool:
    """True for the embedded SQLite store."""
    return database_url.startswith("sqlite")


# For Tortoise's own CLI (`tortoise -c spur.models.config.TORTOISE_ORM
# makemigrations`); the dialect-neutral migrations it writes serve both stores.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
