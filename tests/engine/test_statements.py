"""Statements as pure functions: grouping, totals by status, and properties."""

from __future__ import annotations

from decimal import Decimal
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine.statements import (
    LIVE_STATUSES,
    STATUSES,
    LineKey,
    StatementItem,
    build_statement,
    status_totals,
)
from spur.models import RewardStatus

COMMISSION = LineKey(0, "p1:commission")
STEPS = LineKey(0, "p1:steps")
VOID = LineKey(1, "p1:commission")


def item(key: LineKey, status: str, amount: str, label: str = "") -> StatementItem:
    return StatementItem(key, label or key.source, status, Decimal(amount))


def test_the_engine_lists_the_ledgers_statuses_in_order() -> None:
    assert tuple(status.value for status in RewardStatus) == STATUSES


def test_lines_group_by_key_and_count_only_live_statuses() -> None:
    statement = build_statement(
        [
            item(COMMISSION, "APPROVED", "500.00", "Commission"),
            item(STEPS, "REJECTED", "200.00", "Replies"),
            item(COMMISSION, "REVERSED", "300.00", "Commission"),
            item(VOID, "REVERSED", "-300.00", "Void · Commission"),
            item(COMMISSION, "PENDING", "800.00", "Commission (8%)"),
            item(STEPS, "PAID", "200.00", "Replies"),
        ]
    )

    assert [(line.label, line.entries, line.total) for line in statement.lines] == [
        ("Commission (8%)", 3, Decimal("1300.00")),
        ("Replies", 2, Decimal("200.00")),
        ("Void · Commission", 1, Decimal(0)),
    ]
    assert statement.lines[0].by_status == (
        ("PENDING", Decimal("800.00")),
        ("APPROVED", Decimal("500.00")),
        ("REVERSED", Decimal("300.00")),
    )
    assert dict(statement.totals_by_status) == {
        "PENDING": Decimal("800.00"),
        "APPROVED": Decimal("500.00"),
        "PAID": Decimal("200.00"),
        "REJECTED": Decimal("200.00"),
        "REVERSED": Decimal(0),
    }
    assert statement.total == Decimal("1500.00")
    assert statement.payable == Decimal("500.00")
    assert statement.paid == Decimal("200.00")


def test_an_empty_month_has_every_status_at_zero() -> None:
    statement = build_statement([])
    assert statement.lines == ()
    assert statement.totals_by_status == tuple((s, Decimal(0)) for s in STATUSES)
    assert statement.total == statement.payable == statement.paid == Decimal(0)


def test_an_unknown_status_is_refused_rather_than_dropped() -> None:
    with pytest.raises(ValueError, match="ON_HOLD"):
        status_totals([("ON_HOLD", Decimal(1))])


amounts = st.decimals(
    min_value=Decimal("-1000000"),
    max_value=Decimal("1000000"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
keys = st.builds(
    LineKey, st.integers(0, 3), st.sampled_from(["p1:a", "p1:b", "p2:a", "goal"])
)
items = st.builds(
    StatementItem,
    keys,
    st.sampled_from(["Commission", "Steps", "Goal reward"]),
    st.sampled_from(STATUSES),
    amounts,
)


@given(st.lists(items, max_size=40))
def test_the_total_is_the_sum_of_the_lines_and_of_the_live_statuses(
    entries: list[StatementItem],
) -> None:
    statement = build_statement(entries)

    assert statement.total == sum((line.total for line in statement.lines), Decimal(0))
    live = [amount for s, amount in statement.totals_by_status if s in LIVE_STATUSES]
    assert statement.total == sum(live, Decimal(0))
    assert statement.total == sum(
        (e.amount for e in entries if e.status in LIVE_STATUSES), Decimal(0)
    )


@given(st.lists(items, max_size=40))
def test_every_entry_is_on_exactly_one_line(entries: list[StatementItem]) -> None:
    statement = build_statement(entries)

    assert sum(line.entries for line in statement.lines) == len(entries)
    assert len({line.key for line in statement.lines}) == len(statement.lines)
    for line in statement.lines:
        live = [a for s, a in line.by_status if s in LIVE_STATUSES]
        assert line.total == sum(live, Decimal(0))
    assert [s for s, _ in statement.totals_by_status] == list(STATUSES)


@given(st.lists(items, max_size=40), st.randoms())
def test_order_of_entries_changes_no_amount(
    entries: list[StatementItem], random: Random
) -> None:
    shuffled = list(entries)
    random.shuffle(shuffled)
    first, second = build_statement(entries), build_statement(shuffled)

    assert first.totals_by_status == second.totals_by_status
    assert (first.total, first.payable, first.paid) == (
        second.total,
        second.payable,
        second.paid,
    )
    by_key = {line.key: line.by_status for line in first.lines}
    assert by_key == {line.key: line.by_status for line in second.lines}
