"""Socket authentication as the contract states it: close codes, never data.

Read with a bare websocket, since a GraphQL client turns a close code into
a generic error.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable

import jwt
import pytest
from gql import Client, gql
from websockets.exceptions import ConnectionClosed

from spur.api.settings import load_settings
from tests.e2e.client import (
    Api,
    document,
    init_message,
    raw_socket,
    subscribe_message,
    transport,
    until_closed,
)
from tests.e2e.seed import Ids, seed_world
from tests.e2e.server import JWT_SECRET, Server

MISSING = 4401
REFUSED = 4403
INIT_TIMEOUT = 4408
SUBPROTOCOL_NOT_ACCEPTABLE = 4406


def forged(**changes: object) -> str:
    """An access token for member 2 (the seller), with some claims changed."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "2",
        "cid": 1,
        "role": "SALESPERSON",
        "iat": now,
        "exp": now + 600,
        "aud": "spur-api",
        "iss": "spur",
    }
    claims.update(changes)
    secret = str(claims.pop("secret", JWT_SECRET))
    return jwt.encode(claims, secret, algorithm="HS256")


async def refusal(server: Server, init: str) -> tuple[int | None, list[str]]:
    socket = await raw_socket(server)
    await socket.send(init)
    # Sent at once, as an eager client would; the server may close first.
    with contextlib.suppress(ConnectionClosed):
        await socket.send(subscribe_message("1", document("OnAchievement")))
    return await until_closed(socket)


@pytest.mark.parametrize(
    "init",
    [
        json.dumps({"type": "connection_init"}),
        json.dumps({"type": "connection_init", "payload": {}}),
        json.dumps({"type": "connection_init", "payload": {"authorization": ""}}),
    ],
    ids=["no-payload", "empty-payload", "empty-authorization"],
)
async def test_missing_token_closes_4401(server: Server, ids: Ids, init: str) -> None:
    assert await refusal(server, init) == (MISSING, [])


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        forged(secret="another-secret-that-is-long-enough-for-hs256!!"),
        forged(exp=int(time.time()) - 3600),
        forged(aud="someone-else"),
        forged(role="HR_ADMIN"),
        forged(sub="999"),
    ],
    ids=["garbage", "other-secret", "expired", "audience", "role", "no-member"],
)
async def test_bad_or_expired_token_closes_4403(
    server: Server, ids: Ids, token: str
) -> None:
    assert await refusal(server, init_message(token)) == (REFUSED, [])


async def test_authorization_that_is_not_bearer_closes_4403(
    server: Server, ids: Ids
) -> None:
    init = {"type": "connection_init", "payload": {"authorization": "Basic c2VsbGVy"}}
    assert await refusal(server, json.dumps(init)) == (REFUSED, [])


async def test_subscribe_before_connection_init_closes_4401(
    server: Server, ids: Ids
) -> None:
    socket = await raw_socket(server)
    await socket.send(subscribe_message("1", document("OnAchievement")))
    assert await until_closed(socket) == (MISSING, [])


async def test_legacy_graphql_ws_subprotocol_is_refused(server: Server) -> None:
    socket = await raw_socket(server, subprotocols=("graphql-ws",))
    assert socket.subprotocol is None
    assert await until_closed(socket) == (SUBPROTOCOL_NOT_ACCEPTABLE, [])


async def test_connection_init_wait_is_short(
    start: Callable[..., Awaitable[Server]],
) -> None:
    assert load_settings(env_file=None).connection_init_seconds <= 10
    server = await start(SPUR_WS_INIT_SECONDS="1")
    socket = await raw_socket(server)
    began = time.monotonic()
    assert await until_closed(socket) == (INIT_TIMEOUT, [])
    assert time.monotonic() - began < 3


async def test_a_valid_token_is_acknowledged(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login("seller@example.com")
    async with Client(transport=transport(server, token)) as session:
        body = await session.execute(gql("{ __typename }"))
    assert body == {"__typename": "Query"}


async def test_expiring_token_closes_the_connection(
    start: Callable[..., Awaitable[Server]],
) -> None:
    server = await start(SPUR_ACCESS_TOKEN_SECONDS="3")
    await seed_world(server.database_url)
    api = Api(server)
    try:
        token = await api.login("seller@example.com")
    finally:
        await api.close()
    subscribed, idle = await raw_socket(server), await raw_socket(server)
    began = time.monotonic()
    for socket in (subscribed, idle):
        await socket.send(init_message(token))
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
    await subscribed.send(subscribe_message("1", document("OnAchievement")))
    # Both close when the token does: the one streaming events and the one
    # that could still run queries and mutations under the old token.
    assert await until_closed(subscribed) == (REFUSED, [])
    assert await until_closed(idle) == (REFUSED, [])
    assert 1 < time.monotonic() - began < 6
    assert (await server.stats())["subscriptions"] == 0
