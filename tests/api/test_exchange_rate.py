"""Exchange rates through the API: set in bulk, read by range, who may."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from spur.models import ExchangeRate
from tests.api.helpers import GraphQL, global_id, order, record, recorded
from tests.api.plan_helpers import NODE, only_error
from tests.factories import World, build_world

SET_RATES = """
mutation($input: SetExchangeRatesInput!) {
  setExchangeRates(input: $input) { rates { id currency date rate } }
}
"""
RATES = """
query($currency: String, $from: Date, $to: Date, $first: Int, $after: String) {
  exchangeRates(currency: $currency, from: $from, to: $to, first: $first,
                after: $after) {
    edges { node { id currency date rate } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def rate(currency: str, day: str, value: str) -> dict[str, str]:
    return {"currency": currency, "date": day, "rate": value}


async def set_rates(gql: GraphQL, token: str, *rates: dict[str, str]) -> Any:
    return await gql(SET_RATES, {"input": {"rates": list(rates)}}, token)


async def stored() -> dict[tuple[str, str], Decimal]:
    return {
        (row.currency, row.on_date.isoformat()): row.rate
        for row in await ExchangeRate.all()
    }


async def test_hr_inserts_new_rates_and_replaces_one(
    world: World, gql: GraphQL, login: Any
) -> None:
    body = await set_rates(
        gql,
        await login("hr@example.com"),
        rate("usd", "2026-12-04", "7.20000001"),
        rate("EUR", "2026-12-04", "7.7"),
        rate("JPY", "2026-12-03", "0.0481"),
    )
    assert "errors" not in body, body
    saved = body["data"]["setExchangeRates"]["rates"]
    assert [(r["currency"], r["date"], r["rate"]) for r in saved] == [
        ("USD", "2026-12-04", "7.20000001"),
        ("EUR", "2026-12-04", "7.7"),
        ("JPY", "2026-12-03", "0.0481"),
    ]
    usd = await ExchangeRate.get(currency="USD")
    assert saved[0]["id"] == global_id("ExchangeRate", usd.id)
    assert await stored() == {
        ("USD", "2026-12-04"): Decimal("7.20000001"),
        ("EUR", "2026-12-04"): Decimal("7.7"),
        ("JPY", "2026-12-03"): Decimal("0.0481"),
    }


async def test_a_new_rate_lets_an_order_of_that_date_convert(
    world: World, gql: GraphQL, login: Any
) -> None:
    seller = await login("seller@example.com")
    yesterday = "2026-12-03T15:00:00+08:00"
    refused = await record(
        gql, seller, order("e1", "100.00", "EUR", occurredAt=yesterday)
    )
    assert refused["errors"][0]["extensions"]["reason"] == "MISSING_EXCHANGE_RATE"

    hr = await login("hr@example.com")
    body = await set_rates(gql, hr, rate("EUR", "2026-12-03", "7.65"))
    assert "errors" not in body, body
    recorded(
        await record(gql, seller, order("e1", "100.00", "EUR", occurredAt=yesterday))
    )


BAD_RATES: dict[str, tuple[list[dict[str, str]], str]] = {
    "no rates": ([], "rates"),
    "an unknown currency": ([rate("XYZ", "2026-12-04", "1")], "rates.0.currency"),
    "a malformed code": ([rate("US", "2026-12-04", "1")], "rates.0.currency"),
    "the company currency": ([rate("CNY", "2026-12-04", "1")], "rates.0.currency"),
    "a zero rate": ([rate("USD", "2026-12-04", "0")], "rates.0.rate"),
    "a negative rate": ([rate("USD", "2026-12-04", "-7.1")], "rates.0.rate"),
    "nine decimals": ([rate("USD", "2026-12-04", "7.123456789")], "rates.0.rate"),
    "an absurd rate": ([rate("USD", "2026-12-04", "1000000000")], "rates.0.rate"),
    "a date twice": (
        [rate("USD", "2026-12-01", "7.1"), rate("usd", "2026-12-01", "7.2")],
        "rates.1.date",
    ),
    "a bad rate after good ones": (
        [rate("EUR", f"2026-11-{d:02}", "7.7") for d in range(1, 6)]
        + [rate("EUR", "2026-11-06", "0")],
        "rates.5.rate",
    ),
}


@pytest.mark.parametrize("case", BAD_RATES)
async def test_a_bad_rate_refuses_the_whole_call(
    world: World, gql: GraphQL, login: Any, case: str
) -> None:
    rates, field = BAD_RATES[case]
    before = await stored()
    body = await set_rates(gql, await login("hr@example.com"), *rates)
    error = only_error(body)
    assert (error["code"], error.get("field")) == ("BAD_USER_INPUT", field), body
    assert await stored() == before


async def test_a_thousand_rates_in_one_call_and_no_more(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    first = date(2024, 1, 1)
    days = [(first + timedelta(days=n)).isoformat() for n in range(1001)]
    body = await set_rates(gql, hr, *(rate("EUR", d, "7.7") for d in days))
    assert only_error(body)["field"] == "rates"
    body = await set_rates(gql, hr, *(rate("EUR", d, "7.7") for d in days[:1000]))
    assert "errors" not in body, body
    assert len(body["data"]["setExchangeRates"]["rates"]) == 1000
    assert await ExchangeRate.filter(currency="EUR").count() == 1000


@pytest.mark.parametrize(
    "email", ["seller@example.com", "manager@example.com", "partner@example.com"]
)
async def test_only_hr_sets_rates(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    before = await stored()
    body = await set_rates(gql, await login(email), rate("USD", "2026-12-04", "9"))
    assert only_error(body)["code"] == "FORBIDDEN"
    assert await stored() == before


async def test_each_company_keeps_its_own_rates(
    world: World, gql: GraphQL, login: Any
) -> None:
    await build_world(prefix="b-")
    other = await login("b-hr@example.com")
    body = await set_rates(gql, other, rate("USD", "2026-12-04", "6.5"))
    assert "errors" not in body, body
    rows = await ExchangeRate.filter(currency="USD").order_by("company_id")
    assert [r.rate for r in rows] == [Decimal("7.1234"), Decimal("6.5")]


async def some_rates(gql: GraphQL, token: str) -> None:
    days = ["2026-12-01", "2026-12-02", "2026-12-03"]
    rates = [rate(c, d, "1.5") for d in days for c in ("EUR", "JPY")]
    assert "errors" not in await set_rates(gql, token, *rates)


def listed(body: dict[str, Any]) -> list[tuple[str, str]]:
    assert "errors" not in body, body
    edges = body["data"]["exchangeRates"]["edges"]
    return [(e["node"]["currency"], e["node"]["date"]) for e in edges]


@pytest.mark.parametrize("email", ["hr@example.com", "manager@example.com"])
async def test_hr_and_managers_read_rates_by_date_and_currency(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    await some_rates(gql, await login("hr@example.com"))
    token = await login(email)
    everything = listed(await gql(RATES, {}, token))
    assert everything[:3] == [
        ("EUR", "2026-12-01"),
        ("JPY", "2026-12-01"),
        ("EUR", "2026-12-02"),
    ]
    assert everything[-1] == ("USD", "2026-12-04")
    assert len(everything) == 7
    ranged = {"currency": "eur", "from": "2026-12-02", "to": "2026-12-03"}
    assert listed(await gql(RATES, ranged, token)) == [
        ("EUR", "2026-12-02"),
        ("EUR", "2026-12-03"),
    ]


async def test_rates_come_in_pages(world: World, gql: GraphQL, login: Any) -> None:
    hr = await login("hr@example.com")
    await some_rates(gql, hr)
    first = await gql(RATES, {"first": 4}, hr)
    page = first["data"]["exchangeRates"]["pageInfo"]
    assert len(listed(first)) == 4
    assert page["hasNextPage"] is True
    rest = await gql(RATES, {"first": 4, "after": page["endCursor"]}, hr)
    assert len(listed(rest)) == 3
    assert rest["data"]["exchangeRates"]["pageInfo"]["hasNextPage"] is False
    too_many = await gql(RATES, {"first": 101}, hr)
    assert only_error(too_many)["field"] == "first"


async def test_an_inverted_range_is_bad_input(
    world: World, gql: GraphQL, login: Any
) -> None:
    variables = {"from": "2026-12-04", "to": "2026-12-01"}
    body = await gql(RATES, variables, await login("hr@example.com"))
    assert only_error(body)["field"] == "to"


@pytest.mark.parametrize("email", ["seller@example.com", "partner@example.com"])
async def test_salespeople_and_partners_read_no_rates(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    body = await gql(RATES, {}, await login(email))
    assert only_error(body)["code"] == "FORBIDDEN"


async def test_a_rate_by_node_id_for_its_own_company_only(
    world: World, gql: GraphQL, login: Any
) -> None:
    usd = await ExchangeRate.get(company_id=world.company.id, currency="USD")
    node_id = global_id("ExchangeRate", usd.id)
    await build_world(prefix="b-")
    seen = {}
    for email in (
        "hr@example.com",
        "manager@example.com",
        "seller@example.com",
        "partner@example.com",
        "b-hr@example.com",
    ):
        body = await gql(NODE, {"id": node_id}, await login(email))
        seen[email] = body["data"]["node"]
    assert seen == {
        "hr@example.com": {"id": node_id, "__typename": "ExchangeRate"},
        "manager@example.com": {"id": node_id, "__typename": "ExchangeRate"},
        "seller@example.com": None,
        "partner@example.com": None,
        "b-hr@example.com": None,
    }
    rows = await ExchangeRate.filter(company_id=world.company.id)
    assert [r.rate for r in rows] == [Decimal("7.1234")]
