"""Incentive plans paying through recordActivity, with worked numbers."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import PeriodKind
from spur.models import (
    EntryCause,
    LedgerEntry,
    MetricDefinition,
    RewardKind,
    RewardStatus,
    RuleKind,
)
from tests.api.conftest import document
from tests.api.helpers import GraphQL, order, record, recorded
from tests.factories import World
from tests.plans import PlanSpec, Rule, add_version, make_plan

CHANGE_DAY = date(2026, 12, 4)
YOUNG = PlanSpec(
    "Young staff",
    [Rule("commission", RuleKind.COMMISSION, {"rate": "0.05"}, title="Commission")],
)
RAISED = [
    Rule(
        "commission",
        RuleKind.COMMISSION,
        {"rate": "0.05", "overrides": [{"market": "SEA", "rate": "0.08"}]},
        title="Commission",
    )
]


async def _commission_lines(member_id: int) -> list[LedgerEntry]:
    return await LedgerEntry.filter(
        member_id=member_id, kind=RewardKind.COMMISSION
    ).order_by("id")


async def test_the_sea_raise_pays_from_its_day_and_not_before(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, YOUNG)
    await add_version(plan, RAISED, CHANGE_DAY)
    token = await login("seller@example.com")

    before = recorded(
        await record(
            gql,
            token,
            order("o-1", "10000.00", market="SEA", occurredAt="2026-12-03T15:00+08:00"),
        )
    )
    on_the_day = recorded(
        await record(
            gql,
            token,
            order("o-2", "10000.00", market="SEA", occurredAt="2026-12-04T00:00+08:00"),
        )
    )

    lines = await _commission_lines(world.seller.id)
    assert [line.amount for line in lines] == [Decimal("500.00"), Decimal("800.00")]
    assert lines[1].inputs["rate"] == "0.08"
    assert lines[1].inputs["base"] == "10000.00"
    assert lines[0].plan_version_id != lines[1].plan_version_id
    assert (lines[1].status, lines[1].cause) == (
        RewardStatus.APPROVED,
        EntryCause.EARNED,
    )
    rewards = [a["reward"]["amount"] for a in on_the_day["achievements"] if a["reward"]]
    assert rewards == [{"amount": "800.00", "currency": "CNY"}]
    assert before["achievements"][-1]["reward"]["amount"]["amount"] == "500.00"


async def test_home_screen_earnings_follow_the_ledger(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, YOUNG)
    await add_version(plan, RAISED, CHANGE_DAY)
    token = await login("seller@example.com")
    await record(gql, token, order("o-1", "10000.00", market="SEA"))

    home = await gql(document("HomeScreen"), {}, token)

    viewer = home["data"]["viewer"]
    assert viewer["earnings"]["total"] == {"amount": "800.00", "currency": "CNY"}
    top = viewer["rewards"]["edges"][0]["node"]
    assert (top["kind"], top["amount"]["amount"]) == ("COMMISSION", "800.00")


async def test_a_dollar_order_converts_at_the_rate_of_its_day_to_the_fen(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    token = await login("seller@example.com")

    await record(gql, token, order("usd-1", "12345.67", currency="USD"))

    (line,) = await _commission_lines(world.seller.id)
    converted = Decimal("87943.15")  # 12,345.67 × 7.1234 = 87,943.145678
    assert line.inputs["base"] == f"{converted:f}"
    assert line.inputs["exchange_rate"] == "7.1234"
    assert line.inputs["order_amount"] == "12345.67 USD"
    assert line.amount == Decimal("4397.16")  # 5% of 87,943.15 = 4,397.1575


async def test_a_repeated_or_concurrent_order_pays_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    token = await login("seller@example.com")

    answers = await asyncio.gather(
        *(record(gql, token, order("same", "1000.00")) for _ in range(6))
    )

    assert sorted(recorded(a)["duplicate"] for a in answers) == [False] + [True] * 5
    assert [line.amount for line in await _commission_lines(world.seller.id)] == [
        Decimal("50.00")
    ]


async def test_a_refund_takes_back_exactly_what_the_order_earned(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    token = await login("seller@example.com")

    await record(gql, token, order("o-1", "1234.57"))
    refund = recorded(await record(gql, token, order("r-1", "-1234.57")))

    amounts = [line.amount for line in await _commission_lines(world.seller.id)]
    assert amounts == [Decimal("61.73"), Decimal("-61.73")]
    assert refund["achievements"] == []


async def _replies_metric(world: World) -> MetricDefinition:
    return await MetricDefinition.create(
        company=world.company,
        key="inquiry_replies_within_60",
        name="Inquiries answered within an hour",
        activity_kind=ActivityKind.INQUIRY_REPLIED,
        aggregation=Aggregation.COUNT,
        reply_within_minutes=60,
    )


def _reply(n: int, minutes: int = 20) -> dict[str, Any]:
    return {
        "kind": "INQUIRY_REPLIED",
        "occurredAt": "2026-12-04T09:00:00+08:00",
        "source": "alibaba",
        "externalId": f"reply-{n}",
        "responseMinutes": minutes,
    }


async def test_a_step_pays_at_10_and_20_replies_and_not_at_9_19_or_21(
    world: World, gql: GraphQL, login: Any
) -> None:
    metric = await _replies_metric(world)
    step = Rule(
        "fast-replies",
        RuleKind.STEP,
        {"every": "10", "amount": "200.00"},
        metric=metric,
        period_kind=PeriodKind.WEEK,
    )
    await make_plan(world.company, PlanSpec("Replies", [step]))
    token = await login("seller@example.com")

    paid_after: dict[int, int] = {}
    for n in range(1, 22):
        await record(gql, token, _reply(n))
        paid_after[n] = await LedgerEntry.filter(member_id=world.seller.id).count()
    await record(gql, token, _reply(99, minutes=61))  # too slow: no unit

    assert [paid_after[n] for n in (9, 10, 19, 20, 21)] == [0, 1, 1, 2, 2]
    lines = await LedgerEntry.filter(member_id=world.seller.id).order_by("id")
    assert [line.inputs["steps"] for line in lines] == ["1-1", "2-2"]
    assert {line.amount for line in lines} == {Decimal("200.00")}


async def test_a_member_cap_holds_the_month_and_records_what_was_cut(
    world: World, gql: GraphQL, login: Any
) -> None:
    capped = PlanSpec(
        "Capped",
        YOUNG.rules,
        member_cap=Decimal("1000.00"),
        cap_period=PeriodKind.MONTH,
    )
    await make_plan(world.company, capped)
    token = await login("seller@example.com")

    for n, amount in enumerate(("15000.00", "10000.00", "4000.00")):
        await record(gql, token, order(f"o-{n}", amount))

    lines = await _commission_lines(world.seller.id)
    assert [line.amount for line in lines] == [
        Decimal("750.00"),
        Decimal("250.00"),
        Decimal("0.00"),
    ]
    assert lines[1].inputs["uncapped"] == "500.00"


async def test_entries_above_the_threshold_wait_for_approval(
    world: World, gql: GraphQL, login: Any
) -> None:
    spec = PlanSpec("Reviewed", YOUNG.rules, approval_threshold=Decimal("100.00"))
    await make_plan(world.company, spec)
    token = await login("seller@example.com")

    await record(gql, token, order("small", "2000.00"))  # 100.00: not above
    await record(gql, token, order("large", "2000.20"))

    statuses = [line.status for line in await _commission_lines(world.seller.id)]
    assert statuses == [RewardStatus.APPROVED, RewardStatus.PENDING]


async def test_a_plan_for_others_pays_nothing(
    world: World, gql: GraphQL, login: Any
) -> None:
    from tests.plans import Audience

    spec = PlanSpec("Seniors", YOUNG.rules, audiences=[Audience(min_age=35)])
    await make_plan(world.company, spec)
    token = await login("seller@example.com")

    await record(gql, token, order("o-1", "1000.00"))

    assert await _commission_lines(world.seller.id) == []
