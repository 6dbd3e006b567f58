"""Goal progress through the API: periods, milestones, currencies, team goals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from spur.engine.periods import PeriodKind
from spur.models import (
    AchievementEvent,
    Activity,
    EventKind,
    Goal,
    GoalProgress,
    GoalReward,
    MetricTotal,
)
from tests.api.conftest import document
from tests.api.helpers import (
    GraphQL,
    follow_up,
    goal_id,
    order,
    record,
    recorded,
)
from tests.factories import World

LAST_FRIDAY = "2026-11-27T18:00:00+08:00"


async def goal_node(gql: GraphQL, token: str, node_id: str) -> dict[str, Any] | None:
    body = await gql(document("GoalDetail"), {"id": node_id}, token)
    assert "errors" not in body, body
    node: dict[str, Any] | None = body["data"]["node"]
    return node


async def home_goals(gql: GraphQL, token: str) -> list[dict[str, Any]]:
    body = await gql(document("HomeScreen"), token=token)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["viewer"]["goals"]["edges"]]


async def test_a_late_activity_counts_in_its_own_week(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    recorded(await record(gql, token, follow_up("late", occurred_at=LAST_FRIDAY)))

    [this_week] = await home_goals(gql, token)
    assert this_week["period"]["label"] == "2026-W49"
    assert this_week["progress"]["current"] == 0.0
    last_week = await goal_node(gql, token, goal_id(world.weekly, date(2026, 11, 23)))
    assert last_week is not None
    assert last_week["period"]["label"] == "2026-W48"
    assert last_week["progress"] == {
        "current": 1.0,
        "target": 10.0,
        "percent": 10.0,
        "remaining": 9.0,
        "status": "MISSED",
    }
    rows = await GoalProgress.all().values_list("period_start", "current")
    assert rows == [(date(2026, 11, 23), Decimal(1))]
    weeks = await MetricTotal.filter(period_kind=PeriodKind.WEEK).values_list(
        "period_start", flat=True
    )
    assert set(weeks) == {date(2026, 11, 23)}


async def test_weeks_follow_the_company_time_zone(
    world: World, gql: GraphQL, login: Any
) -> None:
    # Sunday 17:00 UTC is already Monday 01:00 in Shanghai: this week.
    token = await login("seller@example.com")
    early = follow_up("monday", occurred_at="2026-11-29T17:00:00Z")
    recorded(await record(gql, token, early))
    [goal] = await home_goals(gql, token)
    assert goal["progress"]["current"] == 1.0


async def test_the_half_way_milestone_is_announced_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    answers = [recorded(await record(gql, token, follow_up(f"f{n}"))) for n in range(7)]
    kinds = [[e["kind"] for e in answer["achievements"]] for answer in answers]
    assert kinds == [[], [], [], [], ["MILESTONE_REACHED"], [], []]
    assert "50" in answers[4]["achievements"][0]["message"]
    assert answers[4]["achievements"][0]["reward"] is None
    events = await AchievementEvent.filter(kind=EventKind.MILESTONE_REACHED).count()
    assert events == 1


async def weekly_sales_goal(world: World, target: str) -> Goal:
    goal = await Goal.create(
        company=world.company,
        member=world.seller,
        metric=world.sales,
        title="Weekly sales",
        period_kind=PeriodKind.WEEK,
        target=Decimal(target),
        active_from=date(2026, 1, 5),
    )
    await GoalReward.create(
        goal=goal, kind="CASH", title="Big week bonus", amount=Decimal("800.00")
    )
    return goal


async def test_one_big_order_crosses_both_lines_in_order(
    world: World, gql: GraphQL, login: Any
) -> None:
    await weekly_sales_goal(world, "10000")
    token = await login("seller@example.com")
    answer = recorded(await record(gql, token, order("big", "25000.00")))
    kinds = [event["kind"] for event in answer["achievements"]]
    assert kinds == [
        "ORDER_CLOSED",
        "MILESTONE_REACHED",
        "GOAL_COMPLETED",
        "REWARD_EARNED",
        # The first order of the week puts the seller on top of the board.
        "RANK_CHANGED",
    ]
    assert answer["achievements"][3]["reward"] == {
        "title": "Big week bonus",
        "amount": {"amount": "800.00", "currency": "CNY"},
    }
    sales = [g for g in await home_goals(gql, token) if g["metric"] == "sales_amount"]
    assert sales[0]["progress"]["percent"] == 250.0


async def test_a_foreign_order_converts_at_the_stored_rate(
    world: World, gql: GraphQL, login: Any
) -> None:
    # 12345.67 × 7.1234 = 87943.145678, rounded half-up to the fen once.
    goal = await weekly_sales_goal(world, "100000")
    token = await login("seller@example.com")
    recorded(await record(gql, token, order("usd", "12345.67", currency="USD")))

    activity = await Activity.get(external_id="usd")
    assert (activity.amount, activity.currency) == (Decimal("12345.67"), "USD")
    assert activity.exchange_rate == Decimal("7.1234")
    assert activity.amount_company == Decimal("87943.15")
    totals = await MetricTotal.filter(metric_id=world.sales.id).values_list(
        "scope", "value"
    )
    assert len(totals) == 2 * len(PeriodKind)
    assert {value for _, value in totals} == {Decimal("87943.15")}
    assert {scope for scope, _ in totals} == {"member", "team"}
    node = await goal_node(gql, token, goal_id(goal))
    assert node is not None
    assert node["progress"]["current"] == 87943.15


async def test_team_goals_move_with_every_member(
    world: World, gql: GraphQL, login: Any
) -> None:
    team_goal = await Goal.create(
        company=world.company,
        team=world.team,
        metric=world.follow_ups,
        title="Team follow-ups",
        period_kind=PeriodKind.MONTH,
        target=Decimal(40),
        active_from=date(2026, 1, 1),
    )
    seller = await login("seller@example.com")
    mate = await login("mate@example.com")
    recorded(await record(gql, seller, follow_up("s1")))
    recorded(await record(gql, mate, follow_up("m1")))
    [team] = [g for g in await home_goals(gql, mate) if g["title"] == "Team follow-ups"]
    assert team["id"] == goal_id(team_goal, date(2026, 12, 1))
    assert team["progress"]["current"] == 2.0
    seller_goals = {g["title"]: g for g in await home_goals(gql, seller)}
    assert seller_goals["Team follow-ups"]["progress"]["current"] == 2.0
    assert seller_goals["10 new-customer follow-ups"]["progress"]["current"] == 1.0


async def test_a_goal_in_a_period_that_cannot_start_there_is_null(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    tuesday = goal_id(world.weekly, date(2026, 12, 1))
    assert await goal_node(gql, token, tuesday) is None


async def test_a_non_cash_reward_has_no_amount_and_earns_no_cash(
    world: World, gql: GraphQL, login: Any
) -> None:
    await GoalReward.create(
        goal=world.weekly, kind="TRAINING", title="Negotiation course"
    )
    token = await login("seller@example.com")
    answers = [
        recorded(await record(gql, token, follow_up(f"f{n}"))) for n in range(10)
    ]
    events = answers[-1]["achievements"]
    assert [e["kind"] for e in events] == [
        "GOAL_COMPLETED",
        "REWARD_EARNED",
        "REWARD_EARNED",
    ]
    assert events[2]["reward"] == {"title": "Negotiation course", "amount": None}
    body = await gql(document("HomeScreen"), token=token)
    viewer = body["data"]["viewer"]
    assert viewer["earnings"]["total"] == {"amount": "500.00", "currency": "CNY"}
    rewards = {e["node"]["kind"]: e["node"] for e in viewer["rewards"]["edges"]}
    assert rewards["TRAINING"]["amount"] is None
    assert rewards["CASH"]["amount"] == {"amount": "500.00", "currency": "CNY"}


async def test_a_goal_outside_its_own_periods_is_null(
    world: World, gql: GraphQL, login: Any
) -> None:
    monthly = await Goal.create(
        company=world.company,
        member=world.seller,
        metric=world.follow_ups,
        title="November only",
        period_kind=PeriodKind.MONTH,
        target=Decimal(20),
        active_from=date(2026, 11, 1),
        active_until=date(2026, 12, 1),
    )
    token = await login("seller@example.com")
    before_start = goal_id(world.weekly, date(2025, 12, 29))
    assert await goal_node(gql, token, before_start) is None
    assert await goal_node(gql, token, goal_id(monthly, date(2026, 12, 1))) is None
    november = await goal_node(gql, token, goal_id(monthly, date(2026, 11, 1)))
    assert november is not None
    assert november["period"]["label"] == "2026-11"
    next_week = await goal_node(gql, token, goal_id(world.weekly, date(2026, 12, 7)))
    assert next_week is not None
    assert next_week["progress"]["status"] == "NOT_STARTED"


async def test_the_rate_is_the_one_of_the_order_date_in_the_company_zone(
    world: World, gql: GraphQL, login: Any
) -> None:
    # 17:00 UTC on the 3rd is 01:00 on the 4th in Shanghai: the 4th's rate.
    token = await login("seller@example.com")
    late_night = order(
        "usd", "100.00", currency="USD", occurredAt="2026-12-03T17:00:00Z"
    )
    recorded(await record(gql, token, late_night))
    activity = await Activity.get(external_id="usd")
    assert activity.amount_company == Decimal("712.34")
