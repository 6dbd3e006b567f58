"""The alerts subscription, and members' own feeds that never carry alerts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
from starlette.applications import Starlette

from spur.api.auth import load_viewer
from spur.api.context import Context
from spur.models import AchievementEvent, EventKind, Member
from spur.resolvers.loaders import Loaders
from tests.api.helpers import GraphQL, global_id
from tests.api.test_alert import converting, define_metrics, order
from tests.factories import World

ALERTS = (
    "subscription($teamId: ID) { alerts(teamId: $teamId) { rule member { name } } }"
)
MINE = 'subscription { achievements(after: "0") { kind } }'


async def stream(
    app: Starlette, email: str, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[Any]:
    member = await Member.get(email=email)
    tokens = app.state.services.tokens
    viewer = await load_viewer(tokens.decode_access(tokens.issue_access(member)[0]))
    context = Context(
        request=None,  # type: ignore[arg-type]
        response=None,
        services=app.state.services,
        loaders=Loaders(),
        viewer_or_none=viewer,
    )
    found: AsyncIterator[Any] = await app.state.graphql.schema.subscribe(
        query, variable_values=variables, context_value=context
    )
    return found


async def first(results: AsyncIterator[Any], seconds: float = 5.0) -> Any:
    async with asyncio.timeout(seconds):
        return await anext(results)


@pytest.fixture
async def team(world: World) -> World:
    await define_metrics(world)
    return world


async def test_a_manager_receives_a_new_alert_of_their_team_live(
    team: World, app: Starlette, gql: GraphQL, login: Any
) -> None:
    watched = await stream(app, "manager@example.com", ALERTS)
    elsewhere = await stream(
        app,
        "hr@example.com",
        ALERTS,
        {"teamId": global_id("Team", team.other_team.id)},
    )
    async with aclosing(watched), aclosing(elsewhere):  # type: ignore[type-var]
        # Live only: each feed subscribes on its first read.
        arriving = asyncio.create_task(first(watched))
        quiet = asyncio.create_task(first(elsewhere, 3.0))
        await asyncio.sleep(0.2)
        seller = await converting(gql, login)
        await order(gql, seller)
        await order(gql, seller)
        await app.state.services.relay.drain()

        result = await arriving

        assert not result.errors, result.errors
        assert result.data == {
            "alerts": {"rule": "CONVERSION_LEAD", "member": {"name": "Seller"}}
        }
        with pytest.raises(TimeoutError):
            await quiet


async def test_a_salesperson_may_not_subscribe_to_alerts(
    team: World, app: Starlette
) -> None:
    results = await stream(app, "seller@example.com", ALERTS)
    async with aclosing(results):  # type: ignore[type-var]
        result = await first(results)

    assert result.errors[0].extensions["code"] == "FORBIDDEN"


async def test_the_subject_never_sees_the_alert_in_their_own_feed(
    team: World, app: Starlette, gql: GraphQL, login: Any
) -> None:
    seller = await converting(gql, login)
    await order(gql, seller)
    await order(gql, seller)
    await app.state.services.relay.drain()
    mine = await AchievementEvent.filter(member_id=team.seller.id)
    assert EventKind.MANAGER_ALERT in {e.kind for e in mine}

    feed = await stream(app, "seller@example.com", MINE)
    async with aclosing(feed):  # type: ignore[type-var]
        kinds = [
            (await first(feed)).data["achievements"]["kind"]
            for _ in range(len(mine) - 1)
        ]
        with pytest.raises(TimeoutError):
            await first(feed, 0.5)

    assert "MANAGER_ALERT" not in kinds
    assert len(kinds) == len(mine) - 1
