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
    follow_up,
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
PROGRESS = "query($id: ID!) { node(id: $id) { ... on Goal { progress { current } } } }"
TEAM_FEED = "subscription($t: ID!) { teamFeed(teamId: $t) { cursor } }"
LIVE = "subscription { achievements { cursor } }"


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


ODD_SUBSCRIBE_PAYLOADS = {
    "query not a string": {"query": 5},
    "variables not an object": {"query": LIVE, "variables": [1]},
    "operationName not a string": {"query": LIVE, "operationName": 5},
}


@pytest.mark.parametrize(
    "payload", ODD_SUBSCRIBE_PAYLOADS.values(), ids=ODD_SUBSCRIBE_PAYLOADS.keys()
)
async def test_an_odd_subscribe_message_closes_4400(
    server: Server, ids: Ids, api: Api, payload: dict[str, Any]
) -> None:
    socket = await signed_in(server, await api.login(SELLER))
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    code, _ = await until_closed(socket)
    assert code == BAD_REQUEST


async def test_an_unknown_operation_name_is_bad_input(
    server: Server, ids: Ids, api: Api
) -> None:
    socket = await signed_in(server, await api.login(SELLER))
    payload = {"query": LIVE, "operationName": "Nope"}
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    assert codes(await answer(socket, "1")) == ["BAD_USER_INPUT"]


async def test_a_huge_team_id_is_not_found(server: Server, ids: Ids, api: Api) -> None:
    socket = await signed_in(server, await api.login("hr@example.com"))
    team = global_id("Team", "9" * 25)
    await socket.send(subscribe_message("1", TEAM_FEED, t=team))
    assert codes(await answer(socket, "1")) == ["NOT_FOUND"]


async def test_one_subscription_too_many_is_rate_limited(
    server: Server, ids: Ids, api: Api
) -> None:
    socket = await signed_in(server, await api.login(SELLER))
    for n in range(20):
        await socket.send(subscribe_message(str(n), LIVE))
    await socket.send(subscribe_message("one-too-many", LIVE))
    refusal = await answer(socket, "one-too-many")
    assert (refusal["type"], codes(refusal)) == ("error", ["RATE_LIMITED"])


async def test_a_query_over_the_socket_reads_fresh_data(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login(SELLER)
    socket = await signed_in(server, token)
    weekly = global_id("Goal", ids.weekly_goal)
    await socket.send(subscribe_message("before", PROGRESS, id=weekly))
    before = await answer(socket, "before")
    await api.record(token, follow_up("fresh"))
    await socket.send(subscribe_message("after", PROGRESS, id=weekly))
    after = await answer(socket, "after")
    assert (progress(before), progress(after)) == (0.0, 1.0)


def progress(message: dict[str, Any]) -> float:
    current: float = message["payload"]["data"]["node"]["progress"]["current"]
    return current


async def _rename_table(database_url: str, old: str, new: str) -> None:
    async def rename() -> None:
        await connections.get("default").execute_script(
            f"ALTER TABLE {old} RENAME TO {new}"
        )

    await with_database(database_url, rename)


def asgi_crashes(server: Server) -> int:
    return server.log().count("Exception in ASGI application")


@pytest.mark.server_faults_expected
async def test_a_socket_query_recovers_with_the_database(
    server: Server, ids: Ids, api: Api
) -> None:
    socket = await signed_in(server, await api.login(SELLER))
    await _rename_table(server.database_url, "member", "member_away")
    try:
        await socket.send(subscribe_message("down", VIEWER_NAME))
        assert codes(await answer(socket, "down")) == ["INTERNAL"]
    finally:
        await _rename_table(server.database_url, "member_away", "member")
    await socket.send(subscribe_message("up", VIEWER_NAME))
    up = await answer(socket, "up")
    assert up["payload"] == {"data": {"viewer": {"name": "Seller"}}}


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
