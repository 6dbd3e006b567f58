"""Hostile input on driverAnalysis, teamHealth and `spur insights`: stable
codes (never INTERNAL), one-line CLI errors (never a traceback), and no
unobserved days in the analysis (found by the breaker pass of 2026-12-04)."""

from __future__ import annotations

from typing import Any

import pytest

from spur.api import cli
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.factories import World

DRIVERS = """
query($from: Date, $to: Date, $segment: SegmentInput) {
  driverAnalysis(from: $from, to: $to, segment: $segment) { from to memberDays }
}
"""
HEALTH = """
query($team: ID!, $period: String!) { teamHealth(teamId: $team, period: $period) {
  period salespeople } }
"""


@pytest.fixture(autouse=True)
def keep_test_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command configures the root logger; tests keep pytest's handlers."""
    monkeypatch.setattr(cli, "configure_logging", lambda **_: None)


@pytest.mark.parametrize(
    "window",
    [
        {"from": "0001-01-01", "to": "0001-02-01"},
        {"from": "0001-01-01"},
        {"to": "0001-01-02"},
        {"from": "9999-12-01"},
        {"from": "9999-12-30", "to": "9999-12-31"},
    ],
)
async def test_a_window_at_the_calendar_edges_is_bad_input(
    world: World, gql: GraphQL, login: Any, window: dict[str, str]
) -> None:
    hr = await login(world.hr.email)
    body = await gql(DRIVERS, window, hr)
    assert set(error_codes(body)) == {"BAD_USER_INPUT"}, body


async def test_a_long_market_is_bad_input_not_internal(
    world: World, gql: GraphQL, login: Any
) -> None:
    # Team.market is CharField(max_length=16): the filter value is refused
    # by Tortoise (ValidationError) and surfaces as INTERNAL.
    hr = await login(world.hr.email)
    body = await gql(DRIVERS, {"segment": {"market": "x" * 17}}, hr)
    assert "INTERNAL" not in error_codes(body), body


async def test_days_after_today_are_not_member_days(
    world: World, gql: GraphQL, login: Any
) -> None:
    # Today is Fri 2026-12-04 (tests' clock). An explicit `to` next year
    # counts 2027's weekdays as observed days with no platform time and no
    # orders, which fills the "below the hour" side with zeros.
    hr = await login(world.hr.email)
    up_to_now = await gql(DRIVERS, {"from": "2026-11-30", "to": "2026-12-05"}, hr)
    beyond = await gql(DRIVERS, {"from": "2026-11-30", "to": "2027-03-01"}, hr)
    assert "errors" not in beyond, beyond
    days = up_to_now["data"]["driverAnalysis"]["memberDays"]
    assert beyond["data"]["driverAnalysis"]["memberDays"] == days


@pytest.mark.parametrize("period", ["0001", "0001-01", "0001-W01", "9999-W52"])
async def test_a_health_period_at_the_calendar_edges_is_bad_input(
    world: World, gql: GraphQL, login: Any, period: str
) -> None:
    hr = await login(world.hr.email)
    team = global_id("Team", world.team.id)
    body = await gql(HEALTH, {"team": team, "period": period}, hr)
    assert error_codes(body) == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize(
    "arguments",
    [
        ["--to", "0001-01-01"],
        ["--from", "0001-01-01", "--to", "0001-02-01"],
        ["--company", "99999999999999999999999"],
        ["--market", "x" * 100],
    ],
)
async def test_the_insights_command_answers_bad_arguments_in_one_line(
    world: World, database_url: str, arguments: list[str]
) -> None:
    company = [] if "--company" in arguments else ["--company", str(world.company.id)]
    with pytest.raises(SystemExit) as exit_:
        await _run_cli(
            ["insights", "--database-url", database_url, *company, *arguments]
        )
    assert str(exit_.value.code).startswith("spur: "), exit_.value.code


def test_the_insights_command_on_an_empty_database_is_one_line(
    tmp_path: Any,
) -> None:
    path = tmp_path / "never-migrated.sqlite3"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["insights", "--database-url", f"sqlite://{path}"])
    assert str(exit_.value.code).startswith("spur: no database at "), exit_.value.code
    assert not path.exists()  # no empty file left behind


def test_the_insights_command_on_an_unmigrated_database_is_one_line(
    tmp_path: Any,
) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with pytest.raises(SystemExit) as exit_:
        cli.main(["insights", "--database-url", f"sqlite://{path}"])
    assert "spur migrate" in str(exit_.value.code), exit_.value.code


def test_the_insights_command_on_an_unreachable_database_is_one_line() -> None:
    url = "postgres://spur:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["insights", "--database-url", url])
    assert str(exit_.value.code).startswith("spur: "), exit_.value.code
    assert "hunter2" not in str(exit_.value.code)


async def _run_cli(arguments: list[str]) -> None:
    """`spur ...` in a worker thread: the command runs its own event loop."""
    import asyncio

    await asyncio.to_thread(cli.main, arguments)
