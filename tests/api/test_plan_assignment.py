"""Who a plan covers: assignPlan, removePlanAssignment and the viewer's myPlans."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from spur.models import IncentivePreference, Member, PlanAssignment
from tests.api.helpers import GraphQL, global_id
from tests.api.plan_helpers import (
    ASSIGN,
    MY_PLANS,
    UNASSIGN,
    UPDATE_PLAN,
    create_plan,
    new_plan,
    only_error,
)
from tests.factories import World, build_world


async def assign(gql: GraphQL, token: str, plan_id: str, **audience: Any) -> Any:
    return await gql(ASSIGN, {"input": {"planId": plan_id, **audience}}, token)


def assigned(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["assignPlan"]
    return payload


async def test_hr_assigns_a_plan_to_a_team_segment(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    team = global_id("Team", world.team.id)
    payload = assigned(await assign(gql, hr, plan["id"], teamId=team, maxAge=30))
    row = await PlanAssignment.get()
    assert payload["assignment"] == {
        "id": global_id("PlanAssignment", row.id),
        "minAge": None,
        "maxAge": 30,
        "preference": None,
        "team": {"id": team},
        "member": None,
    }
    assert payload["plan"] == {
        "id": plan["id"],
        "assignments": [{"id": payload["assignment"]["id"]}],
    }
    assert (row.team_id, row.max_age, row.member_id) == (world.team.id, 30, None)


async def test_hr_assigns_a_member_and_the_whole_company(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    seller = global_id("Member", world.seller.id)
    one = assigned(await assign(gql, hr, plan["id"], memberId=seller))
    assert one["assignment"]["member"] == {"id": seller}
    everyone = assigned(await assign(gql, hr, plan["id"]))
    assert everyone["assignment"]["team"] is None
    assert len(everyone["plan"]["assignments"]) == 2


def bad(**audience: Any) -> dict[str, Any]:
    return audience


BAD_AUDIENCES: dict[str, tuple[dict[str, Any], str, str]] = {
    "a minimum age above the maximum": (
        bad(minAge=35, maxAge=30),
        "BAD_USER_INPUT",
        "minAge",
    ),
    "an age of 151": (bad(maxAge=151), "BAD_USER_INPUT", "maxAge"),
    "a negative tenure": (bad(minTenureDays=-1), "BAD_USER_INPUT", "minTenureDays"),
    "a goal id as team": (
        bad(teamId=global_id("Goal", 1)),
        "BAD_USER_INPUT",
        "teamId",
    ),
    "a team id as member": (
        bad(memberId=global_id("Team", 1)),
        "BAD_USER_INPUT",
        "memberId",
    ),
    "a team that does not exist": (
        bad(teamId=global_id("Team", 999)),
        "NOT_FOUND",
        "teamId",
    ),
    "a member that does not exist": (
        bad(memberId=global_id("Member", 999)),
        "NOT_FOUND",
        "memberId",
    ),
}


@pytest.mark.parametrize("case", BAD_AUDIENCES)
async def test_a_bad_assignment_is_refused_and_nothing_written(
    world: World, gql: GraphQL, login: Any, case: str
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    audience, code, field = BAD_AUDIENCES[case]
    error = only_error(await assign(gql, hr, plan["id"], **audience))
    assert (error["code"], error.get("field")) == (code, field), error
    assert await PlanAssignment.all().count() == 0


async def test_another_companys_team_member_and_plan_are_not_found(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    other = await build_world(prefix="b-")
    team = global_id("Team", other.team.id)
    member = global_id("Member", other.seller.id)
    for audience, field in (
        ({"teamId": team}, "teamId"),
        ({"memberId": member}, "memberId"),
    ):
        error = only_error(await assign(gql, hr, plan["id"], **audience))
        assert (error["code"], error["field"]) == ("NOT_FOUND", field)
    theirs = await login("b-hr@example.com")
    error = only_error(await assign(gql, theirs, plan["id"]))
    assert (error["code"], error["field"]) == ("NOT_FOUND", "planId")
    assert await PlanAssignment.all().count() == 0


async def test_a_member_who_left_cannot_be_assigned(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    world.teammate.is_active = False
    await world.teammate.save()
    mate = global_id("Member", world.teammate.id)
    error = only_error(await assign(gql, hr, plan["id"], memberId=mate))
    assert (error["code"], error["field"]) == ("NOT_FOUND", "memberId")


async def test_the_same_assignment_twice_is_a_conflict(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    assigned(await assign(gql, hr, plan["id"], maxAge=30))
    assert only_error(await assign(gql, hr, plan["id"], maxAge=30))["code"] == (
        "CONFLICT"
    )
    assigned(await assign(gql, hr, plan["id"], maxAge=29))
    assert await PlanAssignment.all().count() == 2


async def test_the_same_assignment_sent_twice_at_once_is_made_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    bodies = await asyncio.gather(
        *(assign(gql, hr, plan["id"], minAge=35) for _ in range(3))
    )
    made = [b for b in bodies if not b.get("errors")]
    assert len(made) == 1
    assert [only_error(b)["code"] for b in bodies if b.get("errors")] == [
        "CONFLICT",
        "CONFLICT",
    ]
    assert await PlanAssignment.all().count() == 1


@pytest.mark.parametrize(
    "email", ["seller@example.com", "manager@example.com", "partner@example.com"]
)
async def test_only_hr_assigns_and_removes(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    made = assigned(await assign(gql, hr, plan["id"]))
    token = await login(email)
    assert only_error(await assign(gql, token, plan["id"]))["code"] == "FORBIDDEN"
    removal = {"input": {"id": made["assignment"]["id"]}}
    assert only_error(await gql(UNASSIGN, removal, token))["code"] == "FORBIDDEN"
    assert await PlanAssignment.all().count() == 1


async def test_hr_removes_an_assignment_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    keep = assigned(await assign(gql, hr, plan["id"], maxAge=30))["assignment"]
    drop = assigned(await assign(gql, hr, plan["id"]))["assignment"]
    body = await gql(UNASSIGN, {"input": {"id": drop["id"]}}, hr)
    assert body["data"]["removePlanAssignment"] == {
        "removedId": drop["id"],
        "plan": {"assignments": [{"id": keep["id"]}]},
    }
    again = await gql(UNASSIGN, {"input": {"id": drop["id"]}}, hr)
    assert (only_error(again)["code"], only_error(again)["field"]) == (
        "NOT_FOUND",
        "id",
    )
    wrong = await gql(UNASSIGN, {"input": {"id": plan["id"]}}, hr)
    assert only_error(wrong)["code"] == "BAD_USER_INPUT"
    assert await PlanAssignment.all().count() == 1


async def test_another_company_cannot_remove_an_assignment(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    made = assigned(await assign(gql, hr, plan["id"]))["assignment"]
    await build_world(prefix="b-")
    theirs = await login("b-hr@example.com")
    body = await gql(UNASSIGN, {"input": {"id": made["id"]}}, theirs)
    assert only_error(body)["code"] == "NOT_FOUND"
    assert await PlanAssignment.all().count() == 1


async def plan_for(
    gql: GraphQL, hr: str, name: str, version: dict[str, Any] | None = None, **who: Any
) -> dict[str, Any]:
    plan = await create_plan(gql, hr, new_plan(name=name, version=version or {}))
    assigned(await assign(gql, hr, plan["id"], **who))
    return plan


async def my_plans(gql: GraphQL, token: str) -> list[str]:
    body = await gql(MY_PLANS, {}, token)
    assert "errors" not in body, body
    return [plan["name"] for plan in body["data"]["myPlans"]]


async def test_my_plans_are_those_covering_me_today(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    team, other = (global_id("Team", t.id) for t in (world.team, world.other_team))
    seller = global_id("Member", world.seller.id)
    await plan_for(gql, hr, "A 30 or under", maxAge=30)
    await plan_for(gql, hr, "B 35 or over", minAge=35)
    await plan_for(gql, hr, "C Europe", teamId=other)
    await plan_for(gql, hr, "D just me", memberId=seller)
    stopped = await plan_for(gql, hr, "E stopped")
    await plan_for(gql, hr, "F later", {"effectiveFrom": "2026-12-20"})
    await plan_for(gql, hr, "G team honour", preference="TEAM_HONOR")
    await plan_for(gql, hr, "H SEA, 4 years in", teamId=team, minTenureDays=4 * 365)
    change = {"input": {"id": stopped["id"], "isActive": False}}
    assert "errors" not in await gql(UPDATE_PLAN, change, hr)

    token = await login("seller@example.com")
    assert await my_plans(gql, token) == [
        "A 30 or under",
        "D just me",
        "H SEA, 4 years in",
    ]

    world.seller.birth_date = date(1990, 1, 1)
    world.seller.incentive_preference = IncentivePreference.TEAM_HONOR
    await world.seller.save()
    assert await my_plans(gql, token) == [
        "B 35 or over",
        "D just me",
        "G team honour",
        "H SEA, 4 years in",
    ]
    assert await my_plans(gql, await login("eu@example.com")) == [
        "A 30 or under",
        "C Europe",
    ]


async def test_a_chinese_seller_reads_plan_titles_in_chinese(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    await plan_for(gql, hr, "Young sellers", maxAge=30)
    body = await gql(MY_PLANS, {}, await login("seller@example.com"))
    assert body["data"]["myPlans"] == [
        {
            "id": body["data"]["myPlans"][0]["id"],
            "name": "Young sellers",
            "title": "年轻销售",
            "currentVersion": {"number": 1},
        }
    ]


async def test_a_partner_app_has_no_plans(
    world: World, gql: GraphQL, login: Any
) -> None:
    await plan_for(gql, await login("hr@example.com"), "Everyone")
    body = await gql(MY_PLANS, {}, await login("partner@example.com"))
    assert only_error(body)["code"] == "FORBIDDEN"


async def test_a_member_without_a_birth_date_is_in_no_age_segment(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    await plan_for(gql, hr, "Young", maxAge=30)
    await plan_for(gql, hr, "Everyone")
    await Member.filter(id=world.seller.id).update(birth_date=None)
    assert await my_plans(gql, await login("seller@example.com")) == ["Everyone"]
