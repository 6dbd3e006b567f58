"""One `spur serve` whose Redis is down: live feeds are served from the table.

A subscription with `after` gets exactly the stored events after its cursor,
then those recorded while Redis stays down (its company's feed polls the
event table), without its socket being closed; once Redis is back the feed
subscribes again and delivery is live, with nothing lost or repeated.
Runs on SQLite and PostgreSQL (one instance).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import EVENT_TIMEOUT, Api, document, order, subscribed
from tests.e2e.conftest import StartServer
from tests.e2e.seed import seed_world
from tests.e2e.server import Server
from tests.redis_server import RedisServer, unique_prefix

SELLER = "seller@example.com"


async def record_orders(api: Api, token: str, prefix: str, count: int) -> int:
    """`count` small orders; the achievement events they made."""
    made = 0
    for n in range(count):
        recorded = await api.record(token, order(f"{prefix}{n}", "20.00"))
        made += len(recorded["achievements"])
    return made


async def stats_until(server: Server, **expected: int) -> dict[str, Any]:
    """The server's /stats once it shows `expected` (fails after a while)."""
    async with asyncio.timeout(EVENT_TIMEOUT):
        while True:
            stats = await server.stats()
            if all(stats.get(name) == value for name, value in expected.items()):
                return stats
            await asyncio.sleep(0.05)


def cursors(events: list[dict[str, Any]]) -> list[int]:
    return [int(event["cursor"]) for event in events]


@pytest.mark.timeout(120)
async def test_a_cursor_is_served_and_followed_while_redis_is_down(
    start: StartServer, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        server = await start(
            SPUR_REDIS_URL=redis.url, SPUR_REDIS_PREFIX=unique_prefix()
        )
        await seed_world(server.database_url)
        api = Api(server)
        token = await api.login(SELLER)
        query = document("OnAchievement")
        made = await record_orders(api, token, "before", 3)
        async with subscribed(server, token, query, {"after": "0"}) as feed:
            stored = [item["achievements"] for item in await feed.take(made)]
        assert len(stored) >= 3

        redis.stop()
        assert (await api.http.get("/healthz")).json()["redis"] == "unavailable"
        cursor = stored[1]["cursor"]
        async with subscribed(server, token, query, {"after": cursor}) as feed:
            replayed = [item["achievements"] for item in await feed.take(made - 2)]
            assert replayed == stored[2:]
            await stats_until(server, polling_feeds=1, redis_channels=0)

            during = await record_orders(api, token, "during", 2)
            polled = [item["achievements"] for item in await feed.take(during)]
            assert await feed.silent(1.5)  # a few polls: nothing twice

            redis.start()
            await stats_until(server, polling_feeds=0, redis_channels=1)
            assert await feed.silent(0.5)  # the rejoin's gap read adds nothing
            after = await record_orders(api, token, "after", 2)
            live = [item["achievements"] for item in await feed.take(after)]
            assert await feed.silent()

        received = replayed + polled + live
        assert cursors(received) == sorted(set(cursors(received)))
        async with subscribed(server, token, query, {"after": cursor}) as feed:
            everything = await feed.take(made - 2 + during + after)
            assert await feed.silent()
        assert [item["achievements"] for item in everything] == received
        assert (await server.stats())["counters"]["given_up"] == 0
        await api.close()
    finally:
        redis.stop()
