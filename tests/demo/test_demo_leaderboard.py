"""The demo's leaderboards: its history on every board, served by the contract."""

from __future__ import annotations

from decimal import Decimal

from spur.engine.periods import PeriodKind, period_containing
from spur.models import LeaderboardScore, MetricDefinition, MetricTotal
from tests.demo.conftest import NOW, SHANGHAI, FilledDemo
from tests.demo.test_demo_plans import GraphQL, gql, sign_in

__all__ = ["gql"]  # the API fixture, shared with the plan tests
WEEK = period_containing(PeriodKind.WEEK, NOW, SHANGHAI).start_date


async def week_totals(key: str) -> dict[int, Decimal]:
    metric = await MetricDefinition.get(key=key)
    rows = await MetricTotal.filter(
        metric_id=metric.id, scope="member", period_kind="WEEK", period_start=WEEK
    ).values_list("subject_id", "value")
    return {int(member): Decimal(value) for member, value in rows}


async def test_the_contract_reads_the_demo_week(demo: FilledDemo, gql: GraphQL) -> None:
    token = await sign_in(gql, "senior.sea@example.com")
    variables = {"metric": "orders", "period": "WEEK", "first": 50}
    board = (await gql("Leaderboard", variables, token))["leaderboard"]
    totals = await week_totals("orders")
    entries = [edge["node"] for edge in board["entries"]["edges"]]
    assert board["period"]["start"].startswith(WEEK.isoformat())
    assert len(entries) == min(len(totals), 50) > 10
    values = sorted(totals.values(), reverse=True)
    assert [e["value"] for e in entries] == [float(v) for v in values[:50]]
    for entry in entries:
        assert entry["rank"] == 1 + sum(
            1 for v in values if v > Decimal(entry["value"])
        )
    assert board["viewerEntry"] is not None


async def test_every_member_total_is_on_its_boards(demo: FilledDemo) -> None:
    metric = await MetricDefinition.get(key="sales_amount")
    totals = await week_totals("sales_amount")
    company = await LeaderboardScore.filter(
        metric_id=metric.id, period_kind="WEEK", period_start=WEEK, scope_key="company"
    ).values_list("member_id", "value")
    assert {int(m): Decimal(v) for m, v in company} == totals
    segments = set(
        await LeaderboardScore.filter(metric_id=metric.id).values_list(
            "scope_key", flat=True
        )
    )
    assert {"company", "age:30-", "age:35+", "market:SEA"} <= segments
