"""Settings, read once from the environment (and an optional `.env` file)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.config import Config
from starlette.datastructures import Secret

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite://spur.sqlite3"


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, typed."""

    database_url: str
    jwt_secret: Secret
    jwt_issuer: str
    jwt_audience: str
    access_token_seconds: int
    refresh_token_seconds: int
    demo: bool
    log_json: bool
    max_query_depth: int
    max_aliases: int
    max_tokens: int
    connection_init_seconds: int
    keepalive_seconds: int
    late_days: int
    expose_stats: bool
    max_body_bytes: int
    jwt_secret_generated: bool = False
    # Frames a socket may have queued before it counts as too slow (closed
    # with 1013, the client resumes by cursor), and live subscriptions one
    # member may hold in one process.
    ws_queue_frames: int = 256
    ws_live_per_member: int = 100
    # Unset: the in-memory broker, and live feeds reach one process only.
    redis_url: str | None = None
    redis_prefix: str = "spur:"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (the CLI's flags win over the env)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read the environment once; the app is built from the result."""
    # Starlette warns about a missing file; an absent `.env` is the usual case.
    config = Config(env_file if env_file and Path(env_file).is_file() else None)
    secret = Secret(config("SPUR_JWT_SECRET", default=""))
    generated = not str(secret)
    if generated:
        # A per-process secret keeps a fresh demo working with nothing to set;
        # tokens then die with the process and instances cannot share them.
        secret = Secret(secrets.token_urlsafe(48))
    return Settings(
        jwt_secret_generated=generated,
        database_url=config("SPUR_DATABASE_URL", default=DEFAULT_DATABASE_URL),
        jwt_secret=secret,
        jwt_issuer=config("SPUR_JWT_ISSUER", default="spur"),
        jwt_audience=config("SPUR_JWT_AUDIENCE", default="spur-api"),
        access_token_seconds=config("SPUR_ACCESS_TOKEN_SECONDS", cast=int, default=900),
        refresh_token_seconds=config(
            "SPUR_REFRESH_TOKEN_SECONDS", cast=int, default=30 * 24 * 3600
        ),
        demo=config("SPUR_DEMO", cast=bool, default=False),
        log_json=config("SPUR_LOG_JSON", cast=bool, default=False),
        max_query_depth=config("SPUR_MAX_QUERY_DEPTH", cast=int, default=12),
        max_aliases=config("SPUR_MAX_ALIASES", cast=int, default=30),
        max_tokens=config("SPUR_MAX_TOKENS", cast=int, default=2000),
        connection_init_seconds=config("SPUR_WS_INIT_SECONDS", cast=int, default=5),
        keepalive_seconds=config("SPUR_WS_KEEPALIVE_SECONDS", cast=int, default=15),
        late_days=config("SPUR_LATE_DAYS", cast=int, default=10),
        max_body_bytes=config("SPUR_MAX_BODY_BYTES", cast=int, default=256 * 1024),
        redis_url=config("SPUR_REDIS_URL", default="") or None,
        redis_prefix=config("SPUR_REDIS_PREFIX", default="spur:"),
        # Off by default: the counters say nothing secret, but nobody needs them.
        expose_stats=config("SPUR_EXPOSE_STATS", cast=bool, default=False),
        ws_queue_frames=config("SPUR_WS_QUEUE_FRAMES", cast=int, default=256),
        ws_live_per_member=config("SPUR_WS_LIVE_PER_MEMBER", cast=int, default=100),
    )
