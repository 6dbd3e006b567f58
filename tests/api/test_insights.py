"""driverAnalysis and teamHealth: permissions, scoping and stored-total health."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from spur.engine.metrics import ActivityKind, Aggregation
from spur.models import MetricDefinition
from tests.api.helpers import GraphQL, error_codes, global_id, record, recorded
from tests.factories import World, build_world

HEALTH = """
query($team: ID!, $period: String!) {
  teamHealth(teamId: $team, period: $period) {
    team { name } period salespeople upkeepRate upkeepDays workingDays
    averageReplyMinutes replies orders previousOrders orderGrowth
    goalsDue goalsAchieved goalsAchievedShare
  }
}
"""
DRIVERS = """
query($from: Date, $to: Date, $team: ID, $segment: SegmentInput) {
  driverAnalysis(from: $from, to: $to, teamId: $team, segment: $segment) {
    from to members memberDays inquiries note
    findings {
      behaviour outcome unit threshold aboveLabel belowLabel meanAbove meanBelow
      lift low high correlation pearson nAbove nBelow membersAbove membersBelow
      significant smallSample
    }
  }
}
"""
_keys = itertools.count()


async def _metrics(world: World) -> None:
    for key, kind, aggregation in (
        ("platform_minutes", ActivityKind.PLATFORM_SESSION, Aggregation.SUM_QUANTITY),
        ("inquiry_replies", ActivityKind.INQUIRY_REPLIED, Aggregation.COUNT),
        ("reply_minutes", ActivityKind.INQUIRY_REPLIED, Aggregation.SUM_REPLY_MIN),
        ("orders", ActivityKind.ORDER_CLOSED, Aggregation.COUNT),
    ):
        await MetricDefinition.create(
            company=world.company,
            key=key,
            name=key,
            activity_kind=kind,
            aggregation=aggregation,
        )


async def _do(
    gql: GraphQL, token: str, member: int, kind: str, at: str, **extra: Any
) -> None:
    activity = {
        "memberId": global_id("Member", member),
        "kind": kind,
        "occurredAt": at,
        "source": "test",
        "externalId": f"a{next(_keys)}",
        **extra,
    }
    recorded(await record(gql, token, activity))


@pytest.fixture
async def seeded(
    world: World, gql: GraphQL, login: Callable[[str], Any]
) -> dict[str, str]:
    """December so far (Tue 1 to Fri 4): platform days, replies, orders."""
    await _metrics(world)
    hr = await login(world.hr.email)
    seller, mate = world.seller.id, world.teammate.id
    for member, day, minutes in (
        (seller, "01", 70),
        (seller, "02", 30),
        (seller, "02", 35),
        (seller, "03", 50),
        (mate, "04", 60),
    ):
        at = f"2026-12-{day}T09:30:00+08:00"
        await _do(gql, hr, member, "PLATFORM_SESSION", at, quantity=minutes)
    for minutes in (30, 90):
        at = "2026-12-02T11:00:00+08:00"
        await _do(gql, hr, seller, "INQUIRY_REPLIED", at, responseMinutes=minutes)
    for at in ("2026-12-01", "2026-12-02", "2026-12-03", "2026-11-10", "2026-11-20"):
        extra = {"amount": "100.00", "currency": "CNY"}
        await _do(gql, hr, seller, "ORDER_CLOSED", f"{at}T15:00:00+08:00", **extra)
    return {"hr": hr, "team": global_id("Team", world.team.id)}


async def test_health_reads_upkeep_replies_and_order_growth(
    gql: GraphQL, seeded: dict[str, str]
) -> None:
    body = await gql(
        HEALTH, {"team": seeded["team"], "period": "2026-12"}, seeded["hr"]
    )
    assert "errors" not in body, body
    health = body["data"]["teamHealth"]
    # Two salespeople x four working days; 70, 30+35 and 60 minutes count.
    assert health["salespeople"] == 2
    assert (health["upkeepDays"], health["workingDays"]) == (3, 8)
    assert health["upkeepRate"] == pytest.approx(0.375)
    assert health["replies"] == 2
    assert health["averageReplyMinutes"] == pytest.approx(60)
    assert (health["orders"], health["previousOrders"]) == (3, 2)
    assert health["orderGrowth"] == pytest.approx(0.5)
    assert health["period"] == "2026-12"


async def test_goals_due_are_the_goal_periods_ended_or_met(
    world: World, gql: GraphQL, seeded: dict[str, str]
) -> None:
    team, hr = seeded["team"], seeded["hr"]
    november = await gql(HEALTH, {"team": team, "period": "2026-11"}, hr)
    # The weekly goal's weeks ending Nov 2, 9, 16, 23 and 30: none met.
    assert november["data"]["teamHealth"]["goalsDue"] == 5
    assert november["data"]["teamHealth"]["goalsAchievedShare"] == 0
    for n in range(10):
        at = f"2026-12-0{1 + n % 3}T10:00:00+08:00"
        await _do(gql, hr, world.seller.id, "CUSTOMER_FOLLOW_UP", at, newCustomer=True)
    december = await gql(HEALTH, {"team": team, "period": "2026-12"}, hr)
    # This week has not ended, but its goal is met: due and achieved.
    health = december["data"]["teamHealth"]
    assert (health["goalsDue"], health["goalsAchieved"]) == (1, 1)
    assert health["goalsAchievedShare"] == 1


async def test_drivers_count_member_days_above_and_below(
    gql: GraphQL, seeded: dict[str, str]
) -> None:
    window = {"from": "2026-12-01", "to": "2026-12-05"}
    body = await gql(DRIVERS, window, seeded["hr"])
    assert "errors" not in body, body
    analysis = body["data"]["driverAnalysis"]
    # Seller, teammate and the EU salesperson, four working days each.
    assert (analysis["members"], analysis["memberDays"]) == (3, 12)
    assert "not causation" in analysis["note"]
    found = {(f["behaviour"], f["outcome"]): f for f in analysis["findings"]}
    # Three daily habits x three outcomes, and reply time x conversion, sales.
    assert len(found) == 11
    assert ("inquiry_reply_minutes", "orders") not in found
    platform = found["platform_hours_per_day", "orders"]
    assert (platform["nAbove"], platform["nBelow"]) == (3, 9)
    # Orders on the seller's days of 70 and 65 minutes, and of 50.
    assert platform["meanAbove"] == pytest.approx(2 / 3)
    assert platform["meanBelow"] == pytest.approx(1 / 9)
    assert platform["lift"] == pytest.approx(5.0)
    assert platform["smallSample"] is True
    assert platform["unit"] == "member-day"


async def test_a_manager_reads_own_teams_and_segments(
    world: World, gql: GraphQL, login: Callable[[str], Any], seeded: dict[str, str]
) -> None:
    manager = await login(world.manager.email)
    window = {"from": "2026-12-01", "to": "2026-12-05"}
    own = await gql(DRIVERS, window, manager)
    assert own["data"]["driverAnalysis"]["members"] == 2
    team = await gql(DRIVERS, {**window, "team": seeded["team"]}, manager)
    assert team["data"]["driverAnalysis"]["members"] == 2
    health = await gql(HEALTH, {"team": seeded["team"], "period": "2026-Q4"}, manager)
    assert health["data"]["teamHealth"]["team"]["name"] == "Southeast Asia"
    eu = {**window, "segment": {"market": "EU"}}
    assert (await gql(DRIVERS, eu, seeded["hr"]))["data"]["driverAnalysis"][
        "members"
    ] == 1
    young = {**window, "segment": {"ageBand": "YOUNG"}}  # born 1996: 30
    assert (await gql(DRIVERS, young, seeded["hr"]))["data"]["driverAnalysis"][
        "members"
    ] == 3
    old = {**window, "segment": {"ageBand": "SENIOR"}}
    assert (await gql(DRIVERS, old, seeded["hr"]))["data"]["driverAnalysis"][
        "members"
    ] == 0


@pytest.mark.parametrize("who", ["seller", "partner"])
async def test_salespeople_and_partners_are_forbidden(
    world: World, gql: GraphQL, login: Callable[[str], Any], who: str
) -> None:
    token = await login(getattr(world, who).email)
    team = global_id("Team", world.team.id)
    assert error_codes(await gql(DRIVERS, {}, token)) == ["FORBIDDEN"]
    health = await gql(HEALTH, {"team": team, "period": "2026-12"}, token)
    assert error_codes(health) == ["FORBIDDEN"]


async def test_another_team_is_forbidden_and_another_company_not_found(
    world: World, gql: GraphQL, login: Callable[[str], Any]
) -> None:
    manager = await login(world.manager.email)
    other = global_id("Team", world.other_team.id)
    elsewhere = global_id("Team", (await build_world(prefix="b.")).team.id)
    for team, code in ((other, "FORBIDDEN"), (elsewhere, "NOT_FOUND")):
        body = await gql(DRIVERS, {"team": team}, manager)
        assert error_codes(body) == [code]
        health = await gql(HEALTH, {"team": team, "period": "2026-12"}, manager)
        assert error_codes(health) == [code]
    hr = await login(world.hr.email)
    assert error_codes(await gql(DRIVERS, {"team": elsewhere}, hr)) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "variables",
    [
        {"from": "2026-12-05", "to": "2026-12-01"},
        {"from": "2025-01-01", "to": "2026-12-01"},
    ],
)
async def test_a_bad_window_is_refused(
    world: World, gql: GraphQL, login: Callable[[str], Any], variables: dict[str, str]
) -> None:
    body = await gql(DRIVERS, variables, await login(world.hr.email))
    assert error_codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("period", ["2026-12-01", "December", "2026-13"])
async def test_health_needs_a_week_month_quarter_or_year(
    world: World, gql: GraphQL, login: Callable[[str], Any], period: str
) -> None:
    team = global_id("Team", world.team.id)
    body = await gql(
        HEALTH, {"team": team, "period": period}, await login(world.hr.email)
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_the_default_window_is_the_ninety_days_before_today(
    world: World, gql: GraphQL, login: Callable[[str], Any]
) -> None:
    body = await gql(DRIVERS, {}, await login(world.hr.email))
    analysis = body["data"]["driverAnalysis"]
    assert (analysis["from"], analysis["to"]) == ("2026-09-05", "2026-12-04")
