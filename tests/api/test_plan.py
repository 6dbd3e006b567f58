"""Incentive plans through the API: create one, change its settings, who may."""

from __future__ import annotations

from typing import Any

import pytest

from spur.models import IncentivePlan, PlanRule, PlanVersion
from tests.api.helpers import GraphQL, global_id
from tests.api.plan_helpers import (
    CREATE_PLAN,
    UPDATE_PLAN,
    commission,
    counts,
    create_plan,
    new_plan,
    only_error,
    step,
)
from tests.factories import World, build_world


async def test_hr_creates_a_plan_with_its_first_version(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await create_plan(gql, await login("hr@example.com"))

    stored = await IncentivePlan.get(name="Young sellers")
    version = await PlanVersion.get(plan_id=stored.id)
    assert plan["id"] == global_id("IncentivePlan", stored.id)
    assert (version.number, str(version.effective_from)) == (1, "2026-12-04")
    assert version.created_by_id == world.hr.id
    assert plan["title"] == "Young sellers"  # the HR admin reads English
    assert plan["titles"] == [{"language": "zh-CN", "text": "年轻销售"}]
    assert plan["approvalThreshold"] == {"amount": "1000.00", "currency": "CNY"}
    assert plan["budget"] is None
    assert plan["isActive"] is True
    assert plan["currentVersion"] == {"number": 1}
    assert plan["assignments"] == []
    [first] = plan["versions"]
    assert first["createdBy"] == "Hr"
    assert first["note"] == "First rules"
    assert [r["code"] for r in first["rules"]] == ["base", "replies"]
    assert first["rules"][0]["params"] == commission()["params"]
    assert first["rules"][1] == {
        "id": global_id("PlanRule", (await PlanRule.get(code="replies")).id),
        "code": "replies",
        "kind": "STEP",
        "title": "Follow-up steps",
        "metric": "new_customer_follow_ups",
        "periodKind": "WEEK",
        "params": {"every": "10", "amount": "200.00"},
    }


async def test_a_chinese_reader_sees_the_chinese_titles(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    await create_plan(gql, hr)
    world.manager.language = "zh-CN"
    await world.manager.save()
    body = await gql(
        "{ plans { edges { node { title versions { rules { title } } } } } }",
        token=await login("manager@example.com"),
    )
    [edge] = body["data"]["plans"]["edges"]
    assert edge["node"]["title"] == "年轻销售"
    titles = [r["title"] for r in edge["node"]["versions"][0]["rules"]]
    assert titles == ["Commission", "跟进阶梯"]


async def test_a_plan_with_a_budget_and_a_member_cap(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = new_plan(
        budget="50000.00",
        budgetPeriod="QUARTER",
        approvalThreshold=None,
        version={"memberCap": "3000.00", "capPeriod": "MONTH"},
    )
    created = await create_plan(gql, await login("hr@example.com"), plan)
    assert created["budget"] == {"amount": "50000.00", "currency": "CNY"}
    assert created["budgetPeriod"] == "QUARTER"
    assert created["approvalThreshold"] is None
    [version] = created["versions"]
    assert version["memberCap"] == {"amount": "3000.00", "currency": "CNY"}
    assert version["capPeriod"] == "MONTH"


def rule_with(**change: Any) -> dict[str, Any]:
    """A plan whose only rule is `step()` changed by `change`."""
    return new_plan(version={"rules": [step(**change)]})


def tiers(*bands: dict[str, str], basis: str = "ORDER") -> dict[str, Any]:
    return {"tiers": {"mode": "SLAB", "basis": basis, "bands": list(bands)}}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


BAD_PLANS: dict[str, tuple[dict[str, Any], str]] = {
    "an empty name": (new_plan(name="  "), "name"),
    "a name over 200 characters": (new_plan(name="x" * 201), "name"),
    "a NUL in the description": (new_plan(description="a\x00b"), "description"),
    "a title in an unknown language": (
        new_plan(titles=[{"language": "fr", "text": "Jeunes"}]),
        "titles.0.language",
    ),
    "a negative threshold": (new_plan(approvalThreshold="-1.00"), "approvalThreshold"),
    "fractions of a fen": (new_plan(approvalThreshold="10.001"), "approvalThreshold"),
    "a budget period without a budget": (
        new_plan(budgetPeriod="MONTH"),
        "budgetPeriod",
    ),
    "a zero budget": (new_plan(budget="0"), "budget"),
    "a start in the past": (
        new_plan(version={"effectiveFrom": "2026-12-03"}),
        "firstVersion.effectiveFrom",
    ),
    "an end before the start": (
        new_plan(version={"effectiveUntil": "2026-12-04"}),
        "firstVersion.effectiveUntil",
    ),
    "a cap without its period": (
        new_plan(version={"memberCap": "100.00"}),
        "firstVersion.capPeriod",
    ),
    "a cap period without a cap": (
        new_plan(version={"capPeriod": "MONTH"}),
        "firstVersion.capPeriod",
    ),
    "bands with a gap": (
        new_plan(
            version={
                "rules": [
                    commission(
                        params=tiers(
                            {"from": "0", "to": "10000", "rate": "0.02"},
                            {"from": "12000", "rate": "0.05"},
                        )
                    )
                ]
            }
        ),
        "firstVersion.rules.0.params.tiers.bands.1.from",
    ),
    "an unknown setting": (
        rule_with(params={"every": "10", "amount": "1.00", "evry": "3"}),
        "firstVersion.rules.0.params.evry",
    ),
    "a float where a decimal string belongs": (
        rule_with(params={"every": 10.5, "amount": "1.00"}),
        "firstVersion.rules.0.params.every",
    ),
    "settings nested 400 deep": (
        rule_with(params={"every": nested(400), "amount": "1.00"}),
        "firstVersion.rules.0.params.every",
    ),
    "params that are not an object": (
        rule_with(params=["every"]),
        "firstVersion.rules.0.params",
    ),
    "a NUL inside params": (
        rule_with(
            params={
                "every": "1",
                "entitlement": {"kind": "TRAINING", "title": "a\x00"},
            }
        ),
        "firstVersion.rules.0.params.entitlement.title",
    ),
    "fractions of a fen in a step": (
        rule_with(params={"every": "1", "amount": "300.005"}),
        "firstVersion.rules.0.params.amount",
    ),
    "an unknown metric": (rule_with(metric="nope"), "firstVersion.rules.0.metric"),
    "a step without a metric": (rule_with(metric=None), "firstVersion.rules.0.metric"),
    "a step without a period": (
        rule_with(periodKind=None),
        "firstVersion.rules.0.periodKind",
    ),
    "a period tier on a count": (
        new_plan(
            version={
                "rules": [
                    commission(
                        metric="new_customer_follow_ups",
                        periodKind="MONTH",
                        params=tiers({"from": "0", "rate": "0.02"}, basis="PERIOD"),
                    )
                ]
            }
        ),
        "firstVersion.rules.0.metric",
    ),
    "a period tier without a period": (
        new_plan(
            version={
                "rules": [
                    commission(
                        metric="sales_amount",
                        params=tiers({"from": "0", "rate": "0.02"}, basis="PERIOD"),
                    )
                ]
            }
        ),
        "firstVersion.rules.0.periodKind",
    ),
    "a target bonus share of a count": (
        rule_with(
            kind="TARGET_BONUS",
            periodKind="QUARTER",
            params={"share": "0.01", "target": "10"},
        ),
        "firstVersion.rules.0.metric",
    ),
    "an upkeep rate on sales": (
        rule_with(
            kind="TEAM_THRESHOLD",
            metric="sales_amount",
            periodKind="QUARTER",
            params={
                "measure": "UPKEEP_RATE",
                "threshold": "0.80",
                "entitlement": {"kind": "PAID_LEAVE", "quantity": "3"},
            },
        ),
        "firstVersion.rules.0.metric",
    ),
    "two rules with one code": (
        new_plan(version={"rules": [step(), step()]}),
        "firstVersion.rules.1.code",
    ),
    "a code with a colon": (rule_with(code="a:b"), "firstVersion.rules.0.code"),
    "an empty rule title": (rule_with(title=""), "firstVersion.rules.0.title"),
    "51 rules": (
        new_plan(version={"rules": [step(code=f"r{n}") for n in range(51)]}),
        "firstVersion.rules",
    ),
}


@pytest.mark.parametrize("case", BAD_PLANS)
async def test_a_bad_plan_is_refused_naming_the_field_and_nothing_is_written(
    world: World, gql: GraphQL, login: Any, case: str
) -> None:
    plan, field = BAD_PLANS[case]
    before = await counts()
    body = await gql(CREATE_PLAN, {"input": plan}, await login("hr@example.com"))
    error = only_error(body)
    assert (error["code"], error.get("field")) == ("BAD_USER_INPUT", field), body
    assert await counts() == before


async def test_a_plan_name_is_unique_in_its_company_only(
    world: World, gql: GraphQL, login: Any
) -> None:
    await create_plan(gql, await login("hr@example.com"))
    before = await counts()
    body = await gql(CREATE_PLAN, {"input": new_plan()}, await login("hr@example.com"))
    error = only_error(body)
    assert (error["code"], error["field"]) == ("CONFLICT", "name")
    assert await counts() == before
    await build_world(prefix="b-")
    await create_plan(gql, await login("b-hr@example.com"))


@pytest.mark.parametrize(
    "email", ["seller@example.com", "manager@example.com", "partner@example.com"]
)
async def test_only_hr_creates_plans(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    body = await gql(CREATE_PLAN, {"input": new_plan()}, await login(email))
    assert only_error(body)["code"] == "FORBIDDEN"
    assert await IncentivePlan.all().count() == 0


async def test_signed_out_nothing_is_created(world: World, gql: GraphQL) -> None:
    body = await gql(CREATE_PLAN, {"input": new_plan()})
    assert only_error(body)["code"] == "UNAUTHENTICATED"


async def test_hr_changes_plan_settings_and_null_clears(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr, new_plan(budget="9000.00", budgetPeriod="MONTH"))
    change = {
        "id": plan["id"],
        "name": "Under 31",
        "titles": [{"language": "en", "text": "Under thirty-one"}],
        "approvalThreshold": None,
        "budget": None,
        "isActive": False,
    }
    body = await gql(UPDATE_PLAN, {"input": change}, hr)
    assert "errors" not in body, body
    updated = body["data"]["updatePlan"]["plan"]
    assert updated["name"] == "Under 31"
    assert updated["title"] == "Under thirty-one"
    assert updated["description"] == "Staff aged 30 or under"  # not sent: kept
    assert updated["approvalThreshold"] is None
    assert (updated["budget"], updated["budgetPeriod"]) == (None, None)
    assert updated["isActive"] is False
    assert updated["versions"] == plan["versions"]  # rules change by version only
    stored = await IncentivePlan.get()
    assert (stored.name, stored.is_active, stored.budget) == ("Under 31", False, None)


async def test_an_update_sending_nothing_changes_nothing(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    body = await gql(UPDATE_PLAN, {"input": {"id": plan["id"]}}, hr)
    assert body["data"]["updatePlan"]["plan"] == plan


BAD_UPDATES: dict[str, tuple[dict[str, Any], str, str]] = {
    "a null name": ({"name": None}, "BAD_USER_INPUT", "name"),
    "a null isActive": ({"isActive": None}, "BAD_USER_INPUT", "isActive"),
    "an empty name": ({"name": ""}, "BAD_USER_INPUT", "name"),
    "the other plan's name": ({"name": "Old hands"}, "CONFLICT", "name"),
    "a budget period only": (
        {"budgetPeriod": "YEAR"},
        "BAD_USER_INPUT",
        "budgetPeriod",
    ),
    "a budget in tenths of a fen": ({"budget": "1.001"}, "BAD_USER_INPUT", "budget"),
    "a team id": ({"id": global_id("Team", 1)}, "BAD_USER_INPUT", "id"),
    "a plan that does not exist": (
        {"id": global_id("IncentivePlan", 999)},
        "NOT_FOUND",
        "id",
    ),
}


@pytest.mark.parametrize("case", BAD_UPDATES)
async def test_a_bad_update_is_refused_and_changes_nothing(
    world: World, gql: GraphQL, login: Any, case: str
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    await create_plan(gql, hr, new_plan(name="Old hands"))
    change, code, field = BAD_UPDATES[case]
    body = await gql(UPDATE_PLAN, {"input": {"id": plan["id"], **change}}, hr)
    error = only_error(body)
    assert (error["code"], error.get("field")) == (code, field), body
    stored = await IncentivePlan.get(name="Young sellers")
    assert (stored.budget, stored.budget_period, stored.is_active) == (
        None,
        None,
        True,
    )


async def test_another_companys_plan_cannot_be_changed(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await create_plan(gql, await login("hr@example.com"))
    await build_world(prefix="b-")
    change = {"id": plan["id"], "isActive": False}
    body = await gql(UPDATE_PLAN, {"input": change}, await login("b-hr@example.com"))
    assert only_error(body)["code"] == "NOT_FOUND"
    assert (await IncentivePlan.get()).is_active is True


@pytest.mark.parametrize(
    "email", ["seller@example.com", "manager@example.com", "partner@example.com"]
)
async def test_only_hr_changes_plans(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    plan = await create_plan(gql, await login("hr@example.com"))
    change = {"id": plan["id"], "isActive": False}
    body = await gql(UPDATE_PLAN, {"input": change}, await login(email))
    assert only_error(body)["code"] == "FORBIDDEN"
    assert (await IncentivePlan.get()).is_active is True
