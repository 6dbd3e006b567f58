"""Hostile input on `leaderboard`: every refusal carries a stable code, never
INTERNAL (found by the breaker pass of 2026-12-04)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import GraphQL, error_codes
from tests.factories import World

BOARD = """
query($metric: String!, $period: PeriodKind!, $segment: String, $at: DateTime,
      $last: Int = 1) {
  leaderboard(metric: $metric, period: $period, segment: $segment, at: $at) {
    scope size period { label }
    entries(first: 5) { edges { node { rank value member { name } } } }
    viewerEntry { rank }
    viewerHistory(last: $last) { period { label } entry { rank } }
  }
}
"""


async def _board(gql: GraphQL, token: str, **variables: Any) -> dict[str, Any]:
    return await gql(BOARD, {"period": "WEEK", **variables}, token)


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00Z",  # local midnight of 0001-01-01 is before year 1 UTC
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC already
        "9999-12-31T23:59:59Z",  # the local day is 10000-01-01
    ],
)
@pytest.mark.parametrize("period", ["DAY", "MONTH"])
async def test_an_at_beyond_the_calendar_is_bad_input_not_internal(
    world: World, gql: GraphQL, login: Any, at: str, period: str
) -> None:
    seller = await login(world.seller.email)
    body = await _board(gql, seller, metric="sales_amount", period=period, at=at)
    assert error_codes(body) == ["BAD_USER_INPUT"], body


async def test_a_year_whose_end_is_year_10000_is_bad_input(
    world: World, gql: GraphQL, login: Any
) -> None:
    seller = await login(world.seller.email)
    body = await _board(
        gql, seller, metric="sales_amount", period="YEAR", at="9999-06-01T00:00:00Z"
    )
    assert error_codes(body) == ["BAD_USER_INPUT"], body


async def test_history_before_year_one_is_bad_input_not_internal(
    world: World, gql: GraphQL, login: Any
) -> None:
    # The board itself (week of 0001-01-08) exists; one week back does not.
    seller = await login(world.seller.email)
    body = await _board(
        gql, seller, metric="sales_amount", at="0001-01-09T00:00:00Z", last=2
    )
    assert "INTERNAL" not in error_codes(body), body
    assert error_codes(body) in ([], ["BAD_USER_INPUT"]), body


@pytest.mark.parametrize("length", [65, 100_000])
async def test_a_long_metric_name_is_not_found_not_internal(
    world: World, gql: GraphQL, login: Any, length: int
) -> None:
    # MetricDefinition.key is CharField(max_length=64): Tortoise refuses the
    # filter value with a ValidationError before any SQL runs.
    seller = await login(world.seller.email)
    body = await _board(gql, seller, metric="m" * length)
    assert error_codes(body) == ["NOT_FOUND"], body


async def test_a_market_segment_reads_the_same_board_in_any_case(
    world: World, gql: GraphQL, login: Any
) -> None:
    # Scores are stored under market:SEA (ranking.market_scope upper-cases);
    # market:sea is accepted but silently reads an empty board.
    hr = await login(world.hr.email)
    upper = await _board(gql, hr, metric="sales_amount", segment="market:SEA")
    lower = await _board(gql, hr, metric="sales_amount", segment="market:sea")
    assert "errors" not in upper, upper
    assert "errors" not in lower, lower
    assert lower["data"]["leaderboard"]["scope"] == "market:SEA"


async def test_an_age_segment_reads_the_same_board_in_any_case(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login(world.hr.email)
    body = await _board(gql, hr, metric="sales_amount", segment=" AGE:30- ")
    assert "errors" not in body, body
    assert body["data"]["leaderboard"]["scope"] == "age:30-"


@pytest.mark.parametrize(
    "segment", ["market:XX", "market:", "market:" + "S" * 17, "age:40+", "team:1"]
)
async def test_an_unknown_or_garbled_segment_is_bad_input(
    world: World, gql: GraphQL, login: Any, segment: str
) -> None:
    # No team of the company sells to XX: refused, not read as an empty board.
    hr = await login(world.hr.email)
    body = await _board(gql, hr, metric="sales_amount", segment=segment)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
