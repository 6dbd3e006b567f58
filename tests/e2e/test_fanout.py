"""Fan-out over real sockets: one execution per shared payload, per-member
limits, and a slow client that is cut off while the others keep receiving.

The server's `/stats` (SPUR_EXPOSE_STATS=1) counts the hub's executions and
deliveries, its groups, and the live subscriptions.
"""

from __future__ import annotations

import asyncio
import json
import socket as sockets
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.e2e.client import (
    EVENT_TIMEOUT,
    TRANSPORT_WS,
    Api,
    document,
    global_id,
    init_message,
    order,
    raw_socket,
    subscribe_message,
    wait_for_subscriptions,
)
from tests.e2e.conftest import StartServer
from tests.e2e.seed import Ids, seed_world
from tests.e2e.server import Server

SELLER = "seller@example.com"
MANAGER = "manager@example.com"
HR = "hr@example.com"
TRY_AGAIN_LATER = 1013
# About 7 kB a frame (the seller's sentences are escaped Chinese), so that a
# stalled reader fills the kernel's buffers within a few dozen events.
WIDE = (
    "subscription { achievements { cursor "
    + " ".join(f"m{n}: message" for n in range(29))
    + " } }"
)


async def signed_in(server: Server, token: str) -> ClientConnection:
    socket = await raw_socket(server)
    await socket.send(init_message(token))
    assert json.loads(await socket.recv()) == {"type": "connection_ack"}
    return socket


async def next_payload(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(EVENT_TIMEOUT):
        while True:
            message: dict[str, Any] = json.loads(await socket.recv())
            if message["type"] != "ping":
                return message


async def drained(socket: ClientConnection, quiet: float = 0.5) -> list[Any]:
    """Every `next` that arrives until the socket is quiet for `quiet` s."""
    found = [await next_payload(socket)]
    while True:
        try:
            async with asyncio.timeout(quiet):
                found.append(await next_payload(socket))
        except TimeoutError:
            return found


async def counters(server: Server) -> dict[str, int]:
    found: dict[str, int] = (await server.stats())["counters"]
    return found


async def test_one_execution_per_event_for_a_whole_audience(
    server: Server, ids: Ids, api: Api
) -> None:
    seller, manager, hr = [await api.login(who) for who in (SELLER, MANAGER, HR)]
    team = global_id("Team", ids.team)
    screens = [await signed_in(server, manager) for _ in range(12)]
    for n, screen in enumerate(screens):
        # Any operation id, any cursor: the payload is the same.
        await screen.send(
            subscribe_message(f"op{n % 3}", document("TeamFeed"), teamId=team)
        )
    await wait_for_subscriptions(server, len(screens))
    assert (await server.stats())["groups"] == 1
    before = await counters(server)

    await api.record(seller, order("o1", "1.00"))
    arrived = [await drained(screen) for screen in screens]

    # However many events one order makes (ORDER_CLOSED, maybe a rank
    # change), each is executed once for all twelve screens.
    after = await counters(server)
    events = len(arrived[0])
    assert events >= 1
    assert after["executions"] - before["executions"] == events
    assert after["deliveries"] - before["deliveries"] == events * len(screens)
    bodies = {json.dumps([m["payload"] for m in messages]) for messages in arrived}
    assert len(bodies) == 1
    assert "ORDER_CLOSED" in next(iter(bodies))
    assert [messages[0]["id"] for messages in arrived] == [
        f"op{n % 3}" for n in range(len(screens))
    ]

    # An HR admin is another visibility class: a group (and execution) of its own.
    desk = await signed_in(server, hr)
    await desk.send(subscribe_message("1", document("TeamFeed"), teamId=team))
    await wait_for_subscriptions(server, len(screens) + 1)
    assert (await server.stats())["groups"] == 2
    before = await counters(server)
    await api.record(seller, order("o2", "1.00"))
    arrived = [await drained(screen) for screen in [*screens, desk]]
    events = len(arrived[-1])
    assert {len(messages) for messages in arrived} == {events}
    assert (await counters(server))["executions"] - before["executions"] == 2 * events


async def test_a_replaying_subscriber_joins_the_live_group_exactly(
    server: Server, ids: Ids, api: Api
) -> None:
    seller, manager = [await api.login(who) for who in (SELLER, MANAGER)]
    team = global_id("Team", ids.team)
    live = await signed_in(server, manager)
    await live.send(subscribe_message("1", document("TeamFeed"), teamId=team))
    await wait_for_subscriptions(server, 1)
    for n in range(3):
        await api.record(seller, order(f"a{n}", "1.00"))
    first = await drained(live)
    cursor = first[0]["payload"]["data"]["teamFeed"]["cursor"]

    # Subscribes with a cursor while events keep landing.
    late = await signed_in(server, manager)
    writer = asyncio.create_task(_orders(api, seller, "b", 5))
    await late.send(
        subscribe_message("1", document("TeamFeed"), teamId=team, after=cursor)
    )
    await writer
    seen_live = await drained(live)
    seen_late = await drained(late)

    def cursors(messages: list[dict[str, Any]]) -> list[int]:
        return [int(m["payload"]["data"]["teamFeed"]["cursor"]) for m in messages]

    assert cursors(seen_late) == cursors(first)[1:] + cursors(seen_live)
    assert (await server.stats())["groups"] == 1


async def _orders(api: Api, token: str, prefix: str, count: int) -> None:
    for n in range(count):
        await api.record(token, order(f"{prefix}{n}", "1.00"))


async def test_live_subscriptions_per_member_are_limited(
    start: StartServer,
) -> None:
    server = await start(SPUR_WS_LIVE_PER_MEMBER="3")
    await seed_world(server.database_url)
    api = Api(server)
    try:
        seller = await api.login(SELLER)
        first, second = await signed_in(server, seller), await signed_in(server, seller)
        for n in range(2):
            await first.send(subscribe_message(str(n), document("OnAchievement")))
        await second.send(subscribe_message("a", document("OnAchievement")))
        await wait_for_subscriptions(server, 3)
        await second.send(subscribe_message("b", document("OnAchievement")))
        refusal = await next_payload(second)
    finally:
        await api.close()
    errors = refusal["payload"].get("errors") or refusal["payload"]
    assert errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert (await server.stats())["subscriptions"] == 3


async def stalled_socket(server: Server) -> ClientConnection:
    """A socket whose client reads nothing: tiny kernel buffer, no queue."""
    raw = sockets.socket(sockets.AF_INET, sockets.SOCK_STREAM)
    raw.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
    return await connect(
        server.ws_url,
        sock=raw,
        subprotocols=[Subprotocol(TRANSPORT_WS)],
        proxy=None,
        max_queue=1,
    )


async def test_a_slow_client_is_closed_and_the_others_keep_up(
    start: StartServer,
) -> None:
    server = await start(SPUR_WS_QUEUE_FRAMES="60")
    await seed_world(server.database_url)
    api = Api(server)
    try:
        seller = await api.login(SELLER)
        slow = await stalled_socket(server)
        await slow.send(init_message(seller))
        assert json.loads(await slow.recv()) == {"type": "connection_ack"}
        for n in range(20):
            await slow.send(subscribe_message(str(n), WIDE))
        fast = await signed_in(server, seller)
        await fast.send(subscribe_message("1", WIDE))
        await wait_for_subscriptions(server, 21)

        lags = await _fast_keeps_up(api, seller, fast, server)
    finally:
        await api.close()
    assert max(lags) < 2.0, lags
    assert (await counters(server))["given_up"] == 1
    # Reading again, the slow client finds the retryable close at the end.
    code = await _close_code(slow)
    assert code == TRY_AGAIN_LATER


async def _fast_keeps_up(
    api: Api, seller: str, fast: ClientConnection, server: Server
) -> list[float]:
    """Orders until the slow socket is given up; the fast one's lag each time."""
    lags = []
    for n in range(400):
        await api.record(seller, order(f"s{n}", "1.00"))
        sent = time.monotonic()
        assert (await drained(fast, quiet=0.05))[0]["type"] == "next"
        lags.append(time.monotonic() - sent)
        stats = await server.stats()
        if stats["counters"]["given_up"]:
            assert stats["subscriptions"] == 1
            return lags
    raise AssertionError("the stalled socket was never given up")


async def _close_code(socket: ClientConnection) -> int | None:
    try:
        async with asyncio.timeout(EVENT_TIMEOUT):
            while True:
                await socket.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    return None
