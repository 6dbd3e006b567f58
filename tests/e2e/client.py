"""Clients of a running server: GraphQL over HTTP, and subscriptions through the
third-party `gql` client over `graphql-transport-ws`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.e2e.server import Server
from tests.factories import PASSWORD

OPERATIONS = Path(__file__).parents[2] / "spur" / "schema" / "operations"
EVENT_TIMEOUT = 10.0
TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL


def document(name: str) -> str:
    """A client contract document, exactly as the clients send it."""
    return (OPERATIONS / f"{name}.graphql").read_text()


def global_id(type_name: str, node_id: int | str) -> str:
    """A Relay global id: base64 of "<Type>:<id>"."""
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def moment(seconds_ago: float = 5.0) -> str:
    """An `occurredAt` just before now, with its UTC offset."""
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def follow_up(external_id: str) -> dict[str, Any]:
    """A new-customer follow-up, as the CRM integration records one."""
    return {
        "kind": "CUSTOMER_FOLLOW_UP",
        "occurredAt": moment(),
        "newCustomer": True,
        "source": "crm",
        "externalId": external_id,
    }


def order(external_id: str, amount: str) -> dict[str, Any]:
    """A closed order in the company currency."""
    return {
        "kind": "ORDER_CLOSED",
        "occurredAt": moment(),
        "amount": amount,
        "currency": "CNY",
        "source": "erp",
        "externalId": external_id,
    }


class Api:
    """GraphQL over HTTP against one server."""

    def __init__(self, server: Server) -> None:
        self.http = httpx.AsyncClient(
            base_url=server.base_url, timeout=10.0, trust_env=False
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, token: str = ""
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        body: dict[str, Any] = response.json()
        return body

    async def login(self, email: str) -> str:
        body = await self.graphql(
            document("Login"), {"email": email, "password": PASSWORD}
        )
        assert "errors" not in body, body
        token: str = body["data"]["login"]["accessToken"]
        return token

    async def record(self, token: str, activity: dict[str, Any]) -> dict[str, Any]:
        """RecordActivity, unchanged; the `recordActivity` payload."""
        body = await self.graphql(
            document("RecordActivity"), {"input": activity}, token
        )
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["recordActivity"]
        return payload


class Feed:
    """One subscription's results as they arrive, read by the test in order."""

    def __init__(self) -> None:
        self.results: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()

    async def pump(self, session: Any, request: GraphQLRequest) -> None:
        try:
            async for data in session.subscribe(request):
                await self.results.put(data)
        except Exception as error:  # handed to the test by next()
            await self.results.put(error)

    async def next(self) -> dict[str, Any]:
        """The next result's data; raises what the client raised."""
        item = await asyncio.wait_for(self.results.get(), EVENT_TIMEOUT)
        if isinstance(item, BaseException):
            raise item
        return item

    async def take(self, count: int) -> list[dict[str, Any]]:
        return [await self.next() for _ in range(count)]

    async def during(self, seconds: float) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds`."""
        await asyncio.sleep(seconds)
        arrived = []
        while not self.results.empty():
            arrived.append(self.results.get_nowait())
        for item in arrived:
            if isinstance(item, BaseException):
                raise item
        return [item for item in arrived if not isinstance(item, BaseException)]

    async def silent(self, seconds: float = 0.5) -> bool:
        """True when nothing more arrives within `seconds`."""
        await asyncio.sleep(seconds)
        return self.results.empty()


def transport(server: Server, token: str | None) -> WebsocketsTransport:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    return WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[TRANSPORT_WS],
        init_payload=payload,
        close_timeout=2,
        connect_args={"proxy": None},
    )


@contextlib.asynccontextmanager
async def subscribed(
    server: Server,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> AsyncIterator[Feed]:
    """A socket with one running subscription; closed (cleanly) on exit."""
    async with Client(transport=transport(server, token)) as session:
        feed = Feed()
        request = GraphQLRequest(query, variable_values=variables)
        task = asyncio.create_task(feed.pump(session, request))
        try:
            yield feed
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def wait_for_subscriptions(server: Server, count: int) -> None:
    """Wait until the server holds exactly `count` broker subscriptions."""
    deadline = asyncio.get_running_loop().time() + EVENT_TIMEOUT
    while True:
        stats = await server.stats()
        if stats["subscriptions"] == count:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"expected {count} subscriptions, server has {stats}")
        await asyncio.sleep(0.05)


async def raw_socket(
    server: Server, subprotocols: tuple[str, ...] = (TRANSPORT_WS,)
) -> ClientConnection:
    """A bare websocket to /graphql, for what a GraphQL client hides."""
    offered = [Subprotocol(name) for name in subprotocols]
    return await connect(
        server.ws_url, subprotocols=offered, proxy=None, open_timeout=5
    )


def init_message(token: str | None) -> str:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    return json.dumps({"type": "connection_init", "payload": payload})


def subscribe_message(operation_id: str, query: str, **variables: Any) -> str:
    payload = {"query": query, "variables": variables}
    return json.dumps({"id": operation_id, "type": "subscribe", "payload": payload})


async def until_closed(socket: ClientConnection) -> tuple[int | None, list[str]]:
    """Read until the server closes: its close code and the messages before."""
    received: list[str] = []
    try:
        async with asyncio.timeout(EVENT_TIMEOUT):
            while True:
                message = await socket.recv()
                received.append(str(message))
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else None), received
