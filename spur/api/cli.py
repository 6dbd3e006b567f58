"""The `spur` command: serve the API (with the demo if asked), migrate a database,
print which behaviours go with results (`insights`) or write the teams'
best-of-the-week events (`weekly-best`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from tortoise.exceptions import DBConnectionError, OperationalError

from spur.api.insights_cli import add_command as add_insights_command
from spur.api.logs import configure_logging
from spur.api.settings import Settings, load_settings
from spur.models.database import migrate_database

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `spur` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as error:  # a setting that does not parse
        sys.exit(f"spur: {error}")
    if args.database_url:
        settings = settings.with_overrides(database_url=args.database_url)
    configure_logging(json_lines=settings.log_json)
    args.run(args, settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spur", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the GraphQL API")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="fill an empty database with the demo company",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)
    migrate = commands.add_parser("migrate", help="apply pending migrations")
    migrate.set_defaults(run=_migrate)
    best = commands.add_parser(
        "weekly-best",
        help="write each team's best-of-the-week event for the last ended week "
        "(once per team and week; the server also does this on its own)",
    )
    best.add_argument("--at", help="an ISO instant to count from instead of now")
    best.set_defaults(run=_weekly_best)
    insights = add_insights_command(commands)
    for command in (serve, migrate, best, insights):
        command.add_argument("--database-url", help="overrides SPUR_DATABASE_URL")
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    from spur.api.app import create_app

    if settings.jwt_secret_generated:
        logger.warning("SPUR_JWT_SECRET is not set; tokens die with this process")
    try:
        app = create_app(settings, demo=args.demo or settings.demo)
    except ValueError as error:  # such as a JWT secret that is too short
        sys.exit(f"spur: {error}")
    _migrate(args, settings)

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        ws="websockets-sansio",
        # Live payloads are encoded once and written to every subscriber;
        # per-socket compression would redo the work for each of them.
        ws_per_message_deflate=False,
        # Pings find dead sockets; the protocol's own keep-alive is legacy-only.
        ws_ping_interval=settings.keepalive_seconds,
        proxy_headers=False,
    )
    server = AnnouncingServer(config)
    server.run()
    if not server.started:  # stopped while the lifespan was still starting
        sys.exit("spur: stopped before serving")


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that says where it serves once it accepts connections.

    The lifespan (migrations, the demo's fill) runs before uvicorn listens,
    so a line written before `run` would name an address that refuses
    connections for as long as the fill takes.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            port = self.servers[0].sockets[0].getsockname()[1]
            logger.info("serving on http://%s:%s/graphql", self.config.host, port)


def _migrate(args: argparse.Namespace, settings: Settings) -> None:
    """Migrate first, so an unreachable database is one clear line, not a trace."""
    try:
        asyncio.run(migrate_database(settings.database_url))
    except (DBConnectionError, OperationalError, OSError) as error:
        where = _without_password(settings.database_url)
        sys.exit(f"spur: cannot use the database {where}: {error}")
    logger.info("database is up to date")


def _weekly_best(args: argparse.Namespace, settings: Settings) -> None:
    from spur.resolvers.weekly_best import run_weekly_best

    _migrate(args, settings)
    written = asyncio.run(run_weekly_best(settings, args.at))
    logger.info("best of the week: %s new team events", written)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


if __name__ == "__main__":
    main()
