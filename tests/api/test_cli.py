"""The `spur` command's own errors: one clear line, never a traceback."""

from __future__ import annotations

import logging

import pytest

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
