"""An app per test, served over ASGI in the test's own event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import Secret

from spur.api.app import create_app
from spur.api.auth import TokenService
from spur.api.settings import load_settings
from tests.factories import PASSWORD, World, build_world

OPERATIONS = Path(__file__).parents[2] / "spur" / "schema" / "operations"
NOW = datetime.fromisoformat("2026-12-04T10:00:00+08:00")


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def document(name: str) -> str:
    """A client contract document, exactly as the clients send it."""
    return (OPERATIONS / f"{name}.graphql").read_text()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def app(database_url: str, clock: FixedClock) -> AsyncIterator[Starlette]:
    settings = load_settings(env_file=None).with_overrides(
        database_url=database_url, jwt_secret=Secret("t" * 48)
    )
    application = create_app(settings)
    application.state.services.clock = clock
    # TokenService keeps its clock private: give the app one built on ours.
    application.state.services.tokens = TokenService(settings, clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://spur.test") as c:
        yield c


@pytest.fixture
async def world(app: Starlette) -> World:
    return await build_world()


GraphQL = Callable[..., Any]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    async def run(
        query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        body: dict[str, Any] = response.json()
        return body

    return run


@pytest.fixture
def login(gql: GraphQL) -> Callable[[str], Any]:
    async def sign_in(email: str) -> str:
        body = await gql(document("Login"), {"email": email, "password": PASSWORD})
        assert "errors" not in body, body
        token: str = body["data"]["login"]["accessToken"]
        return token

    return sign_in
