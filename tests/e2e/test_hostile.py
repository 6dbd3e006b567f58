"""Hostile sockets against a real server: malformed frames, odd subscribe
messages, the subscription limit, and a database that fails and comes back.

Read with a bare websocket, so close codes and raw messages are visible.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import ClientConnection

from tests.e2e.client import (
    EVENT_TIMEOUT,
    Api,
    init_message,
    raw_socket,
    until_closed,
)
from tests.e2e.seed import Ids
from tests.e2e.server import Server

BAD_REQUEST = 4400
SELLER = "seller@example.com"


async def signed_in(server: Server, token: str) -> ClientConnection:
    """A socket past `connection_ack`."""
    socket = await raw_socket(server)
    await socket.send(init_message(token))
    ack = json.loads(await asyncio.wait_for(socket.recv(), EVENT_TIMEOUT))
    assert ack["type"] == "connection_ack", ack
    return socket


MALFORMED_FRAMES = {
    "nested too deep": "[" * 100_000 + "]" * 100_000,
    "an integer of 5000 digits": '{"type": "ping", "payload": {"n": '
    + "9" * 5000
    + "}}",
    "a JSON array": "[]",
    "a JSON string": '"ping"',
    "a lone surrogate": '{"type": "ping", "payload": {"x": "\\ud800"}}',
}


@pytest.mark.parametrize(
    "frame", MALFORMED_FRAMES.values(), ids=MALFORMED_FRAMES.keys()
)
async def test_a_malformed_frame_closes_4400(
    server: Server, ids: Ids, api: Api, frame: str
) -> None:
    socket = await signed_in(server, await api.login(SELLER))
    await socket.send(frame)
    code, _ = await until_closed(socket)
    assert code == BAD_REQUEST


async def test_an_init_with_a_lone_surrogate_closes_4400(
    server: Server, ids: Ids
) -> None:
    socket = await raw_socket(server)
    await socket.send(
        '{"type": "connection_init", "payload": {"authorization": "Bearer \\ud800"}}'
    )
    assert await until_closed(socket) == (BAD_REQUEST, [])
