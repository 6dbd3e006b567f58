"""Flexible incentives: the equity of three excellent years in a row, and a
special contribution that puts a member on the promotion track."""

from __future__ import annotations

from typing import Any

import pytest

from spur.models import (
    EntryCause,
    EventKind,
    LedgerEntry,
    RewardKind,
    RewardStatus,
    RuleKind,
)
from tests.api.appraisal_factories import (
    Tokens,
    answer,
    appraisal_of,
    correct,
    finalized,
    rated_cycle,
    to_manager_review,
    tokens,
)
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.factories import World, build_world
from tests.plans import Audience, PlanSpec, Rule, make_plan

STREAK = Rule(
    "equity",
    RuleKind.APPRAISAL_STREAK,
    {
        "grade": "EXCELLENT",
        "years": "3",
        "entitlement": {"kind": "EQUITY", "quantity": "1"},
    },
    title="Three excellent years",
)


@pytest.fixture
async def people(world: World, login: Any) -> Tokens:
    return await tokens(login)


async def yearly(
    gql: GraphQL, people: Tokens, world: World, year: int, score: float
) -> dict[str, Any]:
    """The seller's appraisal for `year`, finalised at `score`."""
    cycle = {"periodKind": "YEAR", "periodStart": f"{year}-01-01"}
    await rated_cycle(
        gql, people, [world.seller], name=f"{year} appraisal", cycle=cycle
    )
    appraisal = await appraisal_of(world.seller)
    await to_manager_review(gql, people, appraisal)
    return await finalized(gql, people, appraisal, score)


async def equity() -> list[LedgerEntry]:
    return await LedgerEntry.filter(kind=RewardKind.EQUITY).order_by("id")


async def test_three_excellent_years_in_a_row_grant_the_plans_equity(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    plan = await make_plan(world.company, PlanSpec("Senior equity", [STREAK]))
    for year in (2024, 2025):
        done = await yearly(gql, people, world, year, 95)
        assert [r["kind"] for r in done["rewards"]] == []
    assert await equity() == []

    done = await yearly(gql, people, world, 2026, 91)
    [granted] = done["rewards"]
    assert granted | {"id": None, "inputs": None} == {
        "id": None,
        "kind": "EQUITY",
        "title": "Three excellent years",
        "amount": None,
        "quantity": 1.0,
        "status": "PENDING",
        "cause": "APPRAISAL",
        "reversesId": None,
        "inputs": None,
    }
    [row] = await equity()
    assert row.key == f"streak:p{plan.id}:equity:m{world.seller.id}:2026"
    assert row.rule_id is not None
    assert row.plan_version_id is not None
    assert row.inputs["through"] == "2026"
    event = await row.events.all().get()
    assert event.kind is EventKind.REWARD_EARNED


async def test_two_excellent_years_or_a_gap_grant_nothing(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await make_plan(world.company, PlanSpec("Senior equity", [STREAK]))
    await yearly(gql, people, world, 2025, 95)
    await yearly(gql, people, world, 2026, 95)
    assert await equity() == []
    # 2023 excellent too, but no appraisal for 2024: a gap.
    await yearly(gql, people, world, 2023, 95)
    assert await equity() == []


async def test_a_good_year_between_excellent_ones_breaks_the_streak(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await make_plan(world.company, PlanSpec("Senior equity", [STREAK]))
    for year, score in ((2024, 95), (2025, 85), (2026, 95)):
        await yearly(gql, people, world, year, score)
    assert await equity() == []


async def test_a_year_finalised_late_completes_the_streak_it_fills(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await make_plan(world.company, PlanSpec("Senior equity", [STREAK]))
    await yearly(gql, people, world, 2024, 95)
    await yearly(gql, people, world, 2026, 95)
    assert await equity() == []
    done = await yearly(gql, people, world, 2025, 95)
    assert [r["kind"] for r in done["rewards"]] == ["EQUITY"]
    [row] = await equity()
    assert row.inputs["through"] == "2026"


async def test_without_a_plan_covering_the_member_there_is_no_equity(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    europe = [Audience(team_id=world.other_team.id)]
    await make_plan(
        world.company, PlanSpec("Europe equity", [STREAK], audiences=europe)
    )
    for year in (2024, 2025, 2026):
        await yearly(gql, people, world, year, 95)
    assert await equity() == []


async def test_a_correction_that_breaks_the_streak_takes_the_equity_back(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await make_plan(world.company, PlanSpec("Senior equity", [STREAK]))
    for year in (2024, 2025, 2026):
        await yearly(gql, people, world, year, 95)
    last = await appraisal_of(world.seller)
    answer(await correct(gql, people.manager, last), "correctAppraisal")
    # Still excellent: the grant stands, nothing is written twice.
    again = await appraisal_of(world.seller, version=2)
    done = await finalized(gql, people, again, 93)
    assert done["rewards"] == []
    [row] = await equity()
    assert row.status is RewardStatus.PENDING

    answer(await correct(gql, people.manager, again), "correctAppraisal")
    third = await appraisal_of(world.seller, version=3)
    done = await finalized(gql, people, third, 80)
    assert [(r["kind"], r["status"]) for r in done["rewards"]] == [
        ("EQUITY", "REVERSED")
    ]
    granted, taken_back = await equity()
    assert granted.status is RewardStatus.REVERSED
    assert (taken_back.reverses_id, taken_back.quantity) == (granted.id, -1)


# --- special contributions ------------------------------------------------------

MARK = """mutation($input: MarkSpecialContributionInput!) {
  markSpecialContribution(input: $input) {
    duplicate
    reward { id kind title amount { amount } status cause member { id } }
  }
}"""
APPROVE = """mutation($input: ApproveRewardsInput!) {
  approveRewards(input: $input) { rewards { id status } } }"""
PENDING = "query { pendingRewards(first: 10) { edges { node { id kind } } } }"
DESCRIPTION = "Signed a large new Southeast Asia customer"


def mark(member_id: int, reference: str | None = "crm-42") -> dict[str, Any]:
    return {
        "input": {
            "memberId": global_id("Member", member_id),
            "description": DESCRIPTION,
            "reference": reference,
        }
    }


async def test_a_special_contribution_is_a_promotion_awaiting_hr(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    body = await gql(MARK, mark(world.seller.id), people.manager)
    marked = answer(body, "markSpecialContribution")
    reward = marked["reward"]
    assert marked["duplicate"] is False
    assert reward | {"id": None} == {
        "id": None,
        "kind": "PROMOTION",
        "title": DESCRIPTION,
        "amount": None,
        "status": "PENDING",
        "cause": "APPRAISAL",
        "member": {"id": global_id("Member", world.seller.id)},
    }
    # Sent again (a retry), it finds the first mark.
    again = answer(
        await gql(MARK, mark(world.seller.id), people.manager),
        "markSpecialContribution",
    )
    assert (again["duplicate"], again["reward"]["id"]) == (True, reward["id"])
    [row] = await LedgerEntry.filter(kind=RewardKind.PROMOTION)
    assert (row.cause, row.status) == (EntryCause.APPRAISAL, RewardStatus.PENDING)

    # The manager may approve the team's cash, not a promotion; HR decides.
    listed = answer(await gql(PENDING, token=people.manager), "pendingRewards")
    assert listed["edges"] == []
    approve = {"input": {"ids": [reward["id"]]}}
    assert error_codes(await gql(APPROVE, approve, people.manager)) == ["FORBIDDEN"]
    listed = answer(await gql(PENDING, token=people.hr), "pendingRewards")
    assert [e["node"]["kind"] for e in listed["edges"]] == ["PROMOTION"]
    approved = answer(await gql(APPROVE, approve, people.hr), "approveRewards")
    assert approved["rewards"] == [{"id": reward["id"], "status": "APPROVED"}]


async def test_marks_without_a_reference_are_each_new(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    for _ in range(2):
        body = await gql(MARK, mark(world.seller.id, None), people.hr)
        assert answer(body, "markSpecialContribution")["duplicate"] is False
    assert await LedgerEntry.filter(kind=RewardKind.PROMOTION).count() == 2


async def test_who_may_mark_a_contribution(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    partner = await login("partner@example.com")
    cases = [
        (people.seller, world.teammate.id, "FORBIDDEN"),
        (partner, world.seller.id, "FORBIDDEN"),
        (people.manager, world.manager.id, "FORBIDDEN"),
        (people.manager, world.outsider.id, "NOT_FOUND"),
        (people.hr, world.partner.id, "NOT_FOUND"),
    ]
    for token, member_id, code in cases:
        assert error_codes(await gql(MARK, mark(member_id), token)) == [code]
    other = await build_world(prefix="other.")
    assert error_codes(await gql(MARK, mark(other.seller.id), people.hr)) == [
        "NOT_FOUND"
    ]
    blank = mark(world.seller.id)
    blank["input"]["description"] = "  "
    assert error_codes(await gql(MARK, blank, people.hr)) == ["BAD_USER_INPUT"]
    nul = mark(world.seller.id, "ref\x00")
    assert error_codes(await gql(MARK, nul, people.hr)) == ["BAD_USER_INPUT"]
    assert await LedgerEntry.all().count() == 0
