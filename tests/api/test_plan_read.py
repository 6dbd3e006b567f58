"""Reading plans: the plans list, node(id:) per role and company, query counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from spur.models import PlanAssignment, PlanRule, PlanVersion
from tests.api.helpers import GraphQL, global_id
from tests.api.plan_helpers import (
    ASSIGN,
    MY_PLANS,
    NODE,
    PLANS,
    UPDATE_PLAN,
    commission,
    create_plan,
    new_plan,
    only_error,
    step,
)
from tests.api.test_plan_version import change
from tests.api.test_query_counts import StatementLog, statements
from tests.factories import World, build_world

DEEP = """
query($first: Int) {
  plans(first: $first) {
    edges { node {
      name title description approvalThreshold { amount } budget { amount }
      currentVersion { number rules { code } }
      versions {
        number effectiveFrom createdBy memberCap { amount }
        rules { code kind title metric periodKind params }
      }
      assignments { maxAge team { name } member { name } }
    } }
  }
}
"""


@pytest.fixture
def sql() -> Iterator[StatementLog]:
    import logging

    logger = logging.getLogger("tortoise.db_client")
    handler, level = StatementLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def assign(gql: GraphQL, token: str, plan_id: str, **who: Any) -> str:
    body = await gql(ASSIGN, {"input": {"planId": plan_id, **who}}, token)
    assert "errors" not in body, body
    assignment_id: str = body["data"]["assignPlan"]["assignment"]["id"]
    return assignment_id


def names(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [edge["node"]["name"] for edge in body["data"]["plans"]["edges"]]


@pytest.mark.parametrize("email", ["hr@example.com", "manager@example.com"])
async def test_hr_and_managers_list_every_plan_by_name(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    hr = await login("hr@example.com")
    for name in ("Charlie", "Alpha", "Bravo"):
        plan = await create_plan(gql, hr, new_plan(name=name))
    stop = {"input": {"id": plan["id"], "isActive": False}}
    assert "errors" not in await gql(UPDATE_PLAN, stop, hr)
    await build_world(prefix="b-")
    await create_plan(gql, await login("b-hr@example.com"), new_plan(name="Theirs"))

    token = await login(email)
    assert names(await gql(PLANS, {}, token)) == ["Alpha", "Bravo", "Charlie"]
    assert names(await gql(PLANS, {"active": True}, token)) == ["Alpha", "Charlie"]
    assert names(await gql(PLANS, {"active": False}, token)) == ["Bravo"]
    first = await gql(PLANS, {"first": 2}, token)
    assert names(first) == ["Alpha", "Bravo"]
    cursor = first["data"]["plans"]["pageInfo"]["endCursor"]
    rest = await gql(PLANS, {"first": 2, "after": cursor}, token)
    assert names(rest) == ["Charlie"]
    assert rest["data"]["plans"]["pageInfo"]["hasNextPage"] is False
    assert only_error(await gql(PLANS, {"first": 101}, token))["field"] == "first"


@pytest.mark.parametrize("email", ["seller@example.com", "partner@example.com"])
async def test_salespeople_and_partners_list_no_plans(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    await create_plan(gql, await login("hr@example.com"))
    body = await gql(PLANS, {}, await login(email))
    assert only_error(body)["code"] == "FORBIDDEN"


async def plan_ids(world: World, gql: GraphQL, hr: str) -> dict[str, str]:
    """A plan covering the seller (aged 30 or under) and one for Europe only,
    with the ids of their versions, rules and assignments."""
    ids: dict[str, str] = {}
    for name, who in (
        ("mine", {"maxAge": 30}),
        ("europe", {"teamId": global_id("Team", world.other_team.id)}),
    ):
        plan = await create_plan(gql, hr, new_plan(name=name))
        ids[f"{name} plan"] = plan["id"]
        ids[f"{name} version"] = plan["versions"][0]["id"]
        ids[f"{name} rule"] = plan["versions"][0]["rules"][0]["id"]
        ids[f"{name} assignment"] = await assign(gql, hr, plan["id"], **who)
    return ids


TYPES = {
    "plan": "IncentivePlan",
    "version": "PlanVersion",
    "rule": "PlanRule",
    "assignment": "PlanAssignment",
}


async def resolved(gql: GraphQL, token: str, ids: dict[str, str]) -> set[str]:
    """The keys of `ids` whose node the viewer gets back, typed right."""
    found = set()
    for key, node_id in ids.items():
        body = await gql(NODE, {"id": node_id}, token)
        assert "errors" not in body, body
        node = body["data"]["node"]
        if node is not None:
            assert node == {"id": node_id, "__typename": TYPES[key.split()[1]]}
            found.add(key)
    return found


@pytest.mark.parametrize(
    ("email", "sees"),
    [
        ("hr@example.com", {"mine", "europe"}),
        ("manager@example.com", {"mine", "europe"}),
        ("seller@example.com", {"mine"}),
        ("eu@example.com", {"mine", "europe"}),
        ("partner@example.com", set()),
        ("b-hr@example.com", set()),
        ("b-seller@example.com", set()),
    ],
)
async def test_plans_and_their_parts_by_node_id(
    world: World, gql: GraphQL, login: Any, email: str, sees: set[str]
) -> None:
    ids = await plan_ids(world, gql, await login("hr@example.com"))
    await build_world(prefix="b-")
    expected = {key for key in ids if key.split()[0] in sees}
    assert await resolved(gql, await login(email), ids) == expected


async def test_a_manager_sees_an_assigned_member_of_their_teams_only(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    for member in (world.seller, world.outsider):
        await assign(gql, hr, plan["id"], memberId=global_id("Member", member.id))
    query = "{ plans { edges { node { assignments { member { name } } } } } }"

    async def members(email: str) -> list[Any]:
        body = await gql(query, {}, await login(email))
        [edge] = body["data"]["plans"]["edges"]
        return [a["member"] for a in edge["node"]["assignments"]]

    assert await members("hr@example.com") == [{"name": "Seller"}, {"name": "Eu"}]
    assert await members("manager@example.com") == [{"name": "Seller"}, None]


async def many_plans(world: World, gql: GraphQL, hr: str, numbers: range) -> None:
    """Plans numbered `numbers`, each with 3 versions of 3 rules and 3
    assignments."""
    for n in numbers:
        rules = [commission(), step(), step(code="sales", metric="sales_amount")]
        plan = await create_plan(
            gql, hr, new_plan(name=f"Plan {n}", version={"rules": rules})
        )
        for day in ("2026-12-10", "2026-12-20"):
            body = await gql(
                "mutation($input: AddPlanVersionInput!) "
                "{ addPlanVersion(input: $input) { version { id } } }",
                {"input": change(plan["id"], effectiveFrom=day, rules=rules)},
                hr,
            )
            assert "errors" not in body, body
        await assign(gql, hr, plan["id"], teamId=global_id("Team", world.team.id))
        await assign(gql, hr, plan["id"], memberId=global_id("Member", world.seller.id))
        await assign(gql, hr, plan["id"], maxAge=30 + n)


async def test_the_plans_list_costs_the_same_for_1_or_6_plans(
    world: World, gql: GraphQL, login: Any, sql: StatementLog
) -> None:
    hr = await login("hr@example.com")
    await many_plans(world, gql, hr, range(1))
    one = await statements(sql, gql, DEEP, {"first": 20}, hr)
    await many_plans(world, gql, hr, range(1, 6))
    body = await gql(DEEP, {"first": 20}, hr)
    assert len(body["data"]["plans"]["edges"]) == 6
    assert await PlanRule.all().count() == 6 * 3 * 3
    assert await PlanVersion.all().count() == 6 * 3
    assert await PlanAssignment.all().count() == 6 * 3
    many = await statements(sql, gql, DEEP, {"first": 20}, hr)
    assert many == one, sql.statements
    # Sign-in (2), plans, versions and their rules (2), authors, metrics,
    # assignments, teams and members: one statement each.
    assert one <= 10, sql.statements


async def test_my_plans_cost_the_same_for_1_or_6_plans(
    world: World, gql: GraphQL, login: Any, sql: StatementLog
) -> None:
    hr = await login("hr@example.com")
    seller = await login("seller@example.com")
    query = MY_PLANS.replace(
        "currentVersion { number }", "currentVersion { rules { code } }"
    )
    await many_plans(world, gql, hr, range(1))
    one = await statements(sql, gql, query, {}, seller)
    await many_plans(world, gql, hr, range(1, 6))
    body = await gql(query, {}, seller)
    assert len(body["data"]["myPlans"]) == 6
    many = await statements(sql, gql, query, {}, seller)
    assert many == one, sql.statements
    # Sign-in (2), plans, versions, assignments, the viewer, rules.
    assert one <= 7, sql.statements
