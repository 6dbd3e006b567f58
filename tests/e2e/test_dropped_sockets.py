"""Sockets that vanish without a close frame leave nothing behind.

A subscription generator is cleaned up only when its socket's handler ends
it, so this kills subscribed sockets the way a phone losing its network does
(the TCP transport aborted, no close frame) and reads the server's counters
from `GET /stats` (served because the test server runs with
SPUR_EXPOSE_STATS=1): open sockets, broker subscriptions and asyncio tasks.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.e2e.client import (
    Api,
    document,
    follow_up,
    global_id,
    init_message,
    raw_socket,
    subscribe_message,
    subscribed,
    wait_for_subscriptions,
)
from tests.e2e.seed import Ids
from tests.e2e.server import Server

SOCKETS = 50
SELLER = "seller@example.com"
MANAGER = "manager@example.com"


async def settled(server: Server, baseline: dict[str, Any]) -> dict[str, Any]:
    """The server's counters once they are back to `baseline` (or after 10 s)."""
    stats = await server.stats()
    for _ in range(200):
        if stats == baseline:
            break
        await asyncio.sleep(0.05)
        stats = await server.stats()
    return stats


async def test_aborted_sockets_release_their_subscriptions(
    server: Server, ids: Ids, api: Api
) -> None:
    tokens = {email: await api.login(email) for email in (SELLER, MANAGER)}
    team_feed = document("TeamFeed")
    team = global_id("Team", ids.team)
    baseline = await server.stats()
    assert baseline["sockets"] == baseline["subscriptions"] == 0

    sockets = []
    for n in range(SOCKETS):
        socket = await raw_socket(server)
        manager = n % 2 == 1
        await socket.send(init_message(tokens[MANAGER if manager else SELLER]))
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
        await socket.send(subscribe_message("1", document("OnAchievement")))
        if manager:
            await socket.send(subscribe_message("2", team_feed, teamId=team))
        else:
            await socket.send(subscribe_message("2", document("OnGoalProgress")))
        sockets.append(socket)
    await wait_for_subscriptions(server, 2 * SOCKETS)
    assert (await server.stats())["sockets"] == SOCKETS

    # An event in flight while the sockets die.
    seller = tokens[SELLER]
    await api.record(seller, follow_up("f0"))
    for socket in sockets:
        socket.transport.abort()

    assert await settled(server, baseline) == baseline

    # The server still serves: a new subscriber gets the next event.
    async with subscribed(server, seller, document("OnAchievement")) as feed:
        await wait_for_subscriptions(server, 1)
        for n in range(1, 5):
            await api.record(seller, follow_up(f"f{n}"))
        (half,) = [item["achievements"] for item in await feed.take(1)]
    assert half["kind"] == "MILESTONE_REACHED"
    assert await settled(server, baseline) == baseline


async def test_clients_that_complete_or_close_release_theirs_too(
    server: Server, ids: Ids, api: Api
) -> None:
    seller = await api.login("seller@example.com")
    baseline = await server.stats()
    socket = await raw_socket(server)
    await socket.send(init_message(seller))
    assert json.loads(await socket.recv()) == {"type": "connection_ack"}
    for operation in ("1", "2", "3"):
        await socket.send(subscribe_message(operation, document("OnAchievement")))
    await wait_for_subscriptions(server, 3)
    await socket.send(json.dumps({"id": "2", "type": "complete"}))
    await wait_for_subscriptions(server, 2)
    await socket.close()
    assert await settled(server, baseline) == baseline
