"""Metric definitions through the API: HR defines them, rules pay on them."""

from __future__ import annotations

from typing import Any

import pytest

from spur.models import LedgerEntry, Member, MetricDefinition
from tests.api.helpers import THIS_MORNING, GraphQL, global_id, record, recorded
from tests.api.plan_helpers import NODE, create_plan, new_plan, only_error
from tests.factories import World, build_world

DEFINE = """
mutation($input: DefineMetricInput!) {
  defineMetric(input: $input) {
    metric {
      id key name unit activityKind aggregation market productCategory
      newCustomer replyWithinMinutes
    }
  }
}
"""
METRICS = """
query($first: Int, $after: String) {
  metricDefinitions(first: $first, after: $after) {
    edges { node { key } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
ASSIGN_ALL = """
mutation($input: AssignPlanInput!) { assignPlan(input: $input) { plan { id } } }
"""


def sea_optimizations(**extra: Any) -> dict[str, Any]:
    """Product optimisations on the Southeast Asia storefront."""
    return {
        "key": "sea_product_optimizations",
        "name": "SEA product optimisations",
        "activityKind": "PRODUCT_OPTIMIZED",
        "aggregation": "COUNT",
        "market": " sea ",
        **extra,
    }


async def define(gql: GraphQL, token: str, metric: dict[str, Any]) -> Any:
    return await gql(DEFINE, {"input": metric}, token)


async def test_hr_defines_a_metric(world: World, gql: GraphQL, login: Any) -> None:
    body = await define(gql, await login("hr@example.com"), sea_optimizations())
    assert "errors" not in body, body
    metric = body["data"]["defineMetric"]["metric"]
    stored = await MetricDefinition.get(key="sea_product_optimizations")
    assert metric == {
        "id": global_id("MetricDefinition", stored.id),
        "key": "sea_product_optimizations",
        "name": "SEA product optimisations",
        "unit": "",
        "activityKind": "PRODUCT_OPTIMIZED",
        "aggregation": "COUNT",
        "market": "SEA",
        "productCategory": None,
        "newCustomer": None,
        "replyWithinMinutes": None,
    }


async def test_a_sales_metric_is_in_the_company_currency(
    world: World, gql: GraphQL, login: Any
) -> None:
    metric = {
        "key": "sea_sales",
        "name": "SEA sales",
        "activityKind": "ORDER_CLOSED",
        "aggregation": "SUM_AMOUNT",
        "market": "SEA",
    }
    body = await define(gql, await login("hr@example.com"), metric)
    assert body["data"]["defineMetric"]["metric"]["unit"] == "CNY"


async def test_hr_pays_300_for_each_sea_product_optimisation(
    world: World, gql: GraphQL, login: Any
) -> None:
    """The issue's example of a change HR makes in minutes, end to end."""
    hr = await login("hr@example.com")
    assert "errors" not in await define(gql, hr, sea_optimizations())
    rule = {
        "code": "sea_optimizations",
        "kind": "STEP",
        "title": "SEA product optimisation",
        "metric": "sea_product_optimizations",
        "periodKind": "DAY",
        "params": {"every": "1", "amount": "300.00"},
    }
    plan = await create_plan(
        gql, hr, new_plan(name="SEA storefront", version={"rules": [rule]})
    )
    assigned = await gql(ASSIGN_ALL, {"input": {"planId": plan["id"]}}, hr)
    assert "errors" not in assigned, assigned

    seller = await login("seller@example.com")
    for n, market in enumerate(["SEA", "SEA", "EU"]):
        optimized = {
            "kind": "PRODUCT_OPTIMIZED",
            "occurredAt": THIS_MORNING,
            "market": market,
            "source": "platform",
            "externalId": f"opt-{n}",
        }
        recorded(await record(gql, seller, optimized))

    entries = await LedgerEntry.filter(
        member_id=world.seller.id, rule_id__not_isnull=True
    )
    assert sorted((e.amount, e.currency) for e in entries) == [
        (300, "CNY"),
        (300, "CNY"),
    ]


BAD_METRICS: dict[str, tuple[dict[str, Any], str]] = {
    "an uppercase key": (sea_optimizations(key="SEA_opt"), "key"),
    "a key with a space": (sea_optimizations(key="sea opt"), "key"),
    "a key of 65 characters": (sea_optimizations(key="k" * 65), "key"),
    "an empty name": (sea_optimizations(name=" "), "name"),
    "a long unit": (sea_optimizations(unit="u" * 33), "unit"),
    "an empty market": (sea_optimizations(market=""), "market"),
    "a long category": (sea_optimizations(productCategory="c" * 65), "productCategory"),
    "a zero reply window": (
        sea_optimizations(replyWithinMinutes=0),
        "replyWithinMinutes",
    ),
    "a NUL in the name": (sea_optimizations(name="a\x00"), "name"),
    "a title in French": (
        sea_optimizations(titles=[{"language": "fr", "text": "Optimisations"}]),
        "titles.0.language",
    ),
    "two English titles": (
        sea_optimizations(
            titles=[{"language": "en", "text": "A"}, {"language": "en", "text": "B"}]
        ),
        "titles.1.language",
    ),
    "an empty Chinese title": (
        sea_optimizations(titles=[{"language": "zh-CN", "text": " "}]),
        "titles.0.text",
    ),
}


@pytest.mark.parametrize("case", BAD_METRICS)
async def test_a_bad_metric_is_refused_and_nothing_is_written(
    world: World, gql: GraphQL, login: Any, case: str
) -> None:
    metric, field = BAD_METRICS[case]
    body = await define(gql, await login("hr@example.com"), metric)
    error = only_error(body)
    assert (error["code"], error.get("field")) == ("BAD_USER_INPUT", field), body
    assert await MetricDefinition.all().count() == 2


async def test_a_key_is_unique_in_its_company_only(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    taken = await define(gql, hr, sea_optimizations(key="sales_amount"))
    error = only_error(taken)
    assert (error["code"], error["field"]) == ("CONFLICT", "key")
    await build_world(prefix="b-")
    other = await define(gql, await login("b-hr@example.com"), sea_optimizations())
    assert "errors" not in other, other
    again = await define(gql, hr, sea_optimizations())
    assert "errors" not in again, again


@pytest.mark.parametrize(
    "email", ["seller@example.com", "manager@example.com", "partner@example.com"]
)
async def test_only_hr_defines_metrics(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    body = await define(gql, await login(email), sea_optimizations())
    assert only_error(body)["code"] == "FORBIDDEN"
    assert await MetricDefinition.all().count() == 2


@pytest.mark.parametrize("email", ["hr@example.com", "manager@example.com"])
async def test_hr_and_managers_list_the_company_metrics(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    await build_world(prefix="b-")
    body = await gql(METRICS, {"first": 1}, await login(email))
    page = body["data"]["metricDefinitions"]
    assert page["edges"] == [{"node": {"key": "new_customer_follow_ups"}}]
    after = {"first": 5, "after": page["pageInfo"]["endCursor"]}
    rest = await gql(METRICS, after, await login(email))
    assert rest["data"]["metricDefinitions"]["edges"] == [
        {"node": {"key": "sales_amount"}}
    ]


@pytest.mark.parametrize("email", ["seller@example.com", "partner@example.com"])
async def test_salespeople_and_partners_list_no_metrics(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    body = await gql(METRICS, {}, await login(email))
    assert only_error(body)["code"] == "FORBIDDEN"


async def test_a_metric_by_node_id_for_its_own_company_only(
    world: World, gql: GraphQL, login: Any
) -> None:
    node_id = global_id("MetricDefinition", world.sales.id)
    await build_world(prefix="b-")
    expected = {"id": node_id, "__typename": "MetricDefinition"}
    for email, wanted in (
        ("hr@example.com", expected),
        ("manager@example.com", expected),
        ("seller@example.com", None),
        ("partner@example.com", None),
        ("b-hr@example.com", None),
    ):
        body = await gql(NODE, {"id": node_id}, await login(email))
        assert body["data"]["node"] == wanted, email


NAMED = """
query($id: ID!) {
  node(id: $id) { ... on MetricDefinition { name titles { language text } } }
}
"""


async def test_a_metric_is_named_in_the_readers_language(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    titles = [{"language": "zh-CN", "text": "东南亚产品优化"}]
    body = await define(gql, hr, sea_optimizations(titles=titles))
    metric = body["data"]["defineMetric"]["metric"]
    assert metric["name"] == "SEA product optimisations"  # HR reads English
    await Member.filter(email="hr@example.com").update(language="zh-CN")
    found = await gql(NAMED, {"id": metric["id"]}, hr)
    assert found["data"]["node"] == {"name": "东南亚产品优化", "titles": titles}
    # Without titles every reader gets the name.
    plain = await gql(NAMED, {"id": global_id("MetricDefinition", world.sales.id)}, hr)
    assert plain["data"]["node"] == {"name": "Sales", "titles": []}
