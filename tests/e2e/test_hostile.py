"""Hostile sockets against a real server: malformed frames, odd subscribe
messages, the subscription limit, and a database that fails and comes back.

Read with a bare websocket, so close codes and raw messages are visible.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tortoise import connections
from websockets.asyncio.client import ClientConnection

from tests.e2e.client import (
    EVENT_TIMEOUT,
    Api,
    global_id,
    init_message,
    raw_socket,
    subscribe_message,
    until_closed,
)
from tests.e2e.seed import Ids, with_database
from tests.e2e.server import Server

BAD_REQUEST = 4400
TRY_AGAIN_LATER = 1013
SELLER = "seller@example.com"
VIEWER_NAME = "{ viewer { name } }"
TEAM_FEED = "subscription($t: ID!) { teamFeed(teamId: $t) { cursor } }"


async def signed_in(server: Server, token: str) -> ClientConnection:
    """A socket past `connection_ack`."""
    socket = await raw_socket(server)
    await socket.send(init_message(token))
    ack = json.loads(await asyncio.wait_for(socket.recv(), EVENT_TIMEOUT))
    assert ack["type"] == "connection_ack", ack
    return socket


async def answer(socket: ClientConnection, operation_id: str) -> dict[str, Any]:
    """The first `next` or `error` message for one operation."""
    async with asyncio.timeout(EVENT_TIMEOUT):
        while True:
            message: dict[str, Any] = json.loads(await socket.recv())
            if message.get("id") == operation_id and message["type"] != "complete":
                return message


def codes(message: dict[str, Any]) -> list[str]:
    """The `extensions.code` of each error in a `next` or `error` message."""
    payload = message["payload"]
    errors = payload if message["type"] == "error" else payload.get("errors", [])
    return [error.get("extensions", {}).get("code") for error in errors]


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


async def test_a_huge_team_id_is_not_found(server: Server, ids: Ids, api: Api) -> None:
    socket = await signed_in(server, await api.login("hr@example.com"))
    team = global_id("Team", "9" * 25)
    await socket.send(subscribe_message("1", TEAM_FEED, t=team))
    assert codes(await answer(socket, "1")) == ["NOT_FOUND"]


async def _rename_table(database_url: str, old: str, new: str) -> None:
    async def rename() -> None:
        await connections.get("default").execute_script(
            f"ALTER TABLE {old} RENAME TO {new}"
        )

    await with_database(database_url, rename)


def asgi_crashes(server: Server) -> int:
    return server.log().count("Exception in ASGI application")


@pytest.mark.server_faults_expected
async def test_a_socket_opened_while_the_database_fails_is_told_to_retry(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login(SELLER)
    await _rename_table(server.database_url, "member", "member_away")
    try:
        socket = await raw_socket(server)
        await socket.send(init_message(token))
        closed = await until_closed(socket)
    finally:
        await _rename_table(server.database_url, "member_away", "member")
    assert closed == (TRY_AGAIN_LATER, [])
    assert asgi_crashes(server) == 0, server.log()
    await (await signed_in(server, token)).close()


@pytest.mark.server_faults_expected
async def test_an_http_request_while_the_database_fails_is_coded(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login(SELLER)
    await _rename_table(server.database_url, "member", "member_away")
    try:
        body = await api.graphql(VIEWER_NAME, token=token)
    finally:
        await _rename_table(server.database_url, "member_away", "member")
    assert [error["extensions"]["code"] for error in body["errors"]] == ["INTERNAL"]
    assert "member" not in json.dumps(body)
    assert asgi_crashes(server) == 0, server.log()
    assert await api.graphql(VIEWER_NAME, token=token) == {
        "data": {"viewer": {"name": "Seller"}}
    }
