"""Member statements: lines by rule with worked numbers, month bounds, who may."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from spur.models import EntryCause, LedgerEntry, PlanRule, RewardKind, RewardStatus
from tests.api.conftest import document
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.api.ledger_factories import entry, plan_rule

# `sql` is the statement-counting fixture the query-count tests use.
from tests.api.test_query_counts import StatementLog, sql, statements  # noqa: F401
from tests.factories import World, build_world

PENDING, APPROVED, PAID = RewardStatus.PENDING, RewardStatus.APPROVED, RewardStatus.PAID
REJECTED, REVERSED = RewardStatus.REJECTED, RewardStatus.REVERSED
STATEMENT = """query($month: String!, $memberId: ID) {
  statement(month: $month, memberId: $memberId) {
    member { id name }
    period { kind start end label }
    currency
    lines {
      rule entries total { amount currency } byStatus { status amount { amount } }
    }
    totalsByStatus { status amount { amount currency } }
    total { amount currency } payable { amount } paid { amount }
    entitlements { id kind quantity status }
  }
}"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def read(
    gql: GraphQL, token: str, month: str = "2026-12", member: str | None = None
) -> dict[str, Any]:
    body = await gql(STATEMENT, {"month": month, "memberId": member}, token)
    assert "errors" not in body, body
    statement: dict[str, Any] = body["data"]["statement"]
    return statement


def amounts(pairs: list[dict[str, Any]]) -> dict[str, str]:
    return {pair["status"]: pair["amount"]["amount"] for pair in pairs}


async def commission_rules(world: World) -> tuple[PlanRule, PlanRule, PlanRule]:
    """Young staff: commission in versions 1 and 2 (renamed), inquiry replies."""
    v1 = await plan_rule(world.company, plan_titles={"zh-CN": "青年员工"})
    v2 = await plan_rule(
        world.company,
        number=2,
        title="Order commission (SEA 8%)",
        titles={"zh-CN": "订单提成"},
    )
    replies = await plan_rule(world.company, code="replies", title="Inquiry replies")
    return v1, v2, replies


async def december(world: World) -> None:
    """The seller's month, with every kind of line (amounts in CNY)."""
    v1, v2, replies = await commission_rules(world)
    seller = world.seller
    await entry(seller, "120.50", PAID, rule=v1, earned_at=at("2026-12-02T10:00+08:00"))
    await entry(
        seller, "500.00", APPROVED, rule=v1, earned_at=at("2026-12-03T10:00+08:00")
    )
    voided = await entry(
        seller, "300.00", REVERSED, rule=v1, earned_at=at("2026-12-04T08:00+08:00")
    )
    await entry(
        seller,
        "-300.00",
        REVERSED,
        rule=v1,
        cause=EntryCause.VOID,
        reverses=voided,
        earned_at=at("2026-12-04T08:00+08:00"),
    )
    await entry(
        seller, "800.00", PENDING, rule=v2, earned_at=at("2026-12-05T10:00+08:00")
    )
    await entry(
        seller,
        "30.00",
        APPROVED,
        rule=v2,
        cause=EntryCause.RERATE,
        earned_at=at("2026-12-05T10:00+08:00"),
    )
    await entry(seller, "200.00", APPROVED, rule=replies)
    await entry(seller, "200.00", REJECTED, rule=replies)
    # 00:30 on 1 December in Shanghai.
    await entry(
        seller, "40.00", APPROVED, rule=replies, earned_at=at("2026-11-30T16:30Z")
    )
    await entry(seller, "500.00", PAID, goal=world.weekly, kind=RewardKind.CASH)
    await entry(seller, None, APPROVED, kind=RewardKind.TRAINING, quantity=Decimal(1))
    # Not December's, or not the seller's.
    await entry(
        seller, "1000.00", APPROVED, rule=v1, earned_at=at("2026-11-30T15:59:59Z")
    )
    await entry(seller, "1000.00", APPROVED, rule=v1, earned_at=at("2026-12-31T16:00Z"))
    await entry(world.teammate, "1000.00", APPROVED, rule=v1)


async def test_a_statement_groups_by_rule_and_totals_by_status(
    world: World, gql: GraphQL, login: Any
) -> None:
    await december(world)
    seller = global_id("Member", world.seller.id)

    statement = await read(gql, await login("manager@example.com"), member=seller)

    assert statement["member"] == {"id": seller, "name": "Seller"}
    assert statement["period"] == {
        "kind": "MONTH",
        "start": "2026-12-01T00:00:00+08:00",
        "end": "2027-01-01T00:00:00+08:00",
        "label": "2026-12",
    }
    assert statement["currency"] == "CNY"
    lines = [
        (
            line["rule"],
            line["entries"],
            line["total"]["amount"],
            amounts(line["byStatus"]),
        )
        for line in statement["lines"]
    ]
    assert lines == [
        ("Goal reward", 1, "500.00", {"PAID": "500.00"}),
        (
            "Young staff · Inquiry replies",
            3,
            "240.00",
            {"APPROVED": "240.00", "REJECTED": "200.00"},
        ),
        (
            # Named as its latest entry's version names the rule.
            "Young staff · Order commission (SEA 8%)",
            4,
            "1420.50",
            {
                "PENDING": "800.00",
                "APPROVED": "500.00",
                "PAID": "120.50",
                "REVERSED": "300.00",
            },
        ),
        ("Void · Young staff · Order commission", 1, "0.00", {"REVERSED": "-300.00"}),
        (
            "Adjustment · Young staff · Order commission (SEA 8%)",
            1,
            "30.00",
            {"APPROVED": "30.00"},
        ),
    ]
    assert amounts(statement["totalsByStatus"]) == {
        "PENDING": "800.00",
        "APPROVED": "770.00",
        "PAID": "620.50",
        "REJECTED": "200.00",
        "REVERSED": "0.00",
    }
    assert [t["status"] for t in statement["totalsByStatus"]] == [
        "PENDING",
        "APPROVED",
        "PAID",
        "REJECTED",
        "REVERSED",
    ]
    assert statement["total"] == {"amount": "2190.50", "currency": "CNY"}
    assert statement["payable"] == {"amount": "770.00"}
    assert statement["paid"] == {"amount": "620.50"}
    assert [(e["kind"], e["quantity"]) for e in statement["entitlements"]] == [
        ("TRAINING", 1.0)
    ]


async def test_a_statement_reads_in_the_viewers_language(
    world: World, gql: GraphQL, login: Any
) -> None:
    await december(world)
    statement = await read(gql, await login("seller@example.com"))
    assert [line["rule"] for line in statement["lines"]] == [
        "目标奖励",
        "青年员工 · Inquiry replies",
        "青年员工 · 订单提成",
        "冲销 · 青年员工 · Order commission",
        "调整 · 青年员工 · 订单提成",
    ]


async def test_an_entry_belongs_to_its_month_in_the_company_zone(
    world: World, gql: GraphQL, login: Any
) -> None:
    instants = {
        "2026-11-30T15:59:59Z": "1.00",  # 23:59:59 on 30 November in Shanghai
        "2026-11-30T16:30:00Z": "2.00",  # 00:30 on 1 December
        "2026-12-31T15:59:59Z": "4.00",  # 23:59:59 on 31 December
        "2026-12-31T16:00:00Z": "8.00",  # midnight, 1 January: the next month
    }
    for instant, amount in instants.items():
        await entry(world.seller, amount, APPROVED, earned_at=at(instant))
    token = await login("seller@example.com")

    months = {m: await read(gql, token, m) for m in ("2026-11", "2026-12", "2027-01")}

    assert {m: s["total"]["amount"] for m, s in months.items()} == {
        "2026-11": "1.00",
        "2026-12": "6.00",
        "2027-01": "8.00",
    }
    assert months["2026-11"]["period"]["end"] == "2026-12-01T00:00:00+08:00"


async def test_an_empty_month_lists_every_status_at_zero(
    world: World, gql: GraphQL, login: Any
) -> None:
    statement = await read(gql, await login("seller@example.com"), "2026-06")
    assert statement["lines"] == []
    assert amounts(statement["totalsByStatus"]) == dict.fromkeys(
        ["PENDING", "APPROVED", "PAID", "REJECTED", "REVERSED"], "0.00"
    )
    assert statement["total"]["amount"] == "0.00"


async def test_the_months_total_is_what_home_screen_shows_as_earnings(
    world: World, gql: GraphQL, login: Any
) -> None:
    await december(world)
    token = await login("seller@example.com")
    home = await gql(document("HomeScreen"), {}, token)
    earnings = home["data"]["viewer"]["earnings"]["total"]
    assert (
        earnings
        == (await read(gql, token))["total"]
        == {
            "amount": "2190.50",
            "currency": "CNY",
        }
    )


@pytest.mark.parametrize(
    ("email", "whose", "code"),
    [
        ("seller@example.com", "teammate", "FORBIDDEN"),
        ("seller@example.com", "manager", "FORBIDDEN"),
        ("manager@example.com", "outsider", "FORBIDDEN"),
        ("partner@example.com", None, "FORBIDDEN"),
        ("partner@example.com", "seller", "FORBIDDEN"),
        ("hr@example.com", "stranger", "NOT_FOUND"),
        ("hr@example.com", "ghost", "NOT_FOUND"),
    ],
)
async def test_who_may_not_read_a_statement(
    world: World,
    gql: GraphQL,
    login: Any,
    email: str,
    whose: str | None,
    code: str,
) -> None:
    other = await build_world(prefix="b-")
    keys = {"stranger": other.seller.id, "ghost": 10_000}
    member = None
    if whose is not None:
        key = keys[whose] if whose in keys else getattr(world, whose).id
        member = global_id("Member", key)
    body = await gql(
        STATEMENT, {"month": "2026-12", "memberId": member}, await login(email)
    )
    assert error_codes(body) == [code], body


@pytest.mark.parametrize(
    ("email", "whose"),
    [
        ("seller@example.com", "seller"),
        ("manager@example.com", "seller"),
        ("manager@example.com", "manager"),
        ("hr@example.com", "outsider"),
    ],
)
async def test_who_may_read_a_statement(
    world: World, gql: GraphQL, login: Any, email: str, whose: str
) -> None:
    member = global_id("Member", getattr(world, whose).id)
    statement = await read(gql, await login(email), member=member)
    assert statement["member"]["id"] == member


async def test_reading_a_statement_needs_a_sign_in(world: World, gql: GraphQL) -> None:
    body = await gql(STATEMENT, {"month": "2026-12"})
    assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "month",
    ["2026-13", "2026-00", "2026-1", "26-12", "2026-12-01", "0000-01", "9999-12"],
)
async def test_a_malformed_month_is_bad_input(
    world: World, gql: GraphQL, login: Any, month: str
) -> None:
    body = await gql(STATEMENT, {"month": month}, await login("seller@example.com"))
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "month"


async def test_a_member_id_of_another_type_is_bad_input(
    world: World, gql: GraphQL, login: Any
) -> None:
    team = global_id("Team", world.team.id)
    body = await gql(
        STATEMENT, {"month": "2026-12", "memberId": team}, await login("hr@example.com")
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def rules_paid(world: World, numbers: range) -> None:
    for n in numbers:
        rule = await plan_rule(world.company, plan_name=f"Plan {n}", code=f"r{n}")
        await entry(world.seller, f"{n}.00", APPROVED, rule=rule)
        await entry(
            world.seller, None, APPROVED, kind=RewardKind.TRAINING, quantity=Decimal(n)
        )


async def test_a_statement_costs_the_same_for_3_or_15_rules(
    world: World,
    gql: GraphQL,
    login: Any,
    sql: StatementLog,  # noqa: F811
) -> None:
    token = await login("seller@example.com")
    await rules_paid(world, range(1, 4))
    few = await statements(sql, gql, STATEMENT, {"month": "2026-12"}, token)
    await rules_paid(world, range(4, 16))
    statement = await read(gql, token)
    assert len(statement["lines"]) == 15
    assert statement["total"]["amount"] == "120.00"
    many = await statements(sql, gql, STATEMENT, {"month": "2026-12"}, token)
    assert many == few, sql.statements
    # Sign-in (2), the member, the month's entries, then versions, plans
    # and rules: one statement each.
    assert few <= 7, sql.statements
    assert await LedgerEntry.all().count() == 30
