"""recordActivity over HTTP: bad input, duplicates and concurrent calls."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from spur.models import GoalProgress, LedgerEntry, MetricTotal
from tests.api.helpers import (
    GraphQL,
    error_codes,
    follow_up,
    global_id,
    order,
    record,
    recorded,
    row_counts,
)
from tests.factories import World

BAD_INPUTS = {
    "occurredAt without offset": follow_up("x", occurred_at="2026-12-04T09:00:00"),
    "occurredAt not a date": follow_up("x", occurred_at="last Tuesday"),
    "occurredAt in the future": follow_up("x", occurred_at="2026-12-05T10:00:00Z"),
    "occurredAt in a closed month": follow_up("x", occurred_at="2026-10-30T10:00Z"),
    "negative quantity": follow_up("x", quantity=-1),
    "zero quantity": follow_up("x", quantity=0),
    "more decimals than CNY has": order("x", "10.001"),
    "more decimals than JPY has": order("x", "10.5", currency="JPY"),
    "negative amount on a follow-up": follow_up("x", amount="-10.00", currency="CNY"),
    "amount as a JSON number": order("x", 10.5),
    "amount not a number": order("x", "ten"),
    "unknown kind": {**follow_up("x"), "kind": "TELEPATHY"},
    "unknown currency": order("x", "10.00", currency="XYZ"),
    "foreign currency without a rate": order("x", "10.00", currency="EUR"),
    "foreign currency without a rate that day": order(
        "x", "10.00", currency="USD", occurredAt="2026-12-03T09:00:00+08:00"
    ),
    "order without amount": {**order("x", "1.00"), "amount": None},
    "amount without currency": {**order("x", "1.00"), "currency": None},
    "malformed memberId": follow_up("x", memberId="not-an-id"),
    "memberId of another type": follow_up("x", memberId=global_id("Team", 1)),
    "rating above five": {
        "kind": "CUSTOMER_RATING",
        "occurredAt": "2026-12-04T09:00:00+08:00",
        "rating": 6,
    },
    "empty externalId": follow_up(""),
}


@pytest.mark.parametrize("activity", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
async def test_bad_input_is_refused_and_nothing_written(
    world: World, gql: GraphQL, login: Any, activity: dict[str, Any]
) -> None:
    token = await login("seller@example.com")
    recorded(await record(gql, token, follow_up("earlier")))
    before = await row_counts()
    body = await record(gql, token, activity)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["data"] is None
    assert await row_counts() == before


async def totals() -> dict[tuple[str, str, int], Decimal]:
    rows = await MetricTotal.all().values("scope", "period_kind", "subject_id", "value")
    return {
        (r["scope"], str(r["period_kind"]), r["subject_id"]): r["value"] for r in rows
    }


async def test_a_repeat_counts_once(world: World, gql: GraphQL, login: Any) -> None:
    token = await login("seller@example.com")
    first = recorded(await record(gql, token, follow_up("same")))
    counted = await totals()
    rows = await row_counts()
    again = recorded(await record(gql, token, follow_up("same")))
    assert first["duplicate"] is False
    assert again["duplicate"] is True
    assert again["achievements"] == []
    assert again["activity"] == first["activity"]
    assert await totals() == counted
    assert await row_counts() == rows
    assert set(counted.values()) == {Decimal(1)}


async def test_the_same_external_id_from_another_source_counts(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    recorded(await record(gql, token, follow_up("same")))
    other = recorded(await record(gql, token, follow_up("same", source="phone")))
    assert other["duplicate"] is False
    progress = await GoalProgress.get(goal_id=world.weekly.id)
    assert progress.current == 2


async def test_a_retry_of_the_completing_activity_pays_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    answers = [
        recorded(await record(gql, token, follow_up(f"f{n}"))) for n in range(10)
    ]
    assert len(answers[-1]["achievements"]) == 2
    retry = recorded(await record(gql, token, follow_up("f9")))
    assert (retry["duplicate"], retry["achievements"]) == (True, [])
    assert await LedgerEntry.all().count() == 1


async def test_concurrent_identical_calls_record_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    bodies = await asyncio.gather(
        *(record(gql, token, follow_up("burst")) for _ in range(20))
    )
    answers = [recorded(body) for body in bodies]
    assert [a["duplicate"] for a in answers].count(False) == 1
    assert len({a["activity"]["id"] for a in answers}) == 1
    assert (await row_counts())["Activity"] == 1
    progress = await GoalProgress.get(goal_id=world.weekly.id)
    assert progress.current == 1
    assert set((await totals()).values()) == {Decimal(1)}


async def test_concurrent_follow_ups_complete_the_goal_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    bodies = await asyncio.gather(
        *(record(gql, token, follow_up(f"c{n}")) for n in range(20))
    )
    answers = [recorded(body) for body in bodies]
    kinds = Counter(e["kind"] for a in answers for e in a["achievements"])
    assert kinds == {"MILESTONE_REACHED": 1, "GOAL_COMPLETED": 1, "REWARD_EARNED": 1}
    assert not any(a["duplicate"] for a in answers)
    progress = await GoalProgress.get(goal_id=world.weekly.id)
    assert progress.current == 20
    assert progress.completed_at is not None
    counts = await row_counts()
    assert (counts["Activity"], counts["LedgerEntry"]) == (20, 1)
    assert counts["AchievementEvent"] == 3


async def test_another_members_external_id_is_a_conflict(
    world: World, gql: GraphQL, login: Any
) -> None:
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, follow_up("shared")))
    before = await row_counts()
    mate = await login("mate@example.com")
    body = await record(gql, mate, follow_up("shared"))
    assert error_codes(body) == ["CONFLICT"]
    assert body["data"] is None
    assert await row_counts() == before


async def test_a_manager_resending_the_sellers_activity_is_a_duplicate(
    world: World, gql: GraphQL, login: Any
) -> None:
    seller = await login("seller@example.com")
    first = recorded(await record(gql, seller, follow_up("same")))
    manager = await login("manager@example.com")
    again = follow_up("same", memberId=global_id("Member", world.seller.id))
    answer = recorded(await record(gql, manager, again))
    assert answer["duplicate"] is True
    assert answer["activity"] == first["activity"]
