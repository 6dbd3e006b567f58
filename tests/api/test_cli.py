"""The `spur` command's own errors: one clear line, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from starlette.applications import Starlette

from spur.api import cli


@pytest.fixture(autouse=True)
def keep_test_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command configures the root logger; tests keep pytest's handlers."""
    monkeypatch.setattr(cli, "configure_logging", lambda **_: None)


def test_migrate_brings_an_empty_database_up_to_date(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="spur.api.cli")
    cli.main(["migrate", "--database-url", database_url])
    cli.main(["migrate", "--database-url", database_url])
    assert "database is up to date" in caplog.text


def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    url = "postgres://spur:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["migrate", "--database-url", url])
    message = str(exit_.value.code)
    assert message.startswith("spur: cannot use the database postgres://spur:***@")
    assert "hunter2" not in message


def test_a_short_jwt_secret_is_refused_before_serving(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("SPUR_JWT_SECRET", "short")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--database-url", database_url])
    assert "at least 32 bytes" in str(exit_.value.code)


def test_a_setting_that_does_not_parse_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPUR_ACCESS_TOKEN_SECONDS", "abc")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["migrate"])
    assert "SPUR_ACCESS_TOKEN_SECONDS" in str(exit_.value.code)


def test_the_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    description = capsys.readouterr().out.split("positional arguments")[0]
    for words in ("serve the API", "migrate", "`insights`", "`weekly-best`"):
        assert words in description, words


async def test_serving_on_is_logged_once_connections_are_accepted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The lifespan (a demo fill) runs first; the line must not come before it."""
    caplog.set_level(logging.INFO, logger="spur.api.cli")
    filled = asyncio.Event()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.sleep(0.3)  # a slow fill
        assert "serving on" not in caplog.text
        filled.set()
        yield

    config = uvicorn.Config(Starlette(lifespan=lifespan), host="127.0.0.1", port=0)
    server = cli.AnnouncingServer(config)
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):  # up to 10 s
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        assert filled.is_set()
        lines = [r.getMessage() for r in caplog.records if "serving on" in r.msg]
        assert len(lines) == 1
        port = int(lines[0].rsplit(":", 1)[1].split("/")[0])
        assert port > 0
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
    finally:
        server.should_exit = True
        await serving
