"""The team's best of the week: one feed event per team and week, with the count."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from starlette.applications import Starlette

from spur.models import AchievementEvent, EventKind
from spur.resolvers.weekly_best import produce_due, seconds_to_next_week
from tests.api.helpers import GraphQL, follow_up, global_id, record, recorded
from tests.factories import World

MONDAY_AFTER = datetime.fromisoformat("2026-12-07T00:30:00+08:00")


async def follow_ups(gql: GraphQL, token: str, who: Any, count: int, key: str) -> None:
    for n in range(count):
        activity = follow_up(f"{key}{n}", memberId=global_id("Member", who.id))
        recorded(await record(gql, token, activity))


async def best_events() -> list[AchievementEvent]:
    return await AchievementEvent.filter(kind=EventKind.TEAM_BEST_OF_WEEK).order_by(
        "team_id"
    )


async def test_each_team_gets_its_best_once_after_the_week_ends(
    world: World, gql: GraphQL, login: Any, app: Starlette
) -> None:
    services = app.state.services
    hr = await login("hr@example.com")
    await follow_ups(gql, hr, world.seller, 3, "s")
    await follow_ups(gql, hr, world.teammate, 2, "t")
    await follow_ups(gql, hr, world.outsider, 1, "o")
    # The week is still running: nothing yet (the last ended week is empty).
    assert await produce_due(services, services.clock()) == 0

    assert await produce_due(services, MONDAY_AFTER) == 2
    assert await produce_due(services, MONDAY_AFTER) == 0
    events = await best_events()
    assert [(e.team_id, e.member_id) for e in events] == [
        (world.team.id, world.seller.id),
        (world.other_team.id, world.outsider.id),
    ]
    sea = events[0]
    assert sea.period_start.isoformat() == "2026-11-30"
    assert "(3)" in sea.team_message
    assert "Seller" in sea.team_message
    assert "（3）" in sea.message  # the seller reads Chinese


async def test_instances_racing_write_one_event_per_team(
    world: World, gql: GraphQL, login: Any, app: Starlette
) -> None:
    services = app.state.services
    hr = await login("hr@example.com")
    await follow_ups(gql, hr, world.teammate, 2, "t")
    results = await asyncio.gather(
        *(produce_due(services, MONDAY_AFTER) for _ in range(4)),
        return_exceptions=True,
    )
    written = [r for r in results if isinstance(r, int)]
    assert sum(written) == 1, results
    assert [e.member_id for e in await best_events()] == [world.teammate.id]


async def test_the_task_wakes_at_the_next_week_end(world: World) -> None:
    # Sunday 23:30 in Shanghai: the week ends in half an hour (plus a second).
    sunday = datetime.fromisoformat("2026-12-06T23:30:00+08:00")
    assert await seconds_to_next_week(sunday) == 1801.0
    friday = datetime.fromisoformat("2026-12-04T10:00:00+08:00")
    assert await seconds_to_next_week(friday) == 3600.0


async def test_the_best_of_the_week_names_the_metric_in_each_language(
    world: World, gql: GraphQL, login: Any, app: Starlette
) -> None:
    services = app.state.services
    world.follow_ups.titles = {"zh-CN": "新客户跟进"}
    await world.follow_ups.save(update_fields=["titles"])
    hr = await login("hr@example.com")
    await follow_ups(gql, hr, world.seller, 3, "s")
    await follow_ups(gql, hr, world.outsider, 1, "o")
    assert await produce_due(services, MONDAY_AFTER) == 2
    sea, eu = await best_events()
    # The seller reads Chinese: the Chinese title, no English name.
    assert sea.message == "你是团队 2026-W49 的「新客户跟进」周冠军（3）！"
    # No English title: English readers get the name.
    assert sea.team_message == (
        "Seller was the team's best of 2026-W49 for “New-customer follow-ups” (3)."
    )
    assert "New-customer" not in sea.message
    assert "“New-customer follow-ups”" in eu.message
