"""Two real `spur serve` processes sharing PostgreSQL and Redis.

An activity recorded on instance A reaches a subscriber on instance B, in
order, and a resume by cursor on either instance replays exactly what
followed. While Redis is down a live feed on B polls the event table, so
its socket stays open and still gets what A records; once Redis is back the
feed is live again, and nothing is lost or repeated.
Sockets dropped on both instances leave no broker subscription behind.

SQLite is one process's database, so these run on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.client import (
    EVENT_TIMEOUT,
    Api,
    document,
    init_message,
    order,
    raw_socket,
    subscribe_message,
    subscribed,
    wait_for_subscriptions,
)
from tests.e2e.conftest import StartServer
from tests.e2e.seed import seed_world
from tests.e2e.server import Server
from tests.redis_server import RedisServer, shared_redis_url, unique_prefix

pytestmark = pytest.mark.skipif(
    os.environ.get("SPUR_TEST_DATABASE", "sqlite") != "postgres",
    reason="several instances share PostgreSQL; SQLite serves one process",
)

SELLER = "seller@example.com"


@dataclass
class Pair:
    """Instances A and B on one database and one Redis, and an API client each."""

    a: Server
    b: Server
    api_a: Api
    api_b: Api


async def two_instances(start: StartServer, redis_url: str) -> Pair:
    env = {"SPUR_REDIS_URL": redis_url, "SPUR_REDIS_PREFIX": unique_prefix()}
    a, b = await start(**env), await start(**env)
    await seed_world(a.database_url)
    return Pair(a, b, Api(a), Api(b))


@pytest.fixture
async def pair(start: StartServer) -> AsyncIterator[Pair]:
    """Two instances on the shared Redis."""
    instances = await two_instances(start, shared_redis_url())
    yield instances
    await instances.api_a.close()
    await instances.api_b.close()


async def record_orders(api: Api, token: str, prefix: str, count: int) -> int:
    """`count` small orders (one ORDER_CLOSED event each); the events made."""
    made = 0
    for n in range(count):
        recorded = await api.record(token, order(f"{prefix}{n}", "20.00"))
        made += len(recorded["achievements"])
    return made


def cursors(events: list[dict[str, Any]]) -> list[int]:
    return [int(event["cursor"]) for event in events]


async def test_a_subscriber_on_b_receives_what_a_recorded_in_order(
    pair: Pair,
) -> None:
    token = await pair.api_a.login(SELLER)
    assert (await pair.api_b.http.get("/healthz")).json() == {
        "status": "ok",
        "broker": "redis",
        "redis": "ok",
    }
    query = document("OnAchievement")
    async with subscribed(pair.b, token, query) as feed:
        await wait_for_subscriptions(pair.b, 1)
        assert (await pair.b.stats())["redis_channels"] == 1
        made = await record_orders(pair.api_a, token, "a", 12)
        live = [item["achievements"] for item in await feed.take(made)]
        assert await feed.silent()

    # An order event each, and a rank change now and then.
    assert [event["kind"] for event in live].count("ORDER_CLOSED") == 12
    assert cursors(live) == sorted(set(cursors(live)))

    # Replay by cursor, on either instance, is exactly what followed.
    for server in (pair.a, pair.b):
        variables = {"after": live[4]["cursor"]}
        async with subscribed(server, token, query, variables) as feed:
            replayed = [item["achievements"] for item in await feed.take(made - 5)]
            assert await feed.silent()
        assert cursors(replayed) == cursors(live[5:])
    variables = {"after": "0"}
    async with subscribed(pair.a, token, query, variables) as feed:
        everything = [item["achievements"] for item in await feed.take(made)]
        assert await feed.silent()
    assert everything == live


async def test_both_instances_deliver_to_each_others_subscribers(
    pair: Pair,
) -> None:
    token = await pair.api_a.login(SELLER)
    query = document("OnAchievement")
    async with (
        subscribed(pair.a, token, query) as on_a,
        subscribed(pair.b, token, query) as on_b,
    ):
        await wait_for_subscriptions(pair.a, 1)
        await wait_for_subscriptions(pair.b, 1)
        made = await record_orders(pair.api_a, token, "a", 3)
        made += await record_orders(pair.api_b, token, "b", 3)
        got_a = [item["achievements"] for item in await on_a.take(made)]
        got_b = [item["achievements"] for item in await on_b.take(made)]
        assert await on_a.silent(0.3)
        assert await on_b.silent(0.3)

    assert [event["kind"] for event in got_a].count("ORDER_CLOSED") == 6
    assert got_a == got_b
    assert cursors(got_a) == sorted(set(cursors(got_a)))


@dataclass
class ResumingClient:
    """A client that reconnects after a close, subscribing after its last cursor."""

    server: Server
    token: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)
    connected: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            try:
                await self._session()
            except (OSError, ConnectionClosed) as error:
                code = getattr(getattr(error, "rcvd", None), "code", None)
                self.closes.append(code)
            await asyncio.sleep(0.1)

    async def _session(self) -> None:
        after = self.seen[-1]["cursor"] if self.seen else "0"
        socket = await raw_socket(self.server)
        try:
            await socket.send(init_message(self.token))
            assert json.loads(await socket.recv()) == {"type": "connection_ack"}
            query = document("OnAchievement")
            await socket.send(subscribe_message("1", query, after=after))
            self.connected += 1
            while not self.stop.is_set():
                message = json.loads(await socket.recv())
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                self.seen.append(message["payload"]["data"]["achievements"])
                self.arrived.set()
        finally:
            await socket.close()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(EVENT_TIMEOUT * 2):
            while len(self.seen) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.mark.timeout(120)
async def test_redis_restart_during_a_live_feed_loses_and_repeats_nothing(
    start: StartServer, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        pair = await two_instances(start, redis.url)
        token = await pair.api_a.login(SELLER)
        client = ResumingClient(pair.b, token)
        following = asyncio.create_task(client.run())
        await wait_for_subscriptions(pair.b, 1)

        made = await record_orders(pair.api_a, token, "before", 4)
        await client.until(made)

        redis.stop()
        # Recording still works; the events are stamped, and B's feed reads
        # them from the table without closing the client's socket.
        made += await record_orders(pair.api_a, token, "during", 4)
        health = (await pair.api_b.http.get("/healthz")).json()
        assert health["redis"] == "unavailable"
        await client.until(made)
        assert (await pair.b.stats())["polling_feeds"] == 1

        redis.start()
        await stats_until(pair.b, polling_feeds=0, redis_channels=1)
        made += await record_orders(pair.api_a, token, "after", 4)
        await client.until(made)
        await asyncio.sleep(0.5)  # the relay's republishing must not repeat
        client.stop.set()
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)

        assert made >= 12
        assert len(client.seen) == made
        assert cursors(client.seen) == sorted(set(cursors(client.seen)))
        assert client.closes == []
        assert client.connected == 1
        variables = {"after": "0"}
        query = document("OnAchievement")
        async with subscribed(pair.a, token, query, variables) as feed:
            stored = [item["achievements"] for item in await feed.take(made)]
        assert cursors(stored) == cursors(client.seen)
        await pair.api_a.close()
        await pair.api_b.close()
    finally:
        redis.stop()


async def stats_until(server: Server, **expected: int) -> dict[str, Any]:
    """The server's /stats once it shows `expected` (fails after a while)."""
    async with asyncio.timeout(EVENT_TIMEOUT):
        while True:
            stats = await server.stats()
            if all(stats.get(name) == value for name, value in expected.items()):
                return stats
            await asyncio.sleep(0.05)


# What must return to its baseline (the server's other counters add up).
GAUGES = ("sockets", "subscriptions", "redis_channels")


def gauges(stats: dict[str, Any]) -> dict[str, Any]:
    return {name: stats[name] for name in GAUGES}


async def settled(server: Server, baseline: dict[str, Any]) -> dict[str, Any]:
    """The server's gauges once back at `baseline` (or after about 10 s)."""
    stats = await server.stats()
    for _ in range(200):
        if gauges(stats) == gauges(baseline) and stats["tasks"] <= baseline["tasks"]:
            break
        await asyncio.sleep(0.05)
        stats = await server.stats()
    return stats


async def test_sockets_dropped_on_both_instances_leave_nothing_behind(
    pair: Pair,
) -> None:
    token = await pair.api_a.login(SELLER)
    query = document("OnAchievement")
    baselines = {}
    for server in (pair.a, pair.b):
        # Warm: the pub/sub connection (and its reader) stays open after this.
        async with subscribed(server, token, query):
            await wait_for_subscriptions(server, 1)
        await wait_for_subscriptions(server, 0)
        baselines[server.port] = await server.stats()
        assert baselines[server.port]["redis_channels"] == 0

    sockets = []
    for server in (pair.a, pair.b):
        for _ in range(20):
            socket = await raw_socket(server)
            await socket.send(init_message(token))
            assert json.loads(await socket.recv()) == {"type": "connection_ack"}
            await socket.send(subscribe_message("1", query))
            await socket.send(subscribe_message("2", query))
            sockets.append(socket)
        await wait_for_subscriptions(server, 40)
        assert (await server.stats())["redis_channels"] == 1

    await record_orders(pair.api_a, token, "x", 1)  # in flight as they die
    for socket in sockets:
        socket.transport.abort()

    for server in (pair.a, pair.b):
        baseline = baselines[server.port]
        stats = await settled(server, baseline)
        assert gauges(stats) == gauges(baseline)
        assert stats["tasks"] <= baseline["tasks"]
