"""Who may see and record what: roles, teams and companies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from spur.engine.periods import PeriodKind
from spur.models import Activity, Goal, GoalProgress, LedgerEntry
from tests.api.conftest import document
from tests.api.helpers import (
    GraphQL,
    error_codes,
    follow_up,
    global_id,
    goal_id,
    record,
    recorded,
    row_counts,
)
from tests.factories import World, build_world

NODE = "query($id: ID!) { node(id: $id) { id __typename } }"


async def completed_week(gql: GraphQL, login: Any) -> None:
    """The seller's weekly goal done: an activity, progress and a reward exist."""
    token = await login("seller@example.com")
    for n in range(10):
        recorded(await record(gql, token, follow_up(f"f{n}")))


async def first_company_ids(world: World) -> dict[str, str]:
    activity = await Activity.filter(member_id=world.seller.id).first()
    reward = await LedgerEntry.filter(member_id=world.seller.id).first()
    assert activity is not None
    assert reward is not None
    return {
        "goal": goal_id(world.weekly),
        "member": global_id("Member", world.seller.id),
        "team": global_id("Team", world.team.id),
        "reward": global_id("Reward", reward.id),
        "activity": global_id("Activity", activity.id),
    }


async def node(gql: GraphQL, token: str, node_id: str) -> dict[str, Any] | None:
    body = await gql(NODE, {"id": node_id}, token)
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["node"]
    return found


@pytest.mark.parametrize("email", ["b-hr@example.com", "b-seller@example.com"])
async def test_another_company_sees_nothing_by_id(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    await completed_week(gql, login)
    await build_world(prefix="b-")
    ids = await first_company_ids(world)
    own = await login("hr@example.com")
    for key, node_id in ids.items():
        assert await node(gql, own, node_id) is not None, key
    stranger = await login(email)
    for key, node_id in ids.items():
        assert await node(gql, stranger, node_id) is None, key


async def test_a_salesperson_sees_only_themselves(
    world: World, gql: GraphQL, login: Any
) -> None:
    await completed_week(gql, login)
    ids = await first_company_ids(world)
    mate = await login("mate@example.com")
    for key in ("goal", "member", "reward", "activity"):
        assert await node(gql, mate, ids[key]) is None, key
    assert await node(gql, mate, ids["team"]) is not None


async def test_a_manager_sees_his_team_not_the_other(
    world: World, gql: GraphQL, login: Any
) -> None:
    await completed_week(gql, login)
    ids = await first_company_ids(world)
    manager = await login("manager@example.com")
    for key, node_id in ids.items():
        assert await node(gql, manager, node_id) is not None, key
    outsider = global_id("Member", world.outsider.id)
    assert await node(gql, manager, outsider) is None


@pytest.mark.parametrize(
    ("node_id", "codes"),
    [
        ("bm90IGJhc2U2NA", ["BAD_USER_INPUT"]),
        (global_id("Money", 1), []),
        (global_id("Nope", 1), []),
        (global_id("Goal", "1@someday"), []),
        (global_id("Member", "x"), []),
    ],
    ids=[
        "not a global id",
        "a type without ids",
        "an unknown type",
        "a goal period that is no date",
        "a member id that is no number",
    ],
)
async def test_odd_ids_are_null_or_bad_input(
    world: World, gql: GraphQL, login: Any, node_id: str, codes: list[str]
) -> None:
    token = await login("hr@example.com")
    body = await gql(NODE, {"id": node_id}, token)
    assert error_codes(body) == codes, body
    assert body["data"] == {"node": None}


async def record_for(
    gql: GraphQL, login: Any, email: str, member: Any
) -> dict[str, Any]:
    token = await login(email)
    activity = follow_up("for-someone", memberId=global_id("Member", member.id))
    return await record(gql, token, activity)


async def test_recording_for_another_company_is_not_found(
    world: World, gql: GraphQL, login: Any
) -> None:
    await build_world(prefix="b-")
    before = await row_counts()
    body = await record_for(gql, login, "b-hr@example.com", world.seller)
    assert error_codes(body) == ["NOT_FOUND"]
    assert await row_counts() == before


@pytest.mark.parametrize(
    ("email", "whom"),
    [
        ("seller@example.com", "teammate"),
        ("manager@example.com", "outsider"),
        ("manager@example.com", "hr"),
        ("partner@example.com", "seller"),
        ("partner@example.com", "partner"),
    ],
)
async def test_recording_for_someone_not_yours_is_forbidden(
    world: World, gql: GraphQL, login: Any, email: str, whom: str
) -> None:
    before = await row_counts()
    body = await record_for(gql, login, email, getattr(world, whom))
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None
    assert await row_counts() == before


async def test_a_partner_may_not_record_even_for_itself(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("partner@example.com")
    body = await record(gql, token, follow_up("partner"))
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await row_counts())["Activity"] == 0


@pytest.mark.parametrize(
    ("email", "whom"),
    [
        ("manager@example.com", "seller"),
        ("hr@example.com", "seller"),
        ("hr@example.com", "outsider"),
        ("seller@example.com", "seller"),
    ],
)
async def test_recording_for_your_people_counts_for_them(
    world: World, gql: GraphQL, login: Any, email: str, whom: str
) -> None:
    member = getattr(world, whom)
    recorded(await record_for(gql, login, email, member))
    activity = await Activity.get(external_id="for-someone")
    assert activity.member_id == member.id
    recorder = {"manager": world.manager, "hr": world.hr, "seller": world.seller}
    assert activity.recorded_by_id == recorder[email.split("@")[0]].id
    progress = await GoalProgress.filter(goal_id=world.weekly.id).first()
    assert (progress is not None) == (member is world.seller)


async def split_team_goal(world: World) -> Goal:
    """A monthly team goal split between the seller and a teammate."""
    team_goal = await Goal.create(
        company=world.company,
        team=world.team,
        metric=world.follow_ups,
        title="Team follow-ups",
        period_kind=PeriodKind.MONTH,
        target=Decimal(40),
        active_from=date(2026, 1, 1),
    )
    for owner in (world.seller, world.teammate):
        await Goal.create(
            company=world.company,
            member=owner,
            metric=world.follow_ups,
            parent=team_goal,
            title=f"{owner.name}'s share",
            period_kind=PeriodKind.MONTH,
            target=Decimal(20),
            active_from=date(2026, 1, 1),
        )
    return team_goal


@pytest.mark.parametrize(
    ("email", "shares"),
    [
        ("seller@example.com", ["Seller's share"]),
        ("mate@example.com", ["Mate's share"]),
        ("manager@example.com", ["Seller's share", "Mate's share"]),
        ("hr@example.com", ["Seller's share", "Mate's share"]),
    ],
)
async def test_a_team_goal_shows_only_the_shares_the_viewer_may_see(
    world: World, gql: GraphQL, login: Any, email: str, shares: list[str]
) -> None:
    team_goal = await split_team_goal(world)
    token = await login(email)
    body = await gql(document("GoalDetail"), {"id": goal_id(team_goal)}, token)
    assert "errors" not in body, body
    children = body["data"]["node"]["children"]
    assert [child["title"] for child in children] == shares
