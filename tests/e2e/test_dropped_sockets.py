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
import sys
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


async def gauges(server: Server) -> dict[str, Any]:
    """What the server holds now: sockets, live subscriptions, fan-out groups
    and feeds, asyncio tasks (without the cumulative work counters)."""
    stats = await server.stats()
    stats.pop("counters", None)
    return stats


async def settled(server: Server, baseline: dict[str, Any]) -> dict[str, Any]:
    """The server's gauges once they are back to `baseline` (or after 10 s)."""
    stats = await gauges(server)
    for _ in range(200):
        if stats == baseline:
            break
        await asyncio.sleep(0.05)
        stats = await gauges(server)
    return stats


async def test_aborted_sockets_release_their_subscriptions(
    server: Server, ids: Ids, api: Api
) -> None:
    tokens = {email: await api.login(email) for email in (SELLER, MANAGER)}
    team_feed = document("TeamFeed")
    team = global_id("Team", ids.team)
    baseline = await gauges(server)
    assert baseline["sockets"] == baseline["subscriptions"] == 0
    assert baseline["groups"] == baseline["feeds"] == 0

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
    baseline = await gauges(server)
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


# A client process that opens subscribed sockets, says so, then waits to be
# killed: the kernel resets its connections (no close frame, no FIN first).
_CLIENT = """
import asyncio, json, socket, struct, sys
from websockets.asyncio.client import connect

async def main(url, token, team, count):
    held = []
    for n in range(count):
        ws = await connect(url, subprotocols=["graphql-transport-ws"], proxy=None)
        raw = ws.transport.get_extra_info("socket")
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"authorization": "Bearer " + token}}))
        await ws.recv()
        for op, query in enumerate(sys.argv[5:]):
            payload = {"query": query, "variables": {"teamId": team}}
            await ws.send(json.dumps({"id": str(op), "type": "subscribe",
                                      "payload": payload}))
        held.append(ws)
    print("ready", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_a_killed_client_process_leaves_nothing_behind(
    server: Server, ids: Ids, api: Api
) -> None:
    manager = await api.login(MANAGER)
    seller = await api.login(SELLER)
    team = global_id("Team", ids.team)
    baseline = await gauges(server)
    queries = [document("TeamFeed"), document("OnAchievement")]
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CLIENT,
        server.ws_url,
        manager,
        team,
        str(SOCKETS),
        *queries,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert client.stdout is not None
        line = await asyncio.wait_for(client.stdout.readline(), 30)
        assert line.strip() == b"ready"
        await wait_for_subscriptions(server, 2 * SOCKETS)
        live = await gauges(server)
        # Fifty screens of one team feed share a group; the manager's own
        # feed is another.
        assert (live["sockets"], live["groups"], live["feeds"]) == (SOCKETS, 2, 1)
        await api.record(seller, follow_up("k0"))
    finally:
        client.kill()
        await client.wait()

    assert await settled(server, baseline) == baseline
