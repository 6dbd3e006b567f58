"""The payroll CSV: exact content, formula-safe cells, who may download it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from spur.models import (
    Company,
    EntryCause,
    Member,
    RewardKind,
    RewardStatus,
    Role,
    Team,
)
from tests.api.conftest import FixedClock
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.api.ledger_factories import entry

# `sql` is the statement-counting fixture the query-count tests use.
from tests.api.test_query_counts import StatementLog, sql, statements  # noqa: F401
from tests.factories import World, build_world, member

PENDING, APPROVED, PAID = RewardStatus.PENDING, RewardStatus.APPROVED, RewardStatus.PAID
REJECTED, REVERSED = RewardStatus.REJECTED, RewardStatus.REVERSED
URL = "/exports/payroll/2026-12.csv"
HEADER = (
    "member_id,email,name,team,currency,"
    "approved,pending,paid,rejected,reversed,payable\r\n"
)
EXPORT = "query($month: String!) { payrollExport(month: $month) }"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def download(
    client: httpx.AsyncClient, token: str | None, url: str = URL
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.get(url, headers=headers)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def december(world: World) -> None:
    """Cash in December for the seller, mate, outsider and HR (not the manager)."""
    seller = world.seller
    await entry(seller, "500.00", APPROVED)
    await entry(seller, "-620.00", APPROVED, cause=EntryCause.VOID)  # a clawback
    await entry(seller, "800.00", PENDING)
    await entry(seller, "120.50", PAID)
    await entry(seller, "200.00", REJECTED)
    await entry(seller, "300.00", REVERSED)
    await entry(seller, "-300.00", REVERSED, cause=EntryCause.VOID)
    # 00:30 on 1 December in Shanghai.
    await entry(world.teammate, "40.00", PENDING, earned_at=at("2026-11-30T16:30Z"))
    await entry(world.outsider, "99.99", PAID, kind=RewardKind.CASH)
    await entry(world.hr, "10.00", APPROVED)
    # Not in the export: non-cash, another month, another currency.
    await entry(seller, None, APPROVED, kind=RewardKind.TRAINING, quantity=Decimal(1))
    await entry(world.manager, "1.00", APPROVED, earned_at=at("2026-11-30T15:59Z"))
    await entry(world.manager, "1.00", APPROVED, earned_at=at("2026-12-31T16:00Z"))
    await entry(world.manager, "1.00", APPROVED, currency="USD")


async def test_the_export_has_one_row_per_member_with_cash_by_team_then_name(
    world: World, client: httpx.AsyncClient, login: Any
) -> None:
    await december(world)
    other = await build_world(prefix="b-")
    await entry(other.seller, "5.00", APPROVED)

    response = await download(client, await login("hr@example.com"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="payroll-2026-12.csv"'
    )
    assert response.headers["cache-control"] == "no-store"

    def member_id(row: Member) -> str:
        return global_id("Member", row.id)

    assert response.text == (
        HEADER + f"{member_id(world.outsider)},eu@example.com,Eu,Europe,CNY,"
        "0.00,0.00,99.99,0.00,0.00,0.00\r\n"
        + f"{member_id(world.teammate)},mate@example.com,Mate,Southeast Asia,CNY,"
        "0.00,40.00,0.00,0.00,0.00,0.00\r\n"
        + f"{member_id(world.seller)},seller@example.com,Seller,Southeast Asia,CNY,"
        "-120.00,800.00,120.50,200.00,0.00,-120.00\r\n"
        + f"{member_id(world.hr)},hr@example.com,Hr,,CNY,"
        "10.00,0.00,0.00,0.00,0.00,10.00\r\n"
    )


async def test_a_month_without_cash_is_the_header_alone(
    world: World, client: httpx.AsyncClient, login: Any
) -> None:
    response = await download(
        client, await login("hr@example.com"), "/exports/payroll/2026-06.csv"
    )
    assert response.status_code == 200
    assert response.text == HEADER


async def test_amounts_use_the_company_currencys_minor_unit(
    client: httpx.AsyncClient, login: Any
) -> None:
    company = await Company.create(name="Tokyo Trading", currency="JPY")
    team = await Team.create(company=company, name="Japan", market="JP")
    seller = await member(company, team, "tanaka@example.com", Role.SALESPERSON)
    await member(company, None, "jp-hr@example.com", Role.HR_ADMIN)
    await entry(seller, "1200", APPROVED, currency="JPY")
    await entry(seller, "35", PENDING, currency="JPY")

    response = await download(client, await login("jp-hr@example.com"))

    (_, row) = rows(response.text)
    assert row[4:] == ["JPY", "1200", "35", "0", "0", "0", "1200"]


@pytest.mark.parametrize(
    ("name", "team", "email"),
    [
        ('=HYPERLINK("http://evil.test","x")', "@SUM(1+1)", "+1@example.com"),
        ("-2+3", "=cmd|' /C calc'!A0", "-x@example.com"),
        ("\tTab", "\rReturn", "@x@example.com"),
    ],
)
async def test_cells_a_spreadsheet_would_run_are_defused(
    world: World,
    client: httpx.AsyncClient,
    login: Any,
    name: str,
    team: str,
    email: str,
) -> None:
    group = await Team.create(company=world.company, name=team)
    person = await member(world.company, group, email, Role.SALESPERSON)
    person.name = name
    await person.save()
    await entry(person, "-5.00", APPROVED)

    response = await download(client, await login("hr@example.com"))

    (_, row) = rows(response.text)
    assert row[1:4] == [f"'{email}", f"'{name}", f"'{team}"]
    # Amounts are numbers we wrote: a negative one stays a number.
    assert row[5] == "-5.00"


async def test_the_graphql_field_returns_the_same_csv(
    world: World, client: httpx.AsyncClient, gql: GraphQL, login: Any
) -> None:
    await december(world)
    token = await login("hr@example.com")
    body = await gql(EXPORT, {"month": "2026-12"}, token)
    assert "errors" not in body, body
    assert body["data"]["payrollExport"] == (await download(client, token)).text


# Who may


async def test_without_a_valid_token_the_answer_is_401(
    world: World, client: httpx.AsyncClient, login: Any, clock: FixedClock
) -> None:
    token = await login("hr@example.com")
    for header in ({}, {"Authorization": "Basic aHI6ZGVtbw=="}):
        response = await client.get(URL, headers=header)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert (await download(client, token[:-2] + "xx")).status_code == 401
    clock.now += timedelta(days=1)
    expired = await download(client, token)
    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]["message"]


@pytest.mark.parametrize(
    "email", ["seller@example.com", "manager@example.com", "partner@example.com"]
)
async def test_only_hr_admins_download_payroll(
    world: World, client: httpx.AsyncClient, gql: GraphQL, login: Any, email: str
) -> None:
    await december(world)
    token = await login(email)
    response = await download(client, token)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert "member_id" not in response.text
    body = await gql(EXPORT, {"month": "2026-12"}, token)
    assert error_codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "december", "2026-12.csv"])
async def test_a_malformed_month_is_400(
    world: World, client: httpx.AsyncClient, gql: GraphQL, login: Any, month: str
) -> None:
    token = await login("hr@example.com")
    response = await download(client, token, f"/exports/payroll/{month}.csv")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    body = await gql(EXPORT, {"month": month}, token)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_the_month_is_checked_only_for_hr_admins(
    world: World, client: httpx.AsyncClient, login: Any
) -> None:
    response = await download(
        client, await login("seller@example.com"), "/exports/payroll/nope.csv"
    )
    assert response.status_code == 403


async def test_only_get_is_served(
    world: World, client: httpx.AsyncClient, login: Any
) -> None:
    token = await login("hr@example.com")
    response = await client.post(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405


async def members_paid(world: World, numbers: range) -> None:
    for n in numbers:
        team = await Team.create(company=world.company, name=f"Team {n}")
        person = await member(world.company, team, f"p{n}@example.com", Role.MANAGER)
        await entry(person, f"{n}.00", APPROVED)


async def test_the_export_costs_the_same_for_3_or_15_members(
    world: World,
    gql: GraphQL,
    login: Any,
    sql: StatementLog,  # noqa: F811
) -> None:
    token = await login("hr@example.com")
    await members_paid(world, range(3))
    few = await statements(sql, gql, EXPORT, {"month": "2026-12"}, token)
    await members_paid(world, range(3, 15))
    body = await gql(EXPORT, {"month": "2026-12"}, token)
    assert len(rows(body["data"]["payrollExport"])) == 16
    many = await statements(sql, gql, EXPORT, {"month": "2026-12"}, token)
    assert many == few, sql.statements
    # Sign-in (2), the month's entries, their members, their teams.
    assert few <= 5, sql.statements
