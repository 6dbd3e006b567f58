"""Preference surveys and the shares, mix and plans of each staff segment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from spur.models import (
    IncentivePreference,
    Member,
    PreferenceSurvey,
    RewardKind,
    RewardStatus,
    Role,
    RuleKind,
)
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.api.ledger_factories import entry
from tests.factories import World, member
from tests.plans import Audience, PlanSpec, Rule, make_plan

SUBMIT = """mutation($input: SubmitPreferenceSurveyInput!) {
  submitPreferenceSurvey(input: $input) {
    survey { ranking answeredOn submittedAt } } }"""
MINE = "{ myPreferenceSurvey { ranking answeredOn } }"
PROFILE_FIELDS = """segment members stated inferred top headline
  shares { preference count share }
  recommendedMix { preference share }
  plans { plan { name } members offeredMix { preference share } }"""
SHARES = f"""query($teamId: ID) {{
  preferenceShares(teamId: $teamId) {{ {PROFILE_FIELDS} }} }}"""
PROFILE = f"""query($segment: StaffSegment!) {{
  preferenceProfile(segment: $segment) {{ {PROFILE_FIELDS} }} }}"""


async def answer(gql: GraphQL, token: str, *ranking: str) -> dict[str, Any]:
    return await gql(SUBMIT, {"input": {"ranking": list(ranking)}}, token)


async def test_a_member_answers_and_their_first_choice_is_their_preference(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("seller@example.com")

    first = await answer(gql, token, "GROWTH_TRAINING")
    again = await answer(gql, token, "INSTANT_COMMISSION", "TEAM_HONOR")
    mine = await gql(MINE, {}, token)

    assert "errors" not in first, first
    assert again["data"]["submitPreferenceSurvey"]["survey"]["answeredOn"] == (
        "2026-12-04"
    )
    assert mine["data"]["myPreferenceSurvey"] == {
        "ranking": ["INSTANT_COMMISSION", "TEAM_HONOR"],
        "answeredOn": "2026-12-04",
    }
    seller = await Member.get(id=world.seller.id)
    assert seller.incentive_preference is IncentivePreference.INSTANT_COMMISSION
    assert await PreferenceSurvey.filter(member_id=world.seller.id).count() == 2


@pytest.mark.parametrize(
    "ranking",
    [[], ["TEAM_HONOR", "TEAM_HONOR"]],
)
async def test_a_ranking_names_each_kind_at_most_once(
    world: World, gql: GraphQL, login: Any, ranking: list[str]
) -> None:
    body = await answer(gql, await login("seller@example.com"), *ranking)

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert await PreferenceSurvey.all().count() == 0


async def test_partner_apps_answer_no_survey_and_salespeople_read_no_shares(
    world: World, gql: GraphQL, login: Any
) -> None:
    partner = await answer(gql, await login("partner@example.com"), "TEAM_HONOR")
    seller = await gql(SHARES, {}, await login("seller@example.com"))
    other = await gql(
        SHARES,
        {"teamId": global_id("Team", world.other_team.id)},
        await login("manager@example.com"),
    )

    assert error_codes(partner) == ["FORBIDDEN"]
    assert error_codes(seller) == ["FORBIDDEN"]
    assert error_codes(other) == ["FORBIDDEN"]
    # The refusal names what was asked for, not another field's right.
    assert "staff preferences" in seller["errors"][0]["message"], seller


async def staff(world: World, gql: GraphQL, login: Any) -> None:
    """Young (SEA): 3 for commission, 1 for growth; senior (Europe): honour,
    long term, and one who never answered but earns honour titles."""
    for n in range(2):
        await member(
            world.company, world.team, f"young{n}@example.com", Role.SALESPERSON
        )
    for n in range(3):
        senior = await member(
            world.company, world.other_team, f"senior{n}@example.com", Role.SALESPERSON
        )
        senior.birth_date = date(1980, 1, 1)
        await senior.save()
    choices = {
        "seller@example.com": "INSTANT_COMMISSION",
        "mate@example.com": "INSTANT_COMMISSION",
        "young0@example.com": "INSTANT_COMMISSION",
        "young1@example.com": "GROWTH_TRAINING",
        "senior0@example.com": "TEAM_HONOR",
        "senior1@example.com": "LONG_TERM_BENEFITS",
    }
    for email, choice in choices.items():
        assert "errors" not in await answer(gql, await login(email), choice)
    quiet = await Member.get(email="senior2@example.com")
    for _ in range(2):
        await entry(
            quiet,
            None,
            RewardStatus.APPROVED,
            kind=RewardKind.HONOR_TITLE,
            title="Team Star",
        )
    await entry(quiet, "900.00", RewardStatus.APPROVED)


def by_segment(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert "errors" not in body, body
    return {p["segment"]: p for p in body["data"]["preferenceShares"]}


def shares(profile: dict[str, Any]) -> dict[str, str]:
    return {s["preference"]: s["share"] for s in profile["shares"]}


async def test_hr_reads_the_shares_of_each_segment(
    world: World, gql: GraphQL, login: Any
) -> None:
    await staff(world, gql, login)

    found = by_segment(await gql(SHARES, {}, await login("hr@example.com")))

    young, senior = found["YOUNG"], found["SENIOR"]
    # Young: seller, mate, two more, the manager and Europe's seller (born
    # 1996); the last two never answered and earned nothing.
    assert (young["members"], young["stated"], young["inferred"]) == (6, 4, 0)
    assert shares(young)["INSTANT_COMMISSION"] == "0.75"
    assert (
        young["headline"] == "75% of staff aged 30 or under prefer instant commission"
    )
    assert (senior["members"], senior["stated"], senior["inferred"]) == (3, 2, 1)
    assert senior["top"] == "TEAM_HONOR"
    assert shares(senior)["TEAM_HONOR"] == "0.67"
    assert found["OTHER"]["members"] == 0
    mix = {m["preference"]: Decimal(m["share"]) for m in young["recommendedMix"]}
    assert sum(mix.values()) == 1
    assert mix["INSTANT_COMMISSION"] == max(mix.values())


async def test_the_mix_stands_beside_the_plans_each_segment_is_on(
    world: World, gql: GraphQL, login: Any
) -> None:
    await staff(world, gql, login)
    await make_plan(
        world.company,
        PlanSpec(
            "Young staff",
            [Rule("base", RuleKind.COMMISSION, {"rate": "0.05"})],
            audiences=[Audience(max_age=30)],
        ),
    )
    star = {"threshold": "100", "entitlement": {"kind": "HONOR_TITLE", "title": "Star"}}
    await make_plan(
        world.company,
        PlanSpec(
            "Senior team rules",
            [Rule("star", RuleKind.TEAM_THRESHOLD, star, metric=world.sales)],
            audiences=[Audience(min_age=35)],
        ),
    )
    hr = await login("hr@example.com")

    body = await gql(PROFILE, {"segment": "SENIOR"}, hr)

    assert "errors" not in body, body
    [plan] = body["data"]["preferenceProfile"]["plans"]
    assert plan["plan"] == {"name": "Senior team rules"}
    assert plan["members"] == 3
    offered = {m["preference"]: m["share"] for m in plan["offeredMix"]}
    assert offered["TEAM_HONOR"] == "1.00"


async def test_a_manager_reads_their_own_teams_only(
    world: World, gql: GraphQL, login: Any
) -> None:
    await staff(world, gql, login)
    manager = await login("manager@example.com")

    found = by_segment(await gql(SHARES, {}, manager))

    assert found["YOUNG"]["members"] == 5  # Europe's seller is not theirs
    assert found["SENIOR"]["members"] == 0
    assert found["SENIOR"]["headline"] == (
        "No preferences known for staff aged 35 or over"
    )
