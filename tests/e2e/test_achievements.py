"""OnAchievement over a real socket: live events, then a resume by cursor."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from tests.e2e.client import (
    Api,
    document,
    follow_up,
    order,
    subscribed,
    wait_for_subscriptions,
)
from tests.e2e.seed import Ids
from tests.e2e.server import Server

SELLER = "seller@example.com"
WEEKLY_TITLE = "10 new-customer follow-ups"
SALES_TITLE = "1000 CNY of orders"


def decoded_id(value: str) -> str:
    return base64.b64decode(value).decode()


async def record_follow_ups(
    api: Api, token: str, count: int, prefix: str = "f"
) -> None:
    for n in range(count):
        await api.record(token, follow_up(f"{prefix}{n}"))


async def test_tenth_follow_up_pushes_completion_and_reward(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login(SELLER)
    await record_follow_ups(api, token, 9)
    async with subscribed(server, token, document("OnAchievement")) as feed:
        await wait_for_subscriptions(server, 1)
        recorded = await api.record(token, follow_up("f9"))
        completed, reward = (item["achievements"] for item in await feed.take(2))
        assert await feed.silent()

    assert [a["kind"] for a in recorded["achievements"]] == [
        "GOAL_COMPLETED",
        "REWARD_EARNED",
    ]
    assert completed["kind"] == "GOAL_COMPLETED"
    assert completed["goal"]["title"] == WEEKLY_TITLE
    assert completed["goal"]["progress"]["current"] == 10
    assert completed["goal"]["progress"]["status"] == "ACHIEVED"
    assert completed["reward"] is None
    assert reward["kind"] == "REWARD_EARNED"
    assert reward["reward"]["amount"] == {"amount": "500.00", "currency": "CNY"}
    assert reward["reward"]["kind"] == "CASH"
    # The seller's language is zh-CN: the sentence names the sum and the goal.
    assert "500.00 CNY" in reward["message"]
    assert WEEKLY_TITLE in reward["message"]
    assert any("\u4e00" <= char <= "\u9fff" for char in reward["message"])
    assert int(reward["cursor"]) > int(completed["cursor"])
    assert reward["goal"]["id"] == completed["goal"]["id"]
    assert decoded_id(completed["goal"]["id"]).startswith(f"Goal:{ids.weekly_goal}@")


async def test_reconnect_after_cursor_gets_missed_events_once_then_live(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login(SELLER)
    await record_follow_ups(api, token, 4)
    async with subscribed(server, token, document("OnAchievement")) as feed:
        await wait_for_subscriptions(server, 1)
        await api.record(token, follow_up("f4"))
        (half,) = [item["achievements"] for item in await feed.take(1)]
    assert half["kind"] == "MILESTONE_REACHED"
    await wait_for_subscriptions(server, 0)

    # Offline: the weekly goal completes, the order is announced and the
    # sales goal passes half way.
    await record_follow_ups(api, token, 5, prefix="g")
    await api.record(token, order("o1", "600.00"))
    variables = {"after": half["cursor"]}
    async with subscribed(server, token, document("OnAchievement"), variables) as feed:
        missed = [item["achievements"] for item in await feed.take(5)]
        await wait_for_subscriptions(server, 1)
        assert await feed.silent()
        await api.record(token, order("o2", "500.00"))
        live = [item["achievements"] for item in await feed.take(3)]
        assert await feed.silent()

    assert [described(event) for event in missed] == [
        ("GOAL_COMPLETED", WEEKLY_TITLE),
        ("REWARD_EARNED", WEEKLY_TITLE),
        ("ORDER_CLOSED", None),
        ("MILESTONE_REACHED", SALES_TITLE),
        # The first order puts the seller on top of the weekly sales board;
        # the second keeps them there, which is no news.
        ("RANK_CHANGED", None),
    ]
    assert [described(event) for event in live] == [
        ("ORDER_CLOSED", None),
        ("GOAL_COMPLETED", SALES_TITLE),
        ("REWARD_EARNED", SALES_TITLE),
    ]
    cursors = [int(event["cursor"]) for event in missed + live]
    assert cursors == sorted(set(cursors))
    assert cursors[0] > int(half["cursor"])
    assert live[-1]["reward"]["amount"] == {"amount": "200.00", "currency": "CNY"}


def described(event: dict[str, Any]) -> tuple[str, str | None]:
    goal = event["goal"]
    return event["kind"], goal["title"] if goal else None


async def test_reconnecting_while_events_land_loses_and_repeats_nothing(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login(SELLER)
    produced: list[int] = []

    async def write() -> None:
        for n in range(30):
            recorded = await api.record(token, order(f"w{n}", "20.00"))
            produced.append(len(recorded["achievements"]))
            if n % 3 == 0:
                recorded = await api.record(token, follow_up(f"w{n}"))
                produced.append(len(recorded["achievements"]))

    writer = asyncio.create_task(write())
    seen: list[dict[str, Any]] = []
    while not writer.done():
        variables = {"after": seen[-1]["cursor"]} if seen else {"after": "0"}
        async with subscribed(
            server, token, document("OnAchievement"), variables
        ) as feed:
            seen += [item["achievements"] for item in await feed.during(0.15)]
    await writer
    variables = {"after": seen[-1]["cursor"]} if seen else {"after": "0"}
    async with subscribed(server, token, document("OnAchievement"), variables) as feed:
        seen += [
            item["achievements"] for item in await feed.take(sum(produced) - len(seen))
        ]
        assert await feed.silent()

    cursors = [int(event["cursor"]) for event in seen]
    assert cursors == sorted(set(cursors))
    assert len(seen) == sum(produced)
    kinds = [event["kind"] for event in seen]
    assert kinds.count("ORDER_CLOSED") == 30
    assert kinds.count("GOAL_COMPLETED") == 1  # the tenth follow-up
