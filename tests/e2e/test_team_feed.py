"""TeamFeed over a real socket: who may watch a team, and what they see."""

from __future__ import annotations

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.e2e.client import (
    Api,
    document,
    follow_up,
    global_id,
    subscribed,
    wait_for_subscriptions,
)
from tests.e2e.seed import Ids
from tests.e2e.server import Server


async def test_manager_sees_the_sellers_events_in_their_language(
    server: Server, ids: Ids, api: Api
) -> None:
    seller = await api.login("seller@example.com")
    manager = await api.login("manager@example.com")
    variables = {"teamId": global_id("Team", ids.team)}
    async with subscribed(server, manager, document("TeamFeed"), variables) as feed:
        await wait_for_subscriptions(server, 1)
        for n in range(10):
            await api.record(seller, follow_up(f"f{n}"))
        events = [item["teamFeed"] for item in await feed.take(3)]
        assert await feed.silent()

    assert [event["kind"] for event in events] == [
        "MILESTONE_REACHED",
        "GOAL_COMPLETED",
        "REWARD_EARNED",
    ]
    seller_id = global_id("Member", ids.seller)
    assert {event["member"]["id"] for event in events} == {seller_id}
    assert {event["member"]["name"] for event in events} == {"Seller"}
    reward = events[-1]
    assert reward["reward"]["title"] == "Weekly follow-up bonus"
    assert reward["reward"]["amount"] == {"amount": "500.00", "currency": "CNY"}
    # The manager reads English: the team line names the seller and the sum.
    assert "Seller" in reward["message"]
    assert "500.00 CNY" in reward["message"]
    assert not any("\u4e00" <= char <= "\u9fff" for char in reward["message"])

    # A manager's screen that reconnects gets the rest of the team's events.
    variables["after"] = events[0]["cursor"]
    async with subscribed(server, manager, document("TeamFeed"), variables) as feed:
        resumed = [item["teamFeed"] for item in await feed.take(2)]
        assert await feed.silent()
    assert [event["cursor"] for event in resumed] == [
        event["cursor"] for event in events[1:]
    ]


async def test_hr_admin_may_watch_any_team(server: Server, ids: Ids, api: Api) -> None:
    seller = await api.login("seller@example.com")
    hr = await api.login("hr@example.com")
    variables = {"teamId": global_id("Team", ids.team)}
    async with subscribed(server, hr, document("TeamFeed"), variables) as feed:
        await wait_for_subscriptions(server, 1)
        for n in range(5):
            await api.record(seller, follow_up(f"f{n}"))
        (event,) = [item["teamFeed"] for item in await feed.take(1)]
        assert await feed.silent()
    assert event["kind"] == "MILESTONE_REACHED"


@pytest.mark.parametrize(
    "email",
    ["seller@example.com", "eu.manager@example.com", "partner@example.com"],
    ids=["salesperson", "other-team-manager", "partner"],
)
async def test_others_are_refused_with_forbidden(
    server: Server, ids: Ids, api: Api, email: str
) -> None:
    token = await api.login(email)
    variables = {"teamId": global_id("Team", ids.team)}
    async with subscribed(server, token, document("TeamFeed"), variables) as feed:
        with pytest.raises(TransportQueryError) as refused:
            await feed.next()
    errors = refused.value.errors
    assert errors is not None
    assert [error["extensions"]["code"] for error in errors] == ["FORBIDDEN"]
    assert refused.value.data is None
    await wait_for_subscriptions(server, 0)


async def test_a_team_of_another_company_is_not_found(
    server: Server, ids: Ids, api: Api
) -> None:
    hr = await api.login("hr@example.com")
    variables = {"teamId": global_id("Team", ids.other_team + 1000)}
    async with subscribed(server, hr, document("TeamFeed"), variables) as feed:
        with pytest.raises(TransportQueryError) as refused:
            await feed.next()
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
