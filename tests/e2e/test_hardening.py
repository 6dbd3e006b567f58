"""What the real server must not offer: hints, GET execution, an IDE, stats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from tortoise import connections

from tests.e2e.client import Api, document, subscribed, transport
from tests.e2e.seed import Ids, with_database
from tests.e2e.server import Server

MISSPELLED = "{ viewr { id } }"


async def test_no_field_suggestions_over_http(server: Server, api: Api) -> None:
    body = await api.graphql(MISSPELLED)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Did you mean" not in error["message"]


async def test_no_field_suggestions_over_the_socket(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login("seller@example.com")
    async with Client(transport=transport(server, token)) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql(MISSPELLED))
    assert "Did you mean" not in str(refused.value)


async def test_no_get_execution_and_no_ide(server: Server, api: Api) -> None:
    query = await api.http.get("/graphql", params={"query": "{ __typename }"})
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert (query.status_code, page.status_code) == (405, 405)


async def test_stats_are_off_unless_asked_for(
    start: Callable[..., Awaitable[Server]],
) -> None:
    server = await start(SPUR_EXPOSE_STATS="0")
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
        assert (await client.get("/stats")).status_code == 404
        assert (await client.get("/healthz")).json() == {"status": "ok"}


@pytest.mark.server_faults_expected
async def test_an_internal_error_in_a_subscription_is_masked(
    server: Server, ids: Ids, api: Api
) -> None:
    token = await api.login("seller@example.com")
    await with_database(server.database_url, _drop_event_table)
    variables = {"after": "0"}
    async with subscribed(server, token, document("OnAchievement"), variables) as feed:
        with pytest.raises(TransportQueryError) as failed:
            await feed.next()
    assert failed.value.errors is not None
    (error,) = failed.value.errors
    assert "achievement_event" not in error["message"]
    assert error.get("extensions", {}).get("code") == "INTERNAL"


async def _drop_event_table() -> None:
    # The replay query then fails inside the running subscription.
    await connections.get("default").execute_script("DROP TABLE achievement_event")
