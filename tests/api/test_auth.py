"""Signing in over GraphQL: tokens, expiry, refresh rotation and reuse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from spur.models import Role
from tests.api.conftest import FixedClock, document
from tests.api.helpers import GraphQL, error_codes
from tests.factories import PASSWORD, World

VIEWER = "{ viewer { id name } }"


async def sign_in(gql: GraphQL, email: str, password: str = PASSWORD) -> Any:
    return await gql(document("Login"), {"email": email, "password": password})


async def refresh(gql: GraphQL, token: str) -> Any:
    return await gql(document("RefreshToken"), {"refreshToken": token})


def refused(body: dict[str, Any], code: str = "UNAUTHENTICATED") -> bool:
    return body.get("data") is None and error_codes(body) == [code]


async def test_no_token_is_unauthenticated(world: World, gql: GraphQL) -> None:
    assert refused(await gql(VIEWER))
    assert refused(await gql(document("HomeScreen")))


async def test_no_token_cannot_record(world: World, gql: GraphQL) -> None:
    body = await gql(
        document("RecordActivity"),
        {
            "input": {
                "kind": "CUSTOMER_FOLLOW_UP",
                "occurredAt": "2026-12-04T09:00:00+08:00",
            }
        },
    )
    assert refused(body)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        "Token something",
        "Bearer",
    ],
)
async def test_a_bad_token_is_unauthenticated(
    world: World, client: httpx.AsyncClient, header: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
    )
    body = response.json()
    assert refused(body)
    assert "Traceback" not in response.text


async def test_the_email_is_matched_whatever_its_case(
    world: World, gql: GraphQL
) -> None:
    body = await sign_in(gql, "  Seller@Example.COM ")
    assert body["data"]["login"]["viewer"]["name"] == "Seller"


async def test_a_wrong_password_is_unauthenticated(world: World, gql: GraphQL) -> None:
    assert refused(await sign_in(gql, "seller@example.com", "wrong"))
    assert refused(await sign_in(gql, "nobody@example.com"))


async def test_an_expired_token_is_unauthenticated(
    world: World, gql: GraphQL, login: Any, clock: FixedClock, app: Starlette
) -> None:
    token = await login("seller@example.com")
    assert "errors" not in await gql(VIEWER, token=token)
    lifetime = app.state.services.settings.access_token_seconds
    clock.now += timedelta(seconds=lifetime + 60)
    assert refused(await gql(VIEWER, token=token))


async def test_a_token_signed_with_another_secret_is_refused(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert refused(await gql(VIEWER, token=forged))


async def test_refresh_rotates_and_a_reused_token_ends_the_session(
    world: World, gql: GraphQL, clock: FixedClock, app: Starlette
) -> None:
    first = (await sign_in(gql, "seller@example.com"))["data"]["login"]
    lifetime = app.state.services.settings.access_token_seconds
    clock.now += timedelta(seconds=lifetime + 60)
    assert refused(await gql(VIEWER, token=first["accessToken"]))

    second = (await refresh(gql, first["refreshToken"]))["data"]["refreshToken"]
    assert second["refreshToken"] != first["refreshToken"]
    viewer = await gql(VIEWER, token=second["accessToken"])
    assert viewer["data"]["viewer"]["name"] == "Seller"

    # The spent token shown again: theft. Its whole family is revoked.
    assert refused(await refresh(gql, first["refreshToken"]))
    assert refused(await refresh(gql, second["refreshToken"]))
    # A fresh sign-in starts a new family and works.
    again = await sign_in(gql, "seller@example.com")
    assert "errors" not in await refresh(gql, again["data"]["login"]["refreshToken"])


async def test_an_unknown_refresh_token_is_refused(world: World, gql: GraphQL) -> None:
    assert refused(await refresh(gql, "not-a-token"))


async def test_a_refresh_token_is_not_an_access_token(
    world: World, gql: GraphQL
) -> None:
    login = (await sign_in(gql, "seller@example.com"))["data"]["login"]
    assert refused(await gql(VIEWER, token=login["refreshToken"]))


async def test_node_needs_a_token(world: World, gql: GraphQL) -> None:
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": "R29hbDox"})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] == {"node": None}


async def test_a_deactivated_member_is_signed_out(
    world: World, gql: GraphQL, login: Any
) -> None:
    login_body = (await sign_in(gql, "seller@example.com"))["data"]["login"]
    world.seller.is_active = False
    await world.seller.save(update_fields=["is_active"])
    assert refused(await gql(VIEWER, token=login_body["accessToken"]))
    assert refused(await refresh(gql, login_body["refreshToken"]))
    assert refused(await sign_in(gql, "seller@example.com"))


async def test_a_changed_role_needs_a_new_sign_in(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")
    world.seller.role = Role.MANAGER
    await world.seller.save(update_fields=["role"])
    assert refused(await gql(VIEWER, token=token))
    fresh = await login("seller@example.com")
    assert (await gql("{ viewer { role } }", token=fresh))["data"] == {
        "viewer": {"role": "MANAGER"}
    }
