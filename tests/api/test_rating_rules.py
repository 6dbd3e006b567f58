"""Team rules, target bonuses, goal completion, budgets, tiers and periods."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import PeriodKind
from spur.models import (
    AchievementEvent,
    EventKind,
    Goal,
    LedgerEntry,
    MetricDefinition,
    RewardKind,
    RewardStatus,
    RuleKind,
)
from tests.api.helpers import GraphQL, follow_up, order, record, recorded
from tests.factories import World
from tests.plans import Audience, PlanSpec, Rule, make_plan


async def _lines(member_id: int) -> list[LedgerEntry]:
    return await LedgerEntry.filter(member_id=member_id).order_by("id")


async def test_team_sales_of_a_million_make_the_lead_a_team_star_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    star = Rule(
        "team-star",
        RuleKind.TEAM_THRESHOLD,
        {
            "threshold": "1000000",
            "entitlement": {
                "kind": "HONOR_TITLE",
                "title": "Team Star",
                "titles": {"zh-CN": "团队之星"},
            },
        },
        metric=world.sales,
        period_kind=PeriodKind.QUARTER,
    )
    await make_plan(world.company, PlanSpec("Team rules", [star]))
    seller = await login("seller@example.com")
    mate = await login("mate@example.com")

    await record(gql, seller, order("a", "600000.00"))
    await record(gql, mate, order("b", "399999.99"))
    assert await _lines(world.manager.id) == []
    crossing = recorded(await record(gql, mate, order("c", "0.01")))
    await record(gql, seller, order("d", "5000.00"))

    (title,) = await _lines(world.manager.id)
    assert (title.kind, title.title, title.amount) == (
        RewardKind.HONOR_TITLE,
        "Team Star",
        None,
    )
    assert title.inputs["value"] == "1000000"
    assert title.titles == {"zh-CN": "团队之星"}
    assert crossing["achievements"][-1]["kind"] == "REWARD_EARNED"
    event = await AchievementEvent.get(ledger_entry_id=title.id)
    assert (event.member_id, event.team_id) == (world.manager.id, world.team.id)


async def test_a_plan_that_does_not_cover_the_lead_pays_no_team_rule(
    world: World, gql: GraphQL, login: Any
) -> None:
    star = Rule(
        "team-star",
        RuleKind.TEAM_THRESHOLD,
        {"threshold": "100", "entitlement": {"kind": "HONOR_TITLE", "title": "Star"}},
        metric=world.sales,
        period_kind=PeriodKind.QUARTER,
    )
    elders = [Audience(min_age=35)]  # the manager was born in 1996
    await make_plan(world.company, PlanSpec("Elders", [star], audiences=elders))

    await record(gql, await login("seller@example.com"), order("a", "500.00"))

    assert await _lines(world.manager.id) == []


async def _platform_minutes(world: World) -> MetricDefinition:
    return await MetricDefinition.create(
        company=world.company,
        key="platform_minutes",
        name="Platform minutes",
        unit="min",
        activity_kind=ActivityKind.PLATFORM_SESSION,
        aggregation=Aggregation.SUM_QUANTITY,
    )


def _session(key: str, minutes: int, day: str) -> dict[str, Any]:
    return {
        "kind": "PLATFORM_SESSION",
        "occurredAt": f"{day}T09:00:00+08:00",
        "quantity": minutes,
        "source": "alibaba",
        "externalId": key,
    }


async def test_leave_for_the_lead_when_the_team_upkeep_rate_reaches_its_line(
    world: World, gql: GraphQL, login: Any
) -> None:
    minutes = await _platform_minutes(world)
    # A week: 5 working days × 2 salespeople = 10 member-days; 80% is 8.
    upkeep = Rule(
        "upkeep",
        RuleKind.TEAM_THRESHOLD,
        {
            "measure": "UPKEEP_RATE",
            "threshold": "0.80",
            "minMinutes": "60",
            "entitlement": {"kind": "PAID_LEAVE", "quantity": "3"},
        },
        metric=minutes,
        period_kind=PeriodKind.WEEK,
    )
    await make_plan(world.company, PlanSpec("Upkeep", [upkeep]))
    tokens = [await login("seller@example.com"), await login("mate@example.com")]

    days = ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
    for n, day in enumerate(days):
        for who, token in enumerate(tokens):
            await record(gql, token, _session(f"s{n}{who}a", 40, day))
            assert await _lines(world.manager.id) == []
            await record(gql, token, _session(f"s{n}{who}b", 20, day))  # 60: a day
    (leave,) = await _lines(world.manager.id)
    await record(gql, tokens[0], _session("extra", 90, "2026-12-04"))

    assert (leave.kind, leave.quantity) == (RewardKind.PAID_LEAVE, Decimal(3))
    assert (leave.inputs["needed"], leave.inputs["value"]) == ("8", "8")
    assert len(await _lines(world.manager.id)) == 1


async def _quarter_goal(world: World, target: str) -> Goal:
    return await Goal.create(
        company=world.company,
        member=world.seller,
        metric=world.sales,
        title="Quarterly sales",
        period_kind=PeriodKind.QUARTER,
        target=Decimal(target),
        active_from=date(2026, 10, 1),
    )


async def test_the_quarter_bonus_pays_a_share_of_all_sales_once_the_target_is_met(
    world: World, gql: GraphQL, login: Any
) -> None:
    await _quarter_goal(world, "100000")
    bonus = Rule(
        "quarter",
        RuleKind.TARGET_BONUS,
        {
            "share": "0.01",
            "entitlement": {"kind": "HONOR_TITLE", "title": "Target achiever"},
        },
        metric=world.sales,
        period_kind=PeriodKind.QUARTER,
    )
    await make_plan(world.company, PlanSpec("Everyone", [bonus]))
    token = await login("seller@example.com")

    for key, amount in (("a", "60000.00"), ("b", "40000.00"), ("c", "5000.00")):
        await record(gql, token, order(key, amount))
    await record(gql, token, order("refund", "-5000.01"))

    lines = await _lines(world.seller.id)
    assert [(line.kind, line.amount) for line in lines] == [
        (RewardKind.CASH, Decimal("1000.00")),
        (RewardKind.HONOR_TITLE, None),
        (RewardKind.CASH, Decimal("50.00")),
        (RewardKind.CASH, Decimal("-1050.00")),  # below the target again
    ]


async def test_a_goal_completion_rule_pays_when_the_members_goal_is_met(
    world: World, gql: GraphQL, login: Any
) -> None:
    rule = Rule(
        "follow-ups",
        RuleKind.GOAL_COMPLETION,
        {
            "amount": "88.00",
            "entitlement": {"kind": "LEAD_ALLOCATION", "quantity": "2"},
        },
        metric=world.follow_ups,
        period_kind=PeriodKind.WEEK,
    )
    await make_plan(world.company, PlanSpec("Goals", [rule]))
    token = await login("seller@example.com")

    for n in range(11):
        await record(gql, token, follow_up(f"f{n}"))

    plan_lines = [
        (line.kind, line.amount, line.quantity)
        for line in await _lines(world.seller.id)
        if line.rule_id is not None
    ]
    assert plan_lines == [
        (RewardKind.CASH, Decimal("88.00"), None),
        (RewardKind.LEAD_ALLOCATION, None, Decimal(2)),
    ]


async def test_a_plan_budget_is_shared_and_never_overspent_under_concurrency(
    world: World, gql: GraphQL, login: Any
) -> None:
    spec = PlanSpec(
        "Budgeted",
        [Rule("c", RuleKind.COMMISSION, {"rate": "0.10"})],
        budget=Decimal("250.00"),
        budget_period=PeriodKind.MONTH,
    )
    await make_plan(world.company, spec)
    tokens = [await login("seller@example.com"), await login("mate@example.com")]

    await asyncio.gather(
        *(record(gql, tokens[n % 2], order(f"o{n}", "1000.00")) for n in range(6))
    )

    amounts = await LedgerEntry.filter(rule_id__isnull=False).values_list(
        "amount", flat=True
    )
    assert sum(amounts, Decimal(0)) == Decimal("250.00")
    assert sorted(amounts) == [0, 0, 0, Decimal("50.00"), 100, 100]


async def test_slab_tiers_over_the_month_lift_the_whole_month_at_the_bound(
    world: World, gql: GraphQL, login: Any
) -> None:
    tiers = {
        "tiers": {
            "mode": "SLAB",
            "basis": "PERIOD",
            "bands": [
                {"from": "0", "to": "10000", "rate": "0.02"},
                {"from": "10000", "rate": "0.04"},
            ],
        }
    }
    rule = Rule(
        "slab",
        RuleKind.COMMISSION,
        tiers,
        metric=world.sales,
        period_kind=PeriodKind.MONTH,
    )
    await make_plan(world.company, PlanSpec("Slabs", [rule]))
    token = await login("seller@example.com")

    await record(gql, token, order("a", "9999.99"))
    await record(gql, token, order("b", "0.01"))  # exactly on the bound

    amounts = [line.amount for line in await _lines(world.seller.id)]
    assert amounts == [Decimal("200.00"), Decimal("200.00")]  # 400 on 10,000


async def test_periods_are_counted_in_the_company_time_zone(
    world: World, gql: GraphQL, login: Any
) -> None:
    rule = Rule(
        "slab",
        RuleKind.TARGET_BONUS,
        {"share": "0.10", "target": "1000"},
        metric=world.sales,
        period_kind=PeriodKind.MONTH,
    )
    await make_plan(world.company, PlanSpec("Monthly", [rule]))
    token = await login("seller@example.com")

    # 30 November 23:30 in Shanghai is still November; 1 December 00:10 is not.
    await record(gql, token, order("nov", "900.00", occurredAt="2026-11-30T15:30Z"))
    await record(gql, token, order("dec", "900.00", occurredAt="2026-11-30T16:10Z"))

    assert await _lines(world.seller.id) == []


async def test_pending_entries_name_their_plan_version_and_inputs(
    world: World, gql: GraphQL, login: Any
) -> None:
    spec = PlanSpec(
        "Big",
        [Rule("c", RuleKind.COMMISSION, {"rate": "0.05"}, title="Commission")],
        approval_threshold=Decimal("0"),
    )
    plan = await make_plan(world.company, spec)

    await record(gql, await login("seller@example.com"), order("a", "100.00"))

    (line,) = await _lines(world.seller.id)
    assert line.status is RewardStatus.PENDING
    assert line.rule_ref == f"plan:{plan.id}:v1:c"
    assert set(line.inputs) >= {"base", "rate", "source"}
    events = await AchievementEvent.filter(kind=EventKind.REWARD_EARNED).count()
    assert events == 1
