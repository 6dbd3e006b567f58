"""previewPlanVersion: a rule change tried on the last days of real activity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from spur.engine.metrics import ActivityKind, Aggregation
from spur.models import (
    IncentivePlan,
    LedgerEntry,
    MetricDefinition,
    PlanRule,
    PlanVersion,
    RuleCounter,
    RuleKind,
)
from tests.api.helpers import (
    GraphQL,
    error_codes,
    global_id,
    order,
    record,
    recorded,
    row_counts,
)
from tests.factories import World, build_world
from tests.plans import PlanSpec, Rule, add_version, make_plan

PREVIEW = """
query($input: PreviewPlanVersionInput!) {
  previewPlanVersion(input: $input) {
    window { from to start end }
    activities
    total { current { amount currency } proposed { amount } difference { amount } }
    members {
      member { id name }
      cost { current { amount } proposed { amount } difference { amount } }
    }
    teams {
      team { id name }
      cost { current { amount } proposed { amount } difference { amount } }
    }
  }
}
"""
FLAT = [Rule("commission", RuleKind.COMMISSION, {"rate": "0.05"}, title="Commission")]
COMMISSION = {"code": "commission", "kind": "COMMISSION", "title": "Commission"}
SEA_RAISE = {
    **COMMISSION,
    "params": {"rate": "0.05", "overrides": [{"market": "SEA", "rate": "0.08"}]},
}


def money(amount: str) -> dict[str, str]:
    return {"amount": amount}


def cost(current: str, proposed: str, difference: str) -> dict[str, Any]:
    return {
        "current": money(current),
        "proposed": money(proposed),
        "difference": money(difference),
    }


async def preview(
    gql: GraphQL, token: str, plan: IncentivePlan, rules: list[Any], **extra: Any
) -> dict[str, Any]:
    variables = {
        "input": {"planId": global_id("IncentivePlan", plan.id), "rules": rules} | extra
    }
    body = await gql(PREVIEW, variables, token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["previewPlanVersion"]
    return found


async def stored_rows() -> dict[str, int]:
    counts = await row_counts()
    for model in (PlanVersion, PlanRule, RuleCounter):
        counts[model.__name__] = await model.all().count()
    return counts


def optimisation(key: str, market: str) -> dict[str, Any]:
    return {
        "kind": "PRODUCT_OPTIMIZED",
        "occurredAt": "2026-12-03T15:00:00+08:00",
        "market": market,
        "source": "alibaba",
        "externalId": key,
    }


async def test_the_sea_raise_costs_300_more_on_a_10000_order(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, order("sea", "10000.00", market="SEA")))
    hr = await login("hr@example.com")
    before = await stored_rows()

    found = await preview(gql, hr, plan, [SEA_RAISE])

    assert await stored_rows() == before
    assert found["window"] == {
        "from": "2026-11-05",
        "to": "2026-12-05",
        "start": "2026-11-05T00:00:00+08:00",
        "end": "2026-12-05T00:00:00+08:00",
    }
    assert found["activities"] == 1
    assert found["total"] == {
        "current": {"amount": "500.00", "currency": "CNY"},
        "proposed": money("800.00"),
        "difference": money("300.00"),
    }
    assert found["members"] == [
        {
            "member": {"id": global_id("Member", world.seller.id), "name": "Seller"},
            "cost": cost("500.00", "800.00", "300.00"),
        }
    ]
    assert found["teams"] == [
        {
            "team": {"id": global_id("Team", world.team.id), "name": "Southeast Asia"},
            "cost": cost("500.00", "800.00", "300.00"),
        }
    ]


async def test_300_for_each_sea_product_optimisation_costs_900_for_three(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    await MetricDefinition.create(
        company=world.company,
        key="sea_optimizations",
        name="Product optimisations on the Southeast Asia storefront",
        activity_kind=ActivityKind.PRODUCT_OPTIMIZED,
        aggregation=Aggregation.COUNT,
        market="SEA",
    )
    seller = await login("seller@example.com")
    for n in range(3):
        recorded(await record(gql, seller, optimisation(f"sea-{n}", "SEA")))
    recorded(await record(gql, seller, optimisation("eu", "EU")))
    recorded(await record(gql, seller, order("o", "1000.00", market="EU")))
    step = {
        "code": "sea-optimisation",
        "kind": "STEP",
        "title": "300.00 CNY for each product optimisation on the SEA storefront",
        "metric": "sea_optimizations",
        "periodKind": "MONTH",
        "params": {"every": "1", "amount": "300.00"},
    }
    before = await stored_rows()

    found = await preview(
        gql,
        await login("hr@example.com"),
        plan,
        [{**COMMISSION, "params": {"rate": "0.05"}}, step],
    )

    assert await stored_rows() == before
    assert found["activities"] == 5
    assert found["total"]["difference"] == money("900.00")
    assert [m["cost"] for m in found["members"]] == [cost("50.00", "950.00", "900.00")]
    assert [t["cost"] for t in found["teams"]] == [cost("50.00", "950.00", "900.00")]


async def test_the_proposal_holds_the_whole_window_and_its_cap_bites(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    raise_from_dec_2 = [
        Rule(
            "commission",
            RuleKind.COMMISSION,
            {"rate": "0.05", "overrides": [{"market": "SEA", "rate": "0.08"}]},
        )
    ]
    await add_version(plan, raise_from_dec_2, date(2026, 12, 2))
    seller, mate = await login("seller@example.com"), await login("mate@example.com")
    early = order(
        "early", "10000.00", market="SEA", occurredAt="2026-11-20T10:00+08:00"
    )
    recorded(await record(gql, seller, early))
    recorded(await record(gql, seller, order("late", "10000.00", market="SEA")))
    recorded(await record(gql, mate, order("mate", "10000.00", market="SEA")))
    hr = await login("hr@example.com")
    flat_6 = [{**COMMISSION, "params": {"rate": "0.06"}}]

    found = await preview(
        gql, hr, plan, flat_6, memberCap="500.00", capPeriod="MONTH", days=20
    )

    assert found["window"]["from"] == "2026-11-15"
    assert found["total"] == {
        "current": {"amount": "2100.00", "currency": "CNY"},
        "proposed": money("1500.00"),
        "difference": money("-600.00"),
    }
    by_member = {m["member"]["name"]: m["cost"] for m in found["members"]}
    assert by_member == {
        "Seller": cost("1300.00", "1000.00", "-300.00"),  # 600 a month, capped
        "Mate": cost("800.00", "500.00", "-300.00"),
    }
    assert [m["member"]["name"] for m in found["members"]] == ["Mate", "Seller"]


async def test_a_short_window_leaves_older_activity_out(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    seller = await login("seller@example.com")
    old = order("old", "10000.00", market="SEA", occurredAt="2026-11-20T10:00+08:00")
    recorded(await record(gql, seller, old))

    found = await preview(gql, await login("hr@example.com"), plan, [SEA_RAISE], days=7)

    assert found["window"]["from"] == "2026-11-28"
    assert (found["activities"], found["members"], found["teams"]) == (0, [], [])
    assert found["total"]["difference"] == money("0.00")


BAD_PROPOSALS = {
    "days 0": ({"days": 0}, [SEA_RAISE], "days"),
    "days 91": ({"days": 91}, [SEA_RAISE], "days"),
    "a rate as a number": (
        {},
        [{**COMMISSION, "params": {"rate": 0.05}}],
        "rules.0.params.rate",
    ),
    "an unknown metric": (
        {},
        [{**SEA_RAISE, "metric": "no_such_metric"}],
        "rules.0.metric",
    ),
    "a step without a period": (
        {},
        [
            {
                "code": "s",
                "kind": "STEP",
                "title": "Steps",
                "metric": "sales_amount",
                "params": {"every": "10", "amount": "1.00"},
            }
        ],
        "rules.0.periodKind",
    ),
    "two rules with one code": ({}, [SEA_RAISE, SEA_RAISE], "rules.1.code"),
    "a cap without its period": ({"memberCap": "100.00"}, [SEA_RAISE], "capPeriod"),
}


@pytest.mark.parametrize(
    ("extra", "rules", "field"), BAD_PROPOSALS.values(), ids=list(BAD_PROPOSALS)
)
async def test_a_bad_proposal_is_refused_as_add_plan_version_would(
    world: World,
    gql: GraphQL,
    login: Any,
    extra: dict[str, Any],
    rules: list[Any],
    field: str,
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    variables = {
        "input": {"planId": global_id("IncentivePlan", plan.id), "rules": rules} | extra
    }
    body = await gql(PREVIEW, variables, await login("hr@example.com"))
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == field


@pytest.mark.parametrize(
    "email", ["seller@example.com", "manager@example.com", "partner@example.com"]
)
async def test_only_hr_admins_preview(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    variables = {
        "input": {"planId": global_id("IncentivePlan", plan.id), "rules": [SEA_RAISE]}
    }
    body = await gql(PREVIEW, variables, await login(email))
    assert error_codes(body) == ["FORBIDDEN"]


async def test_another_companys_or_an_inactive_plan_is_refused(
    world: World, gql: GraphQL, login: Any
) -> None:
    elsewhere = await build_world("b-")
    theirs = await make_plan(elsewhere.company, PlanSpec("Theirs", FLAT))
    stopped = await make_plan(world.company, PlanSpec("Stopped", FLAT))
    stopped.is_active = False
    await stopped.save()
    hr = await login("hr@example.com")

    for plan, code in ((theirs, "NOT_FOUND"), (stopped, "BAD_USER_INPUT")):
        variables = {
            "input": {
                "planId": global_id("IncentivePlan", plan.id),
                "rules": [SEA_RAISE],
            }
        }
        body = await gql(PREVIEW, variables, hr)
        assert error_codes(body) == [code]
        assert body["errors"][0]["extensions"]["field"] == "planId"


async def test_the_proposal_is_not_saved_and_changes_no_later_rating(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    seller = await login("seller@example.com")
    await preview(gql, await login("hr@example.com"), plan, [SEA_RAISE])

    recorded(await record(gql, seller, order("after", "10000.00", market="SEA")))

    assert await PlanVersion.filter(plan_id=plan.id).count() == 1
    assert await plan_cash(world) == Decimal("500.00")


async def plan_cash(world: World) -> Decimal:
    lines = await LedgerEntry.filter(member_id=world.seller.id, rule_id__isnull=False)
    return sum((line.amount or Decimal(0) for line in lines), Decimal(0))
