"""The demo names its metrics and cycles in Chinese and English, and a
Chinese reader's lines carry the Chinese names."""

from __future__ import annotations

import re

from spur.demo.catalogue import METRICS
from spur.engine import messages
from spur.models import AppraisalCycle, Member, MetricDefinition, Role
from tests.demo.conftest import FilledDemo
from tests.demo.test_demo_plans import GraphQL, gql, sign_in

__all__ = ["gql"]  # the API fixture, shared with the plan tests
LATIN = re.compile(r"[A-Za-z]")


async def test_every_metric_and_cycle_has_a_chinese_and_an_english_title(
    demo: FilledDemo,
) -> None:
    rows: list[MetricDefinition | AppraisalCycle] = [
        *await MetricDefinition.all(),
        *await AppraisalCycle.all(),
    ]
    assert len(rows) == len(METRICS) + 4  # the quarter and three yearly reviews
    for row in rows:
        assert set(row.titles) == {"zh-CN", "en"}
        assert row.titles["en"] == row.name
        assert LATIN.search(messages.localized(row.name, row.titles, "zh-CN")) is None


async def test_a_chinese_seller_rising_on_a_board_reads_its_chinese_name(
    demo: FilledDemo, gql: GraphQL
) -> None:
    seller = (
        await Member.filter(
            role=Role.SALESPERSON, language="zh-CN", team__market="SEA", is_active=True
        )
        .order_by("id")
        .first()
    )
    assert seller is not None
    order = {
        "kind": "ORDER_CLOSED",
        "occurredAt": "2026-12-04T09:30:00+08:00",
        "amount": "5000000.00",
        "currency": "CNY",
        "market": "SEA",
        "source": "titles-check",
        "externalId": "titles-1",
    }
    token = await sign_in(gql, seller.email)
    answer = await gql("RecordActivity", {"input": order}, token)

    ranks = [
        a["message"]
        for a in answer["recordActivity"]["achievements"]
        if a["kind"] == "RANK_CHANGED"
    ]
    # Wherever the seller stood, the order moves them on a board of orders.
    boards = {f"「{m.zh_name}」" for m in METRICS}
    assert ranks, answer
    for line in ranks:
        assert LATIN.search(line) is None, line
        assert any(board in line for board in boards), line
