"""Planning goals through the API: create, split, roll up, who may, bad input."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from strawberry import relay

from spur.api.errors import Conflict
from spur.engine.periods import PeriodKind
from spur.models import (
    AchievementEvent,
    Goal,
    GoalProgress,
    GoalReward,
    MetricDefinition,
)
from spur.resolvers import goal_plan
from tests.api.conftest import FixedClock, document
from tests.api.helpers import (
    GraphQL,
    error_codes,
    follow_up,
    global_id,
    goal_id,
    order,
    record,
    recorded,
)
from tests.factories import World, build_world

CREATE_GOAL = """
mutation CreateGoal($input: CreateGoalInput!) {
  createGoal(input: $input) {
    goal { id title metric period { kind label } progress { target } }
    children { id title period { kind label } }
  }
}
"""
SHANGHAI = ZoneInfo("Asia/Shanghai")
A_TEAM = str(relay.GlobalID("Team", "1"))
Q4_START = date(2026, 10, 1)
Q4_BOUNDS = (
    datetime.fromisoformat("2026-10-01T00:00:00+08:00"),
    datetime.fromisoformat("2027-01-01T00:00:00+08:00"),
)


def q4_sales(world: World, **extra: Any) -> dict[str, Any]:
    """The seller's 2026-Q4 sales goal of 900000.00, split into months."""
    return {
        "memberId": global_id("Member", world.seller.id),
        "metric": "sales_amount",
        "title": "2026-Q4 sales",
        "periodKind": "QUARTER",
        "target": "900000.00",
        "split": {"kind": "MONTH"},
        **extra,
    }


async def create(gql: GraphQL, token: str, goal: dict[str, Any]) -> dict[str, Any]:
    body = await gql(CREATE_GOAL, {"input": goal}, token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createGoal"]
    return payload


def pk(node_id: str) -> int:
    """The goal's primary key inside a Goal node id."""
    return int(relay.GlobalID.from_id(node_id).node_id.partition("@")[0])


async def goal_detail(gql: GraphQL, token: str, node_id: str) -> dict[str, Any]:
    body = await gql(document("GoalDetail"), {"id": node_id}, token)
    assert "errors" not in body, body
    node: dict[str, Any] = body["data"]["node"]
    return node


async def child_targets(parent_id: int) -> list[Decimal]:
    return list(
        await Goal.filter(parent_id=parent_id)
        .order_by("id")
        .values_list("target", flat=True)
    )


async def test_hr_splits_a_quarter_evenly_into_months(
    world: World, gql: GraphQL, login: Any
) -> None:
    payload = await create(gql, await login("hr@example.com"), q4_sales(world))

    parent = await Goal.get(id=pk(payload["goal"]["id"]))
    assert payload["goal"] == {
        "id": goal_id(parent, Q4_START),
        "title": "2026-Q4 sales",
        "metric": "sales_amount",
        "period": {"kind": "QUARTER", "label": "2026-Q4"},
        "progress": {"target": 900000.0},
    }
    assert (parent.active_from, parent.active_until) == (Q4_START, date(2027, 1, 1))
    assert parent.member_id == world.seller.id
    children = await Goal.filter(parent_id=parent.id).order_by("id")
    assert [c.target for c in children] == [Decimal("300000.00")] * 3
    assert {(c.window_start, c.window_end) for c in children} == {Q4_BOUNDS}
    assert [(c.active_from, c.active_until) for c in children] == [
        (date(2026, 10, 1), date(2026, 11, 1)),
        (date(2026, 11, 1), date(2026, 12, 1)),
        (date(2026, 12, 1), date(2027, 1, 1)),
    ]
    assert payload["children"] == [
        {
            "id": goal_id(child, child.active_from),
            "title": f"2026-Q4 sales · {label}",
            "period": {"kind": "MONTH", "label": label},
        }
        for child, label in zip(
            children, ["2026-10", "2026-11", "2026-12"], strict=True
        )
    ]

    seller = await login("seller@example.com")
    recorded(await record(gql, seller, order("o1", "30000.00")))
    whole = await goal_detail(gql, seller, payload["goal"]["id"])
    assert whole["parent"] is None
    assert whole["progress"]["current"] == 30000.0
    assert [c["id"] for c in whole["children"]] == [
        c["id"] for c in payload["children"]
    ]
    months = [await goal_detail(gql, seller, c["id"]) for c in whole["children"]]
    assert [m["progress"]["current"] for m in months] == [0.0, 0.0, 30000.0]
    december = months[2]
    assert december["period"]["label"] == "2026-12"
    assert december["parent"] == {
        "id": goal_id(parent, Q4_START),
        "title": "2026-Q4 sales",
    }
    assert december["children"] == []


async def test_a_month_splits_into_weeks_by_weight(
    world: World, gql: GraphQL, login: Any
) -> None:
    # December 2026 starts on a Tuesday and ends on a Thursday: five weeks, the
    # first and last reaching outside the month.
    december = q4_sales(
        world,
        title="December sales",
        periodKind="MONTH",
        target="80000.00",
        startsOn="2026-12-01",
        split={"kind": "WEEK", "weights": ["1", "2", "2", "2", "1"]},
    )
    payload = await create(gql, await login("hr@example.com"), december)

    labels = [child["period"]["label"] for child in payload["children"]]
    assert labels == ["2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53"]
    parent_id = pk(payload["goal"]["id"])
    shares = ["10000.00", "20000.00", "20000.00", "20000.00", "10000.00"]
    assert await child_targets(parent_id) == [Decimal(s) for s in shares]
    first, *_, last = await Goal.filter(parent_id=parent_id).order_by("id")
    assert first.active_from == date(2026, 11, 30)
    assert first.window_start == datetime.fromisoformat("2026-12-01T00:00:00+08:00")
    assert last.active_until == date(2027, 1, 4)
    assert last.window_end == Q4_BOUNDS[1]


@pytest.mark.parametrize(
    ("metric", "target", "shares"),
    [
        ("sales_amount", "1000.01", ["333.34", "333.34", "333.33"]),
        ("sales_amount", "0.02", ["0.01", "0.01", "0"]),
        ("new_customer_follow_ups", "10", ["3", "3", "4"]),
        ("new_customer_follow_ups", "2.5", ["0.8333", "0.8333", "0.8334"]),
    ],
)
async def test_shares_add_up_to_the_target_exactly(
    world: World,
    gql: GraphQL,
    login: Any,
    metric: str,
    target: str,
    shares: list[str],
) -> None:
    goal = q4_sales(world, metric=metric, target=target)
    payload = await create(gql, await login("hr@example.com"), goal)

    found = await child_targets(pk(payload["goal"]["id"]))
    assert found == [Decimal(share) for share in shares]
    assert sum(found) == Decimal(target)


async def progress_of(goal_ids: list[int]) -> dict[int, Decimal]:
    rows = await GoalProgress.filter(goal_id__in=goal_ids).values_list(
        "goal_id", "current"
    )
    return dict(rows)


async def test_children_roll_up_into_the_parent_inside_its_quarter(
    world: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    # Q4 2026 runs Thursday 1 October to Thursday 31 December, so its first
    # and last weeks straddle the quarter's bounds.
    clock.now = datetime.fromisoformat("2026-10-02T10:00:00+08:00")
    goal = q4_sales(world, split={"kind": "WEEK"})
    payload = await create(gql, await login("hr@example.com"), goal)
    parent_id = pk(payload["goal"]["id"])
    weeks = await Goal.filter(parent_id=parent_id).order_by("id")
    assert len(weeks) == 14
    assert sum(w.target for w in weeks) == Decimal("900000.00")
    seller = await login("seller@example.com")
    for key, amount, at in (
        ("sep", "1000.00", "2026-09-30"),
        ("oct", "2000.00", "2026-10-02"),
    ):
        sale = order(key, amount, occurredAt=f"{at}T09:00:00+08:00")
        recorded(await record(gql, seller, sale))

    clock.now = datetime.fromisoformat("2027-01-02T10:00:00+08:00")
    seller = await login("seller@example.com")
    for key, amount, at in (
        ("dec", "5000.00", "2026-12-30"),
        ("jan", "7000.00", "2027-01-02"),
    ):
        sale = order(key, amount, occurredAt=f"{at}T09:00:00+08:00")
        recorded(await record(gql, seller, sale))

    progress = await progress_of([parent_id, *(w.id for w in weeks)])
    assert progress.pop(parent_id) == Decimal("7000.00")
    assert progress == {
        weeks[0].id: Decimal("2000.00"),
        weeks[-1].id: Decimal("5000.00"),
    }
    assert sum(progress.values()) == Decimal("7000.00")
    last_week = await goal_detail(gql, seller, goal_id(weeks[-1]))
    assert last_week["period"]["label"] == "2026-W53"
    assert last_week["progress"]["current"] == 5000.0
    assert last_week["parent"]["id"] == goal_id(await Goal.get(id=parent_id), Q4_START)
    quarter = await goal_detail(gql, seller, last_week["parent"]["id"])
    assert quarter["progress"]["current"] == 7000.0
    assert len(quarter["children"]) == 14


async def test_a_recurring_goal_pays_its_rewards_on_completion(
    world: World, gql: GraphQL, login: Any
) -> None:
    weekly = {
        "memberId": global_id("Member", world.teammate.id),
        "metric": "new_customer_follow_ups",
        "title": "3 new customers",
        "periodKind": "WEEK",
        "target": "3",
        "recurring": True,
        "rewards": [
            {"kind": "CASH", "title": "Bonus", "amount": "200.5"},
            {"kind": "TRAINING", "title": "Course", "quantity": "1"},
        ],
    }
    payload = await create(gql, await login("manager@example.com"), weekly)
    assert payload["goal"]["period"] == {"kind": "WEEK", "label": "2026-W49"}
    assert payload["children"] == []
    goal = await Goal.get(id=pk(payload["goal"]["id"]))
    assert (goal.active_from, goal.active_until) == (date(2026, 11, 30), None)
    rewards = await GoalReward.filter(goal_id=goal.id).order_by("id")
    assert [(r.kind, r.amount, r.quantity) for r in rewards] == [
        ("CASH", Decimal("200.50"), None),
        ("TRAINING", None, Decimal(1)),
    ]

    mate = await login("mate@example.com")
    answers = [recorded(await record(gql, mate, follow_up(f"f{n}"))) for n in range(3)]
    earned = [e for e in answers[-1]["achievements"] if e["kind"] == "REWARD_EARNED"]
    assert [e["reward"]["title"] for e in earned] == ["Bonus", "Course"]
    assert earned[0]["reward"]["amount"] == {"amount": "200.50", "currency": "CNY"}


async def test_a_manager_splits_a_goal_for_his_own_team(
    world: World, gql: GraphQL, login: Any
) -> None:
    team_goal = q4_sales(world, memberId=None, teamId=global_id("Team", world.team.id))
    payload = await create(gql, await login("manager@example.com"), team_goal)

    children = await Goal.filter(parent_id=pk(payload["goal"]["id"]))
    assert {(c.team_id, c.member_id) for c in children} == {(world.team.id, None)}
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, order("o1", "1500.00")))
    december = await goal_detail(gql, seller, payload["children"][2]["id"])
    assert december["progress"]["current"] == 1500.0


async def refused(gql: GraphQL, token: str, goal: dict[str, Any]) -> dict[str, Any]:
    """The answer to a refused createGoal, which must have written nothing."""
    before = (await Goal.all().count(), await GoalReward.all().count())
    body = await gql(CREATE_GOAL, {"input": goal}, token)
    assert body["data"] is None
    assert (await Goal.all().count(), await GoalReward.all().count()) == before
    return body


@pytest.mark.parametrize(
    ("email", "owner", "code"),
    [
        ("seller@example.com", "seller", "FORBIDDEN"),
        ("partner@example.com", "seller", "FORBIDDEN"),
        ("manager@example.com", "outsider", "FORBIDDEN"),
        ("manager@example.com", "other_team", "FORBIDDEN"),
        ("hr@example.com", "b-seller", "NOT_FOUND"),
        ("hr@example.com", "b-team", "NOT_FOUND"),
        ("manager@example.com", "b-seller", "NOT_FOUND"),
        ("hr@example.com", "beyond-bigint", "NOT_FOUND"),
    ],
)
async def test_who_may_set_goals_for_whom(
    world: World, gql: GraphQL, login: Any, email: str, owner: str, code: str
) -> None:
    other = await build_world("b-")
    owners = {
        "seller": ("memberId", global_id("Member", world.seller.id)),
        "outsider": ("memberId", global_id("Member", world.outsider.id)),
        "other_team": ("teamId", global_id("Team", world.other_team.id)),
        "b-seller": ("memberId", global_id("Member", other.seller.id)),
        "b-team": ("teamId", global_id("Team", other.team.id)),
        "beyond-bigint": ("memberId", global_id("Member", "9" * 25)),
    }
    field, node_id = owners[owner]
    goal = q4_sales(world, **{"memberId": None, field: node_id})
    assert error_codes(await refused(gql, await login(email), goal)) == [code]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target": "-5.00"}, "target"),
        ({"target": "0"}, "target"),
        ({"target": "1000.001"}, "target"),
        ({"metric": "no_such_metric"}, "metric"),
        ({"title": "  "}, "title"),
        ({"teamId": A_TEAM}, "memberId"),
        ({"memberId": None}, "memberId"),
        ({"memberId": A_TEAM}, "memberId"),
        ({"memberId": "not a global id"}, "memberId"),
        ({"startsOn": "2026-13-01"}, None),
        ({"startsOn": "0001-01-01", "periodKind": "WEEK", "split": None}, "startsOn"),
        ({"startsOn": "9999-12-31"}, "startsOn"),
        ({"target": "1E+999999"}, "target"),
        ({"title": "Q4\x00"}, "title"),
        ({"metric": "sales_amount\x00"}, "metric"),
        ({"memberId": str(relay.GlobalID("Member", "١"))}, "memberId"),
        (
            {"split": {"kind": "MONTH", "weights": ["1E+999999", "1", "1"]}},
            "split.weights",
        ),
        ({"split": {"kind": "MONTH", "weights": ["1", "1"]}}, "split.weights"),
        ({"split": {"kind": "MONTH", "weights": ["0", "0", "0"]}}, "split.weights"),
        ({"split": {"kind": "MONTH", "weights": ["2", "-1", "1"]}}, "split.weights"),
        ({"split": {"kind": "QUARTER"}}, "split.kind"),
        ({"split": {"kind": "YEAR"}}, "split.kind"),
        ({"recurring": True}, "split"),
        (
            {"rewards": [{"kind": "CASH", "title": "Bonus", "amount": "500.005"}]},
            "rewards[0].amount",
        ),
        ({"rewards": [{"kind": "CASH", "title": "Bonus"}]}, "rewards[0].amount"),
        (
            {"rewards": [{"kind": "CASH", "title": "B\x00", "amount": "1"}]},
            "rewards[0].title",
        ),
        (
            {"rewards": [{"kind": "TRAINING", "title": "Course", "amount": "1"}]},
            "rewards[0].amount",
        ),
        (
            {"rewards": [{"kind": "PAID_LEAVE", "title": "Off", "quantity": "-1"}]},
            "rewards[0].quantity",
        ),
    ],
)
async def test_bad_input_writes_nothing(
    world: World, gql: GraphQL, login: Any, change: dict[str, Any], field: str | None
) -> None:
    body = await refused(gql, await login("hr@example.com"), q4_sales(world, **change))
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"].get("field") == field


async def test_a_metric_of_another_company_is_unknown_here(
    world: World, gql: GraphQL, login: Any
) -> None:
    other = await build_world("b-")
    await MetricDefinition.create(
        company=other.company,
        key="b_only",
        name="Theirs",
        activity_kind=other.sales.activity_kind,
        aggregation=other.sales.aggregation,
    )
    hr = await login("hr@example.com")
    theirs = await refused(gql, hr, q4_sales(world, metric="b_only"))
    unknown = await refused(gql, hr, q4_sales(world, metric="nobody_has"))
    assert error_codes(theirs) == error_codes(unknown) == ["BAD_USER_INPUT"]


async def test_a_failure_after_the_split_leaves_nothing_behind(
    world: World, gql: GraphQL, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = goal_plan.split_goal

    async def split_then_fail(*args: Any) -> list[Goal]:
        await real(*args)
        raise RuntimeError("disk full")

    monkeypatch.setattr(goal_plan, "split_goal", split_then_fail)
    rewarded = q4_sales(world, rewards=[{"kind": "CASH", "title": "B", "amount": "1"}])
    body = await refused(gql, await login("hr@example.com"), rewarded)
    assert error_codes(body) == ["INTERNAL"]


async def test_a_goal_is_split_only_once(world: World) -> None:
    quarter = await Goal.create(
        company=world.company,
        member=world.seller,
        metric=world.follow_ups,
        title="Q4 follow-ups",
        titles={"zh-CN": "第四季度跟进"},
        period_kind=PeriodKind.QUARTER,
        target=Decimal(120),
        active_from=Q4_START,
        active_until=date(2027, 1, 1),
    )
    months = await goal_plan.split_goal(quarter, PeriodKind.MONTH, None, SHANGHAI)
    assert [month.target for month in months] == [Decimal(40)] * 3
    assert months[0].titles == {"zh-CN": "第四季度跟进 · 2026-10"}
    assert (await Goal.get(id=months[2].id)).title == "Q4 follow-ups · 2026-12"
    with pytest.raises(Conflict):
        await goal_plan.split_goal(quarter, PeriodKind.WEEK, None, SHANGHAI)
    assert await Goal.filter(parent_id=quarter.id).count() == 3


async def test_a_goal_set_mid_quarter_starts_from_what_was_already_done(
    world: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    seller = await login("seller@example.com")
    for key, amount, at in (
        ("sep", "1000.00", "2026-09-30"),  # before the quarter: never counts
        ("oct", "2000.00", "2026-10-15"),
        ("nov", "3000.00", "2026-11-20"),
        ("dec", "4000.00", "2026-12-01"),
    ):
        clock.now = datetime.fromisoformat(f"{at}T18:00:00+08:00")
        sale = order(key, amount, occurredAt=f"{at}T09:00:00+08:00")
        recorded(await record(gql, await login("seller@example.com"), sale))
    clock.now = datetime.fromisoformat("2026-12-04T10:00:00+08:00")
    events_before = await AchievementEvent.all().count()

    hr = await login("hr@example.com")
    payload = await create(gql, hr, q4_sales(world, target="8000.00"))

    parent_id = pk(payload["goal"]["id"])
    months = await Goal.filter(parent_id=parent_id).order_by("id")
    progress = await progress_of([parent_id, *(m.id for m in months)])
    assert progress == {
        parent_id: Decimal("9000.00"),
        months[0].id: Decimal("2000.00"),
        months[1].id: Decimal("3000.00"),
        months[2].id: Decimal("4000.00"),
    }
    quarter = await goal_detail(
        gql,
        await login("seller@example.com"),
        goal_id(await Goal.get(id=parent_id), Q4_START),
    )
    assert quarter["progress"]["status"] == "ACHIEVED"
    # Met before it was set: no events and no rewards after the fact.
    assert await AchievementEvent.all().count() == events_before
    more = order("dec-2", "500.00", occurredAt="2026-12-04T09:30:00+08:00")
    answer = recorded(await record(gql, seller, more))
    assert [e["kind"] for e in answer["achievements"]] == ["ORDER_CLOSED"]
    assert (await progress_of([parent_id]))[parent_id] == Decimal("9500.00")
