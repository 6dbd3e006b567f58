"""Manager alerts: raised once per condition and period, accepted or dismissed."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from starlette.applications import Starlette

from spur.engine.metrics import ActivityKind, Aggregation
from spur.models import (
    AchievementEvent,
    AlertStatus,
    EntryCause,
    EventKind,
    LedgerEntry,
    ManagerAlert,
    MetricDefinition,
    RuleKind,
)
from spur.resolvers import alert_rules
from tests.api.conftest import FixedClock
from tests.api.helpers import GraphQL, error_codes, global_id, record, recorded
from tests.api.test_approval import APPROVE, PENDING_LIST

# `sql` is the statement-counting fixture the query-count tests use.
from tests.api.test_query_counts import StatementLog, sql, statements  # noqa: F401
from tests.factories import World, build_world
from tests.plans import PlanSpec, Rule, make_plan

FIELDS = """id rule status message value baseline period periodKind reason
  member { name } team { name } suggestedReward { amount currency }
  reward { id status amount { amount } }
  outcome { period nextPeriod before after direction complete }"""
ALERTS = f"""query($status: AlertStatus, $teamId: ID) {{
  alerts(status: $status, teamId: $teamId, first: 50) {{
    edges {{ node {{ {FIELDS} }} }} }} }}"""
ACCEPT = f"""mutation($input: AcceptAlertInput!) {{
  acceptAlert(input: $input) {{ alreadyDecided alert {{ {FIELDS} }} }} }}"""
DISMISS = f"""mutation($input: DismissAlertInput!) {{
  dismissAlert(input: $input) {{ alreadyDecided alert {{ {FIELDS} }} }} }}"""
_ids = count(1)


async def define_metrics(world: World) -> None:
    specs = [
        ("orders", ActivityKind.ORDER_CLOSED, Aggregation.COUNT),
        ("inquiries_received", ActivityKind.INQUIRY_RECEIVED, Aggregation.COUNT),
        ("inquiry_replies", ActivityKind.INQUIRY_REPLIED, Aggregation.COUNT),
        (
            "inquiry_reply_minutes",
            ActivityKind.INQUIRY_REPLIED,
            Aggregation.SUM_REPLY_MIN,
        ),
        ("platform_minutes", ActivityKind.PLATFORM_SESSION, Aggregation.SUM_QUANTITY),
    ]
    for key, kind, aggregation in specs:
        await MetricDefinition.create(
            company=world.company,
            key=key,
            name=key,
            activity_kind=kind,
            aggregation=aggregation,
        )


def activity(
    kind: str, at: str = "2026-12-04T09:00:00+08:00", **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "occurredAt": at,
        "source": "crm",
        "externalId": f"a{next(_ids)}",
        **extra,
    }


async def inquiries(gql: GraphQL, token: str, n: int, **extra: Any) -> None:
    for _ in range(n):
        recorded(await record(gql, token, activity("INQUIRY_RECEIVED", **extra)))


async def order(
    gql: GraphQL, token: str, at: str = "2026-12-04T09:00:00+08:00"
) -> None:
    body = await record(
        gql, token, activity("ORDER_CLOSED", at, amount="1000.00", currency="CNY")
    )
    recorded(body)


async def reply(gql: GraphQL, token: str, minutes: int, at: str) -> None:
    body = await record(
        gql, token, activity("INQUIRY_REPLIED", at, responseMinutes=minutes)
    )
    recorded(body)


@pytest.fixture
async def team(world: World) -> World:
    await define_metrics(world)
    return world


async def converting(gql: GraphQL, login: Any) -> str:
    """The teammate converts 1 in 10; the seller 10 inquiries, then orders."""
    mate = await login("mate@example.com")
    await inquiries(gql, mate, 10)
    await order(gql, mate)
    seller: str = await login("seller@example.com")
    await inquiries(gql, seller, 10)
    return seller


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["alerts"]["edges"]]


async def alert_events() -> int:
    return await AchievementEvent.filter(kind=EventKind.MANAGER_ALERT).count()


# Raised once per condition and period


async def test_conversion_above_the_team_raises_one_alert_not_one_per_order(
    team: World, gql: GraphQL, login: Any
) -> None:
    seller = await converting(gql, login)

    await order(gql, seller)  # 10% against 10%: nothing yet
    assert await ManagerAlert.all().count() == 0
    await order(gql, seller)  # 20% against 10%
    await order(gql, seller)  # 30%: the same condition, the same month
    await order(gql, seller)

    alerts = await ManagerAlert.all()
    assert [(a.rule.value, a.member_id) for a in alerts] == [
        ("CONVERSION_LEAD", team.seller.id)
    ]
    assert (alerts[0].value, alerts[0].baseline) == (Decimal(20), Decimal(10))
    assert alerts[0].suggested_amount == Decimal("500.00")
    assert await alert_events() == 1
    manager = await login("manager@example.com")
    [node] = nodes(await gql(ALERTS, {}, manager))
    assert node["message"] == (
        "Seller converts 20.00% of inquiries this month (2026-12), against 10.00% "
        "for the rest of the team. Suggested reward: 500.00 CNY."
    )
    assert node["member"] == {"name": "Seller"}
    assert node["suggestedReward"] == {"amount": "500.00", "currency": "CNY"}


async def test_reply_times_drifting_up_raise_once(
    team: World, gql: GraphQL, login: Any
) -> None:
    seller = await login("seller@example.com")
    for _ in range(5):
        await reply(gql, seller, 20, "2026-11-26T10:00:00+08:00")
    for _ in range(4):
        await reply(gql, seller, 45, "2026-12-03T10:00:00+08:00")
    assert await ManagerAlert.all().count() == 0  # too few replies this week

    await reply(gql, seller, 45, "2026-12-03T11:00:00+08:00")
    await reply(gql, seller, 45, "2026-12-03T12:00:00+08:00")

    [alert] = await ManagerAlert.all()
    assert alert.rule.value == "REPLY_DRIFT"
    assert (alert.value, alert.baseline) == (Decimal(45), Decimal(20))
    assert alert.suggested_amount is None


async def test_the_daily_pass_raises_low_upkeep_and_goals_at_risk_once(
    team: World, app: Starlette, clock: FixedClock
) -> None:
    services = app.state.services

    first = await alert_rules.evaluate_all(services, clock.now)
    again = await alert_rules.evaluate_all(services, clock.now)

    found = {(a.rule.value, a.team_id, a.member_id) for a in await ManagerAlert.all()}
    assert found == {
        ("LOW_UPKEEP", team.team.id, None),
        ("LOW_UPKEEP", team.other_team.id, None),
        ("GOAL_AT_RISK", team.team.id, team.seller.id),
    }
    assert (first, again) == (3, 0)
    # Europe has no manager to address the feed event to; HR lists it.
    assert await alert_events() == 2
    risk = await ManagerAlert.get(rule="GOAL_AT_RISK")
    assert risk.message == (
        "Seller's goal “10 new-customer follow-ups” for 2026-W49 is 0.00% done "
        "with 63.10% of the time gone and few days left."
    )


async def test_upkeep_kept_this_week_raises_nothing(
    team: World, app: Starlette, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    for email in ("seller@example.com", "mate@example.com"):
        token = await login(email)
        for day in range(1, 5):  # Monday to Thursday
            at = f"2026-12-0{day}T10:00:00+08:00"
            recorded(
                await record(gql, token, activity("PLATFORM_SESSION", at, quantity=61))
            )

    await alert_rules.evaluate_all(app.state.services, clock.now)

    teams = {a.team_id for a in await ManagerAlert.filter(rule="LOW_UPKEEP")}
    assert teams == {team.other_team.id}


# Accepting and dismissing


async def a_conversion_alert(gql: GraphQL, login: Any) -> ManagerAlert:
    seller = await converting(gql, login)
    await order(gql, seller)
    await order(gql, seller)
    return await ManagerAlert.get(rule="CONVERSION_LEAD")


def alert_id(alert: ManagerAlert) -> str:
    return global_id("ManagerAlert", alert.id)


async def test_accepting_writes_one_ledger_entry_through_approvals(
    team: World, gql: GraphQL, login: Any
) -> None:
    alert = await a_conversion_alert(gql, login)
    manager = await login("manager@example.com")

    first = await gql(
        ACCEPT, {"input": {"alertId": alert_id(alert), "note": "Well done"}}, manager
    )
    second = await gql(ACCEPT, {"input": {"alertId": alert_id(alert)}}, manager)

    assert "errors" not in first, first
    node = first["data"]["acceptAlert"]["alert"]
    assert node["status"] == "ACCEPTED"
    assert node["reason"] == "Well done"
    assert node["reward"]["status"] == "PENDING"  # no plan's threshold to go by
    assert node["reward"]["amount"] == {"amount": "500.00"}
    assert second["data"]["acceptAlert"]["alreadyDecided"] is True
    [entry] = await LedgerEntry.filter(cause=EntryCause.MANAGER_AWARD)
    assert (entry.member_id, entry.amount, entry.key) == (
        team.seller.id,
        Decimal("500.00"),
        f"alert:{alert.id}",
    )
    assert entry.inputs["rule"] == "CONVERSION_LEAD"
    events = await AchievementEvent.filter(kind=EventKind.REWARD_EARNED)
    assert [e.member_id for e in events] == [team.seller.id]


async def test_an_award_within_the_plan_threshold_is_approved(
    team: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(
        team.company,
        PlanSpec(
            "Everyone",
            [Rule("base", RuleKind.COMMISSION, {"rate": "0.00"})],
            approval_threshold=Decimal("2000.00"),
        ),
    )
    alert = await a_conversion_alert(gql, login)
    manager = await login("manager@example.com")

    body = await gql(
        ACCEPT, {"input": {"alertId": alert_id(alert), "amount": "800.00"}}, manager
    )

    reward = body["data"]["acceptAlert"]["alert"]["reward"]
    assert reward["status"] == "APPROVED"
    assert reward["amount"] == {"amount": "800.00"}
    # Asked again with another amount: nothing changes, and the answer says so.
    again = await gql(
        ACCEPT, {"input": {"alertId": alert_id(alert), "amount": "900.00"}}, manager
    )
    assert again["data"]["acceptAlert"]["alreadyDecided"] is True
    assert again["data"]["acceptAlert"]["alert"]["reward"] == reward


async def test_dismissing_writes_no_entry_and_an_accepted_alert_stays(
    team: World, gql: GraphQL, login: Any
) -> None:
    alert = await a_conversion_alert(gql, login)
    manager = await login("manager@example.com")
    entries = await LedgerEntry.all().count()

    empty = await gql(
        DISMISS, {"input": {"alertId": alert_id(alert), "reason": " "}}, manager
    )
    body = await gql(
        DISMISS,
        {"input": {"alertId": alert_id(alert), "reason": "One lucky week"}},
        manager,
    )
    accept = await gql(ACCEPT, {"input": {"alertId": alert_id(alert)}}, manager)

    assert error_codes(empty) == ["BAD_USER_INPUT"]
    assert body["data"]["dismissAlert"]["alert"]["status"] == "DISMISSED"
    assert error_codes(accept) == ["CONFLICT"]
    assert await LedgerEntry.all().count() == entries
    listed = nodes(await gql(ALERTS, {"status": "DISMISSED"}, manager))
    assert [n["reason"] for n in listed] == ["One lucky week"]


async def test_two_accepts_at_once_write_one_entry(
    team: World, gql: GraphQL, login: Any
) -> None:
    alert = await a_conversion_alert(gql, login)
    manager = await login("manager@example.com")
    hr = await login("hr@example.com")
    variables = {"input": {"alertId": alert_id(alert)}}

    bodies = await asyncio.gather(
        gql(ACCEPT, variables, manager), gql(ACCEPT, variables, hr)
    )

    wins = [b for b in bodies if "errors" not in b]
    assert [b["data"]["acceptAlert"]["alreadyDecided"] for b in wins].count(False) == 1
    assert all(error_codes(b) == ["CONFLICT"] for b in bodies if "errors" in b)
    assert await LedgerEntry.filter(cause=EntryCause.MANAGER_AWARD).count() == 1


async def test_the_outcome_compares_the_next_period_from_stored_totals(
    team: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    alert = await a_conversion_alert(gql, login)  # seller: 2 of 10 in December
    manager = await login("manager@example.com")
    await gql(ACCEPT, {"input": {"alertId": alert_id(alert)}}, manager)

    before = nodes(await gql(ALERTS, {}, manager))[0]["outcome"]
    clock.now = datetime.fromisoformat("2027-01-08T10:00:00+08:00")
    seller = await login("seller@example.com")
    at = "2027-01-06T10:00:00+08:00"
    await inquiries(gql, seller, 10, occurredAt=at)
    for _ in range(4):
        await order(gql, seller, at)
    manager = await login("manager@example.com")
    after = next(
        n["outcome"]
        for n in nodes(await gql(ALERTS, {}, manager))
        if n["rule"] == "CONVERSION_LEAD" and n["period"] == "2026-12"
    )

    assert before == {
        "period": "2026-12",
        "nextPeriod": "2027-01",
        "before": "20.00",
        "after": None,
        "direction": "UNKNOWN",
        "complete": False,
    }
    assert after["before"] == "20.00"
    assert after["after"] == "40.00"
    assert after["direction"] == "BETTER"
    assert after["complete"] is False


# Who may


async def test_salespeople_and_partner_apps_may_not_read_or_decide(
    team: World, gql: GraphQL, login: Any
) -> None:
    alert = await a_conversion_alert(gql, login)
    for email in ("seller@example.com", "partner@example.com"):
        token = await login(email)
        assert error_codes(await gql(ALERTS, {}, token)) == ["FORBIDDEN"]
        body = await gql(ACCEPT, {"input": {"alertId": alert_id(alert)}}, token)
        assert error_codes(body) == ["FORBIDDEN"]
    assert (await ManagerAlert.get(id=alert.id)).status is AlertStatus.OPEN


async def test_managers_see_and_decide_only_their_teams(
    team: World, app: Starlette, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    await alert_rules.evaluate_all(app.state.services, clock.now)
    europe = await ManagerAlert.get(team_id=team.other_team.id)
    manager = await login("manager@example.com")

    listed = nodes(await gql(ALERTS, {}, manager))
    other = await gql(
        ALERTS, {"teamId": global_id("Team", team.other_team.id)}, manager
    )
    accept = await gql(ACCEPT, {"input": {"alertId": alert_id(europe)}}, manager)
    hr = nodes(await gql(ALERTS, {}, await login("hr@example.com")))

    assert {n["team"]["name"] for n in listed} == {"Southeast Asia"}
    assert error_codes(other) == ["FORBIDDEN"]
    assert error_codes(accept) == ["FORBIDDEN"]
    assert {n["team"]["name"] for n in hr} == {"Southeast Asia", "Europe"}


async def test_other_companies_alerts_are_not_found(
    team: World, app: Starlette, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    await build_world(prefix="b")
    await alert_rules.evaluate_all(app.state.services, clock.now)
    theirs = await ManagerAlert.filter(company__name="bAcme Trading").first()
    assert theirs is not None
    hr = await login("hr@example.com")

    accept = await gql(ACCEPT, {"input": {"alertId": alert_id(theirs)}}, hr)
    dismiss = await gql(
        DISMISS, {"input": {"alertId": alert_id(theirs), "reason": "no"}}, hr
    )

    assert error_codes(accept) == ["NOT_FOUND"]
    assert error_codes(dismiss) == ["NOT_FOUND"]
    mine = nodes(await gql(ALERTS, {}, hr))
    assert {n["id"] for n in mine}.isdisjoint({alert_id(theirs)})
    assert len(mine) == 3


async def test_nobody_decides_an_alert_about_themselves(
    team: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    about_hr = await ManagerAlert.create(
        company=team.company,
        team=team.team,
        member=team.hr,
        key="CONVERSION_LEAD:test",
        rule="CONVERSION_LEAD",
        period_kind="MONTH",
        period_start=datetime(2026, 12, 1).date(),
        value=Decimal(30),
        baseline=Decimal(10),
        suggested_amount=Decimal(500),
        currency="CNY",
        message="About HR",
        raised_at=clock.now,
    )
    hr = await login("hr@example.com")

    body = await gql(ACCEPT, {"input": {"alertId": alert_id(about_hr)}}, hr)

    assert error_codes(body) == ["FORBIDDEN"]
    assert await LedgerEntry.all().count() == 0
    assert (await ManagerAlert.get(id=about_hr.id)).status is AlertStatus.OPEN


# Query counts


async def some_alerts(world: World, n: int, clock: FixedClock) -> None:
    """`n` alerts of every rule, about the seller and the team."""
    december = datetime(2026, 12, 1).date()
    week = datetime(2026, 11, 30).date()
    for k in range(n):
        common = {"company": world.company, "team": world.team, "raised_at": clock.now}
        values = {"value": Decimal(30), "baseline": Decimal(10), "message": "m"}
        await ManagerAlert.create(
            **common, **values, member=world.seller, key=f"c{n}:{k}",
            rule="CONVERSION_LEAD", period_kind="MONTH", period_start=december,
        )  # fmt: skip
        await ManagerAlert.create(
            **common, **values, member=world.seller, key=f"r{n}:{k}",
            rule="REPLY_DRIFT", period_kind="WEEK", period_start=week,
        )  # fmt: skip
        await ManagerAlert.create(
            **common, **values, key=f"u{n}:{k}",
            rule="LOW_UPKEEP", period_kind="WEEK", period_start=week,
        )  # fmt: skip
        await ManagerAlert.create(
            **common, **values, member=world.seller, goal=world.weekly,
            key=f"g{n}:{k}", rule="GOAL_AT_RISK", period_kind="WEEK",
            period_start=week,
        )  # fmt: skip


async def test_a_page_of_alerts_costs_the_same_for_4_or_20(
    team: World,
    gql: GraphQL,
    login: Any,
    clock: FixedClock,
    sql: StatementLog,  # noqa: F811
) -> None:
    hr = await login("hr@example.com")
    await some_alerts(team, 1, clock)
    few = await statements(sql, gql, ALERTS, {}, hr)
    await some_alerts(team, 4, clock)
    many = await statements(sql, gql, ALERTS, {}, hr)

    assert many == few, sql.statements


async def test_who_granted_an_award_does_not_approve_it(
    team: World, gql: GraphQL, login: Any
) -> None:
    alert = await a_conversion_alert(gql, login)
    manager = await login("manager@example.com")
    hr = await login("hr@example.com")
    await gql(ACCEPT, {"input": {"alertId": alert_id(alert)}}, manager)
    award = await LedgerEntry.get(cause=EntryCause.MANAGER_AWARD)
    approve = {"input": {"ids": [global_id("Reward", award.id)], "reason": "ok"}}
    listing = {"first": 10}

    theirs = await gql(PENDING_LIST, listing, manager)
    refused = await gql(APPROVE, approve, manager)
    others = await gql(PENDING_LIST, listing, hr)
    approved = await gql(APPROVE, approve, hr)

    assert theirs["data"]["pendingRewards"]["edges"] == []
    assert error_codes(refused) == ["FORBIDDEN"]
    assert [e["node"]["id"] for e in others["data"]["pendingRewards"]["edges"]] == [
        global_id("Reward", award.id)
    ]
    assert approved["data"]["approveRewards"]["rewards"][0]["status"] == "APPROVED"
