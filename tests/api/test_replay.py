"""Replaying recorded activity in memory pays exactly what the live path paid."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from spur.engine.periods import PeriodKind
from spur.models import Activity, Company, LedgerEntry, RewardKind, RuleKind
from spur.resolvers.replay import Expected, load_history, replay, replay_books
from spur.resolvers.rulebook import load_rulebook
from tests.api.conftest import NOW
from tests.api.helpers import GraphQL, follow_up, order, record, recorded
from tests.factories import World
from tests.plans import PlanSpec, Rule, make_plan

FIRST, END = date(2026, 11, 1), date(2026, 12, 5)


def mixed_plan(world: World) -> PlanSpec:
    """Tiers, an override, steps, a goal, a target bonus, a team rule, a cap."""
    sales, follow_ups = world.sales, world.follow_ups
    tiers = {
        "mode": "MARGINAL",
        "basis": "PERIOD",
        "bands": [
            {"from": "0", "to": "20000", "rate": "0.02"},
            {"from": "20000", "rate": "0.05"},
        ],
    }
    rules = [
        Rule(
            "commission",
            RuleKind.COMMISSION,
            {"tiers": tiers, "overrides": [{"market": "SEA", "rate": "0.08"}]},
            metric=sales,
            period_kind=PeriodKind.MONTH,
        ),
        Rule(
            "follow-ups",
            RuleKind.STEP,
            {
                "every": "3",
                "amount": "50.00",
                "entitlement": {"kind": "LEAD_ALLOCATION", "quantity": "1"},
            },
            metric=follow_ups,
            period_kind=PeriodKind.WEEK,
        ),
        Rule(
            "quarter",
            RuleKind.TARGET_BONUS,
            {
                "share": "0.01",
                "target": "30000",
                "entitlement": {"kind": "HONOR_TITLE", "title": "Quarter star"},
            },
            metric=sales,
            period_kind=PeriodKind.QUARTER,
        ),
        Rule(
            "weekly-goal",
            RuleKind.GOAL_COMPLETION,
            {"amount": "100.00"},
            metric=follow_ups,
            period_kind=PeriodKind.WEEK,
        ),
        Rule(
            "team-star",
            RuleKind.TEAM_THRESHOLD,
            {
                "measure": "TOTAL",
                "threshold": "50000",
                "entitlement": {"kind": "HONOR_TITLE", "title": "Team Star"},
            },
            metric=sales,
            period_kind=PeriodKind.QUARTER,
        ),
    ]
    return PlanSpec(
        "Mixed", rules, member_cap=Decimal("1200.00"), cap_period=PeriodKind.MONTH
    )


def at(day: str, hour: int = 10) -> str:
    return f"2026-{day}T{hour:02d}:00:00+08:00"


async def record_mixed_history(gql: GraphQL, login: Any) -> None:
    """Orders across a month end (one arriving late), a refund, a dollar
    order, eleven follow-ups in a week, and a teammate's sales."""
    seller, mate = await login("seller@example.com"), await login("mate@example.com")
    orders = [
        (seller, order("s1", "12000.00", market="EU", occurredAt=at("11-26"))),
        (seller, order("s2", "9000.00", market="SEA", occurredAt=at("11-28"))),
        (seller, order("s3", "15000.00", market="EU", occurredAt=at("12-01"))),
        (mate, order("m1", "20000.00", market="EU", occurredAt=at("12-02"))),
        (seller, order("s4", "-3000.00", market="EU", occurredAt=at("12-02", 11))),
        (mate, order("m2", "5000.00", market="SEA", occurredAt=at("12-03"))),
        (seller, order("s5", "2000.00", currency="USD", occurredAt=at("12-04", 9))),
        # Recorded last, it happened before s2: paid on the totals it saw.
        (seller, order("late", "6000.00", market="EU", occurredAt=at("11-27"))),
    ]
    for n in range(11):
        day = f"12-0{1 + n % 3}"
        orders.insert(3 + n, (seller, follow_up(f"f{n}", occurred_at=at(day, 8))))
    for token, activity in orders:
        recorded(await record(gql, token, activity))


async def replayed(company: Company, first: date, end: date) -> list[Expected]:
    conn = Activity._meta.db
    book = await load_rulebook(conn, company.id)
    history = await load_history(conn, company, [book], first, end)
    return (await replay(history, book, NOW)).expected


def _stored_line(entry: LedgerEntry) -> tuple[object, ...]:
    return (
        entry.member_id,
        entry.kind,
        entry.amount,
        entry.quantity,
        entry.rule_id,
        entry.source_activity_id,
        entry.earned_at,
        entry.title,
        entry.titles,
        entry.period_start,
        entry.goal_id,
        entry.inputs,
    )


def _replayed_line(entry: Expected) -> tuple[object, ...]:
    return (
        entry.member_id,
        entry.kind,
        entry.amount,
        entry.quantity,
        entry.rule.rule.id,
        entry.activity_id,
        entry.earned_at,
        entry.title,
        entry.titles,
        entry.period_start,
        entry.goal_id,
        entry.inputs,
    )


async def test_an_untouched_history_replays_to_exactly_the_stored_entries(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, mixed_plan(world))
    await record_mixed_history(gql, login)

    expected = await replayed(world.company, FIRST, END)

    stored = await LedgerEntry.filter(plan_version_id__isnull=False).order_by("id")
    assert {e.key: _replayed_line(e) for e in expected} == {
        e.key: _stored_line(e) for e in stored
    }
    assert [e.key for e in expected] == [e.key for e in stored]  # same order too
    kinds = {e.kind for e in stored}
    assert kinds >= {
        RewardKind.COMMISSION,
        RewardKind.CASH,
        RewardKind.LEAD_ALLOCATION,
        RewardKind.HONOR_TITLE,
    }
    codes = {e.rule_ref.rsplit(":", 1)[1] for e in stored}
    assert codes == {"commission", "follow-ups", "quarter", "weekly-goal", "team-star"}
    assert any("uncapped" in e.inputs for e in stored), "the cap must bite"
    assert any(e.inputs.get("tier") for e in stored)


async def test_only_activities_of_the_range_are_reported(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, mixed_plan(world))
    await record_mixed_history(gql, login)

    december = await replayed(world.company, date(2026, 12, 1), END)

    stored = await LedgerEntry.filter(
        plan_version_id__isnull=False,
        earned_at__gte=datetime.fromisoformat("2026-11-30T16:00:00+00:00"),
    )
    assert {e.key: e.amount for e in december} == {e.key: e.amount for e in stored}
    assert len(december) < await LedgerEntry.filter(rule_id__isnull=False).count()


async def test_a_voided_activity_is_not_replayed(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, mixed_plan(world))
    token = await login("seller@example.com")
    recorded(await record(gql, token, order("a", "100.00", market="SEA")))
    recorded(await record(gql, token, order("b", "200.00", market="SEA")))
    await Activity.filter(external_id="b").update(voided_at=NOW)

    expected = await replayed(world.company, date(2026, 12, 1), END)

    kept = await Activity.get(external_id="a")
    assert [(e.activity_id, e.amount) for e in expected] == [(kept.id, Decimal("8.00"))]


COUNTING: ContextVar[bool] = ContextVar("counting", default=False)


class Statements(logging.Handler):
    """Counts the SQL statements Tortoise logs for code run with COUNTING
    set; the outbox relay's own task does not see it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s" and COUNTING.get():
            self.count += 1


@pytest.fixture
def statements() -> Iterator[Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def _reads(company: Company, statements: Statements) -> int:
    statements.count = 0
    marker = COUNTING.set(True)
    try:
        await replayed(company, FIRST, END)
    finally:
        COUNTING.reset(marker)
    return statements.count


async def test_replay_reads_in_a_fixed_number_of_queries(
    world: World, gql: GraphQL, login: Any, statements: Statements
) -> None:
    await make_plan(world.company, mixed_plan(world))
    token = await login("seller@example.com")
    recorded(await record(gql, token, order("one", "100.00")))
    few = await _reads(world.company, statements)

    for n in range(30):
        day = (date(2026, 11, 20) + timedelta(days=n % 14)).isoformat()[5:]
        recorded(
            await record(gql, token, order(f"more-{n}", "10.00", occurredAt=at(day)))
        )
    many = await _reads(world.company, statements)

    assert few == many == 10  # rule book 4, history 6


async def test_books_replayed_together_pay_as_replayed_alone(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, mixed_plan(world))
    await record_mixed_history(gql, login)
    conn = Activity._meta.db
    book = await load_rulebook(conn, world.company.id)
    history = await load_history(conn, world.company, [book], FIRST, END)

    alone = await replay(history, book, NOW)
    together = await replay_books(history, [book, book], NOW)

    assert together == [alone, alone]
    assert alone.counters  # caps and step marks were counted
