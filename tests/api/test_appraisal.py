"""Appraisals through the API: measured dimensions with worked numbers, the
state machine, and who may see and write what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from spur.engine.appraisal import AppraisalStatus
from spur.models import (
    Appraisal,
    AppraisalScore,
    LedgerEntry,
    MetricDefinition,
    MetricTotal,
)
from tests.api.appraisal_factories import (
    APPRAISAL,
    RATED,
    START,
    WORKING_DAYS_Q4,
    Tokens,
    answer,
    appraisal_of,
    finalize,
    measured_dimensions,
    metrics,
    open_cycle,
    rated_cycle,
    rating,
    review,
    start,
    submit,
    template,
    to_manager_review,
    tokens,
    totals,
)
from tests.api.conftest import NOW
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.factories import World, build_world

MINE = """query { viewer { appraisals(first: 10) { edges { node {
  id status score grade cycle { name } scores { code weight score comment }
  managerComment } } pageInfo { hasNextPage } } } }"""


@pytest.fixture
async def people(world: World, login: Any) -> Tokens:
    return await tokens(login)


async def node(gql: GraphQL, token: str, appraisal: str) -> dict[str, Any]:
    found: dict[str, Any] = answer(
        await gql(APPRAISAL, {"id": appraisal}, token), "node"
    )
    return found


def by_code(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["code"]: s for s in found["scores"]}


# --- measured dimensions ---------------------------------------------------------


async def measured_world(world: World, gql: GraphQL, people: Tokens) -> str:
    """The seller: 3 h a working day, 36 of 40 inquiries answered, 200,000
    of sales; the teammate the same without any inquiry."""
    found = await metrics(world)
    hours = str(WORKING_DAYS_Q4 * 3 * 60)
    await totals(
        world.company,
        world.seller,
        {
            found.platform_minutes: hours,
            found.inquiries: "40",
            found.replies: "36",
            found.sales: "200000",
        },
    )
    await totals(
        world.company,
        world.teammate,
        {found.platform_minutes: hours, found.sales: "200000"},
    )
    created = await template(
        gql, people.hr, measured_dimensions(), bonusBase="10000.00"
    )
    return await open_cycle(gql, people.hr, created, [world.seller, world.teammate])


async def test_metric_dimensions_are_measured_when_the_cycle_opens(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await measured_world(world, gql, people)
    found = await node(gql, people.hr, await appraisal_of(world.seller))
    assert found["status"] == "DRAFT"
    assert found["cycle"]["period"] == {"label": "2026-Q4"}
    assert found["cycle"]["periodKind"] == "QUARTER"
    assert by_code(found) == {
        "hours": {
            "dimension": "Platform hours",
            "code": "hours",
            "kind": "PROCESS",
            "weight": 0.2,
            "value": 3.0,
            "selfScore": None,
            "score": 75.0,
            "applies": True,
            "comment": None,
        },
        "sales": {
            "dimension": "Sales",
            "code": "sales",
            "kind": "RESULT",
            "weight": 0.3,
            "value": 200000.0,
            "selfScore": None,
            "score": 80.0,
            "applies": True,
            "comment": None,
        },
        "reply_rate": {
            "dimension": "Inquiry reply rate",
            "code": "reply_rate",
            "kind": "PROCESS",
            "weight": 0.5,
            "value": 0.9,
            "selfScore": None,
            "score": 94.74,
            "applies": True,
            "comment": None,
        },
    }


async def test_a_dimension_that_does_not_apply_leaves_the_others_renormalised(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    await measured_world(world, gql, people)
    mate = await appraisal_of(world.teammate)
    found = by_code(await node(gql, people.hr, mate))
    assert {c: (s["weight"], s["score"], s["applies"]) for c, s in found.items()} == {
        "hours": (0.4, 75.0, True),
        "sales": (0.6, 80.0, True),
        "reply_rate": (0.0, None, False),
    }
    assert found["reply_rate"]["value"] is None


async def test_the_finalised_score_with_worked_numbers(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    cycle = await measured_world(world, gql, people)
    await start(gql, people.hr, cycle)
    seller, mate = await appraisal_of(world.seller), await appraisal_of(world.teammate)
    await to_manager_review(gql, people, seller)
    mate_token = await login("mate@example.com")
    answer(await submit(gql, mate_token, mate), "submitSelfReview")

    done = answer(await finalize(gql, people.manager, seller), "finalizeAppraisal")
    # 0.2 × 75 + 0.3 × 80 + 0.5 × 94.74 = 86.37; process (15 + 47.37) / 0.7.
    assert done["appraisal"] | {"finalizedAt": None} == {
        "id": seller,
        "status": "FINALIZED",
        "score": 86.37,
        "grade": "GOOD",
        "bonusMultiplier": "1.00",
        "processScore": 89.1,
        "resultScore": 80.0,
        "finalizedAt": None,
        "version": 1,
        "isCurrent": True,
    }
    assert datetime.fromisoformat(done["appraisal"]["finalizedAt"]) == NOW
    other = answer(await finalize(gql, people.manager, mate), "finalizeAppraisal")
    # No inquiries: 0.4 × 75 + 0.6 × 80.
    assert (other["appraisal"]["score"], other["appraisal"]["grade"]) == (
        78.0,
        "QUALIFIED",
    )
    assert other["appraisal"]["processScore"] == 75.0


async def test_finalising_measures_the_cycle_as_it_then_stands(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    cycle = await measured_world(world, gql, people)
    await start(gql, people.hr, cycle)
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    # Activity recorded after the cycle opened: all 40 inquiries now answered.
    replies = await MetricDefinition.get(company=world.company, key="replies")
    await MetricTotal.filter(metric=replies, subject_id=world.seller.id).update(
        value=40
    )
    done = answer(await finalize(gql, people.manager, seller), "finalizeAppraisal")
    assert done["appraisal"]["score"] == 89.0  # 15 + 24 + 0.5 × 100
    scores = by_code(await node(gql, people.hr, seller))
    assert (scores["reply_rate"]["value"], scores["reply_rate"]["score"]) == (
        1.0,
        100.0,
    )


async def test_reply_time_is_better_the_lower_it_is(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    found = await metrics(world)
    # 20 replies in 900 minutes: 45 minutes on average against 30.
    await totals(
        world.company,
        world.seller,
        {found.replies: "20", found.reply_minutes: "900"},
    )
    spec = [
        {
            "code": "reply_time",
            "name": "Reply time",
            "kind": "PROCESS",
            "weight": "1",
            "metric": "reply_minutes",
            "perMetric": "replies",
            "scale": {"target": "30", "lowerIsBetter": True},
        }
    ]
    created = await template(gql, people.hr, spec)
    await open_cycle(gql, people.hr, created, [world.seller, world.teammate])
    seller = by_code(await node(gql, people.hr, await appraisal_of(world.seller)))
    assert seller["reply_time"] | {"dimension": None} == {
        "dimension": None,
        "code": "reply_time",
        "kind": "PROCESS",
        "weight": 1.0,
        "value": 45.0,
        "selfScore": None,
        "score": 50.0,
        "applies": True,
        "comment": None,
    }
    mate = by_code(await node(gql, people.hr, await appraisal_of(world.teammate)))
    assert (mate["reply_time"]["applies"], mate["reply_time"]["weight"]) == (False, 0.0)


# --- band edges through a finalised appraisal ---------------------------------


@pytest.mark.parametrize(
    ("score", "grade", "multiplier", "bonus"),
    [
        (69.99, "UNQUALIFIED", "0.50", "5000.00"),
        (70, "QUALIFIED", "0.90", "9000.00"),
        (89.99, "GOOD", "1.00", "10000.00"),
        (90, "EXCELLENT", "1.20", "12000.00"),
    ],
)
async def test_band_edges_of_a_finalised_appraisal(
    world: World,
    gql: GraphQL,
    people: Tokens,
    score: float,
    grade: str,
    multiplier: str,
    bonus: str,
) -> None:
    await rated_cycle(gql, people, [world.seller], bonusBase="10000.00")
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    answer(
        await review(gql, people.manager, seller, [rating("overall", score)]),
        "reviewAppraisal",
    )
    done = answer(await finalize(gql, people.manager, seller), "finalizeAppraisal")
    assert done["appraisal"]["score"] == score
    assert (done["appraisal"]["grade"], done["appraisal"]["bonusMultiplier"]) == (
        grade,
        multiplier,
    )
    [bonus_line] = done["rewards"]
    assert bonus_line["amount"] == {"amount": bonus, "currency": "CNY"}


# --- the state machine -------------------------------------------------------


async def test_no_step_is_skipped(world: World, gql: GraphQL, people: Tokens) -> None:
    await rated_cycle(gql, people, [world.seller], bonusBase="100.00")
    seller = await appraisal_of(world.seller)
    # SELF_REVIEW: neither finalised nor reviewed before the member hands over.
    assert error_codes(await finalize(gql, people.manager, seller)) == ["CONFLICT"]
    assert error_codes(
        await review(gql, people.manager, seller, [rating("overall", 80)])
    ) == ["CONFLICT"]
    row = await Appraisal.get(member_id=world.seller.id)
    assert row.status is AppraisalStatus.SELF_REVIEW
    assert (
        await AppraisalScore.filter(appraisal_id=row.id, score__isnull=False).count()
        == 0
    )
    assert await LedgerEntry.all().count() == 0


async def test_a_draft_is_not_reviewed_by_anyone(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    created = await template(gql, people.hr, [RATED])
    await open_cycle(gql, people.hr, created, [world.seller])
    seller = await appraisal_of(world.seller)
    assert error_codes(await submit(gql, people.seller, seller)) == ["CONFLICT"]
    assert error_codes(await finalize(gql, people.manager, seller)) == ["CONFLICT"]


async def test_nothing_changes_after_finalisation(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller], bonusBase="100.00")
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    answer(
        await review(gql, people.manager, seller, [rating("overall", 85)]),
        "reviewAppraisal",
    )
    answer(await finalize(gql, people.manager, seller), "finalizeAppraisal")
    before = await node(gql, people.hr, seller)

    for body in (
        await review(gql, people.manager, seller, [rating("overall", 99)]),
        await submit(gql, people.seller, seller, [rating("overall", 99)]),
        await finalize(gql, people.manager, seller),
        await finalize(gql, people.hr, seller),
    ):
        assert error_codes(body) == ["CONFLICT"], body
    assert await node(gql, people.hr, seller) == before
    assert await LedgerEntry.all().count() == 1


async def test_a_rated_dimension_is_written_only_by_the_reviewer_whose_turn_it_is(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller])
    seller = await appraisal_of(world.seller)
    # SELF_REVIEW: the manager's rating comes too early.
    assert error_codes(
        await review(gql, people.manager, seller, [rating("overall", 90)])
    ) == ["CONFLICT"]
    answer(
        await submit(gql, people.seller, seller, [rating("overall", 95)]),
        "submitSelfReview",
    )
    # MANAGER_REVIEW: the member may not rate (or review) themselves any more.
    assert error_codes(
        await review(gql, people.seller, seller, [rating("overall", 100)])
    ) == ["FORBIDDEN"]
    assert error_codes(
        await submit(gql, people.seller, seller, [rating("overall", 100)])
    ) == ["CONFLICT"]
    # Nor may the manager write the member's self review.
    assert error_codes(await submit(gql, people.manager, seller)) == ["FORBIDDEN"]
    row = await AppraisalScore.get(appraisal__member_id=world.seller.id)
    assert (row.self_score, row.score) == (95, None)


async def test_self_and_manager_ratings_and_comments(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller])
    seller = await appraisal_of(world.seller)
    handed = answer(
        await submit(gql, people.seller, seller, [rating("overall", 88.5)]),
        "submitSelfReview",
    )
    assert handed["appraisal"] == {
        "id": seller,
        "status": "MANAGER_REVIEW",
        "selfComment": "A good year",
    }
    answer(
        await review(gql, people.manager, seller, [rating("overall", 82, "Solid")]),
        "reviewAppraisal",
    )
    # The member sees the manager's rating and comment once final.
    mine = answer(await gql(MINE, token=people.seller), "viewer")
    [edge] = mine["appraisals"]["edges"]
    assert edge["node"]["scores"] == [
        {"code": "overall", "weight": 1.0, "score": None, "comment": None}
    ]
    assert edge["node"]["managerComment"] is None
    theirs = by_code(await node(gql, people.manager, seller))["overall"]
    assert (theirs["selfScore"], theirs["score"], theirs["comment"]) == (
        88.5,
        82.0,
        "Solid",
    )
    answer(await finalize(gql, people.manager, seller), "finalizeAppraisal")
    mine = answer(await gql(MINE, token=people.seller), "viewer")
    final = mine["appraisals"]["edges"][0]["node"]
    assert final["scores"][0] | {"weight": None} == {
        "code": "overall",
        "weight": None,
        "score": 82.0,
        "comment": "Solid",
    }
    assert (final["managerComment"], final["grade"]) == ("Well done", "GOOD")


async def test_finalising_needs_every_rated_dimension_scored(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller])
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    body = await finalize(gql, people.manager, seller)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "ratings"
    assert (await Appraisal.get(member_id=world.seller.id)).status is (
        AppraisalStatus.MANAGER_REVIEW
    )


RATING_REFUSALS: list[tuple[list[dict[str, Any]], str]] = [
    ([rating("overall", 100.5)], "ratings.0.score"),
    ([rating("overall", -1)], "ratings.0.score"),
    ([rating("overall", 80.123)], "ratings.0.score"),
    ([rating("nope", 80)], "ratings.0.dimension"),
    ([rating("overall", 80), rating("overall", 81)], "ratings.1.dimension"),
    ([rating("overall", 80, "x" * 2001)], "ratings.0.comment"),
    ([rating("overall", 80, "nul\x00")], "ratings.0.comment"),
]


async def test_bad_ratings_are_refused_and_change_nothing(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller])
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    for ratings, field in RATING_REFUSALS:
        body = await review(gql, people.manager, seller, ratings)
        assert error_codes(body) == ["BAD_USER_INPUT"], (ratings, body)
        assert body["errors"][0]["extensions"]["field"] == field
    row = await AppraisalScore.get(appraisal__member_id=world.seller.id)
    assert (row.score, row.comment) == (None, None)
    assert (await Appraisal.get()).manager_comment is None


async def test_a_self_rating_carries_no_comment_of_its_own(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller])
    seller = await appraisal_of(world.seller)
    body = await submit(gql, people.seller, seller, [rating("overall", 90, "me")])
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert (await Appraisal.get(member_id=world.seller.id)).status is (
        AppraisalStatus.SELF_REVIEW
    )


# --- who sees what -------------------------------------------------------------


async def test_visibility_member_own_manager_teams_hr_all_partner_none(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    await rated_cycle(gql, people, [world.seller, world.outsider])
    seller = await appraisal_of(world.seller)
    outsider = await appraisal_of(world.outsider)
    query = "query($id: ID!) { node(id: $id) { id } }"

    async def sees(token: str, appraisal: str) -> bool:
        body = await gql(query, {"id": appraisal}, token)
        assert "errors" not in body, body
        return body["data"]["node"] is not None

    mate = await login("mate@example.com")
    partner = await login("partner@example.com")
    assert [await sees(people.seller, a) for a in (seller, outsider)] == [True, False]
    assert [await sees(mate, a) for a in (seller, outsider)] == [False, False]
    assert [await sees(people.manager, a) for a in (seller, outsider)] == [True, False]
    assert [await sees(people.hr, a) for a in (seller, outsider)] == [True, True]
    assert [await sees(partner, a) for a in (seller, outsider)] == [False, False]
    body = await gql(MINE, token=partner)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_manager_reviews_only_their_teams_and_never_themselves(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    await rated_cycle(gql, people, [world.outsider, world.manager])
    outsider = await appraisal_of(world.outsider)
    own = await appraisal_of(world.manager)
    for member_token, appraisal in (
        (await login("eu@example.com"), outsider),
        (people.manager, own),
    ):
        answer(await submit(gql, member_token, appraisal), "submitSelfReview")
    # Another team's member: not visible, so not found.
    body = await review(gql, people.manager, outsider, [rating("overall", 90)])
    assert error_codes(body) == ["NOT_FOUND"]
    assert error_codes(await finalize(gql, people.manager, outsider)) == ["NOT_FOUND"]
    body = await review(gql, people.manager, own, [rating("overall", 100)])
    assert error_codes(body) == ["FORBIDDEN"]
    # HR reviews anyone else in the company, the manager included.
    answer(
        await review(gql, people.hr, own, [rating("overall", 70)]), "reviewAppraisal"
    )
    done = answer(await finalize(gql, people.hr, own), "finalizeAppraisal")
    assert done["appraisal"]["grade"] == "QUALIFIED"


async def test_a_salesperson_or_partner_may_not_review(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    await rated_cycle(gql, people, [world.teammate])
    mate = await appraisal_of(world.teammate)
    answer(await submit(gql, await login("mate@example.com"), mate), "submitSelfReview")
    partner = await login("partner@example.com")
    for token in (people.seller, partner):
        body = await review(gql, token, mate, [rating("overall", 100)])
        assert error_codes(body) == ["FORBIDDEN"]
        assert error_codes(await finalize(gql, token, mate)) == ["FORBIDDEN"]
    assert error_codes(await submit(gql, partner, mate)) == ["FORBIDDEN"]


async def test_another_company_sees_nothing_and_changes_nothing(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    await rated_cycle(gql, people, [world.seller])
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    await build_world(prefix="other.")
    other_hr = await login("other.hr@example.com")
    body = await gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": seller}, other_hr
    )
    assert body == {"data": {"node": None}}
    for found in (
        await review(gql, other_hr, seller, [rating("overall", 100)]),
        await finalize(gql, other_hr, seller),
    ):
        assert error_codes(found) == ["NOT_FOUND"]
    cycle = global_id("AppraisalCycle", (await Appraisal.get()).cycle_id)
    body = await gql(START, {"input": {"cycleId": cycle}}, other_hr)
    assert error_codes(body) == ["NOT_FOUND"]
