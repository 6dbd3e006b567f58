"""OnGoalProgress over a real socket: a Goal, by id, each time it moves."""

from __future__ import annotations

import base64
from typing import Any

from tests.e2e.client import (
    Api,
    document,
    follow_up,
    subscribed,
    wait_for_subscriptions,
)
from tests.e2e.seed import Ids
from tests.e2e.server import Server


def goal_pk(node: dict[str, Any]) -> int:
    """The goal's key from a Goal id ("Goal:<goal>@<period start>")."""
    decoded = base64.b64decode(node["id"]).decode()
    type_name, _, node_id = decoded.partition(":")
    assert type_name == "Goal"
    return int(node_id.partition("@")[0])


async def test_recording_moves_the_sellers_goals(
    server: Server, ids: Ids, api: Api
) -> None:
    seller = await api.login("seller@example.com")
    await api.record(seller, follow_up("f0"))
    async with subscribed(server, seller, document("OnGoalProgress")) as feed:
        await wait_for_subscriptions(server, 1)
        await api.record(seller, follow_up("f1"))
        goals = [item["goalProgress"] for item in await feed.take(2)]
        assert await feed.silent()

    by_goal = {goal_pk(goal): goal["progress"] for goal in goals}
    assert by_goal == {
        ids.weekly_goal: {
            "current": 2.0,
            "target": 10.0,
            "percent": 20.0,
            "remaining": 8.0,
            "status": by_goal[ids.weekly_goal]["status"],
        },
        ids.team_goal: {
            "current": 2.0,
            "target": 40.0,
            "percent": 5.0,
            "remaining": 38.0,
            "status": by_goal[ids.team_goal]["status"],
        },
    }
    assert by_goal[ids.weekly_goal]["status"] in ("ON_TRACK", "AT_RISK")


async def test_only_the_viewers_own_and_team_goals_are_pushed(
    server: Server, ids: Ids, api: Api
) -> None:
    seller = await api.login("seller@example.com")
    watchers = {
        email: await api.login(email)
        for email in ("manager@example.com", "mate@example.com", "eu@example.com")
    }
    async with (
        subscribed(
            server, watchers["manager@example.com"], document("OnGoalProgress")
        ) as manager,
        subscribed(
            server, watchers["mate@example.com"], document("OnGoalProgress")
        ) as teammate,
        subscribed(
            server, watchers["eu@example.com"], document("OnGoalProgress")
        ) as outsider,
    ):
        await wait_for_subscriptions(server, 3)
        await api.record(seller, follow_up("f0"))
        # Teammates and the manager see the team's goal move, never the
        # seller's personal one; another team sees nothing.
        (seen_by_manager,) = [item["goalProgress"] for item in await manager.take(1)]
        (seen_by_mate,) = [item["goalProgress"] for item in await teammate.take(1)]
        assert await manager.silent()
        assert await teammate.silent(0.1)
        assert await outsider.silent(0.1)
    assert goal_pk(seen_by_manager) == ids.team_goal
    assert goal_pk(seen_by_mate) == ids.team_goal
