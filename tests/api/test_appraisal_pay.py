"""What a finalised appraisal pays: the bonus at the grade's multiplier, the
process reward, corrections that pay the difference, and the events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from spur.models import (
    AchievementEvent,
    Appraisal,
    AppraisalCycle,
    EntryCause,
    EventKind,
    LedgerEntry,
    RewardKind,
    RewardStatus,
    StatusChange,
)
from tests.api.appraisal_factories import (
    OPEN,
    RATED,
    WORKING_DAYS_Q4,
    Tokens,
    answer,
    appraisal_of,
    correct,
    finalize,
    finalized,
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
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.factories import World

PAY = """mutation($input: MarkRewardsPaidInput!) {
  markRewardsPaid(input: $input) { rewards { id status } } }"""
EARNINGS = "query { viewer { earnings(period: MONTH) { total { amount } } } }"
MINE = """query { viewer { appraisals(first: 4) { edges { node {
  id version isCurrent grade supersedes { id version grade } correctionReason
} } } } }"""


@pytest.fixture
async def people(world: World, login: Any) -> Tokens:
    return await tokens(login)


def inputs(reward: dict[str, Any]) -> dict[str, str]:
    return {pair["name"]: pair["value"] for pair in reward["inputs"]}


async def test_the_bonus_is_a_ledger_entry_naming_the_appraisal_version(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller], bonusBase="10000.00")
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    done = await finalized(gql, people, seller, 95)

    [bonus] = done["rewards"]
    assert bonus | {"id": None, "inputs": None} == {
        "id": None,
        "kind": "CASH",
        "title": "Performance bonus",
        "amount": {"amount": "12000.00", "currency": "CNY"},
        "quantity": None,
        "status": "APPROVED",
        "cause": "APPRAISAL",
        "reversesId": None,
        "inputs": None,
    }
    assert inputs(bonus) == {
        "appraisal_version": "1",
        "bonus_base": "10000.00",
        "grade": "EXCELLENT",
        "multiplier": "1.20",
        "score": "95.00",
    }
    row = await LedgerEntry.get()
    appraisal = await Appraisal.get(member_id=world.seller.id)
    assert (row.appraisal_id, row.member_id, row.cause) == (
        appraisal.id,
        world.seller.id,
        EntryCause.APPRAISAL,
    )
    assert row.key == f"appraisal:c{appraisal.cycle_id}:m{world.seller.id}:v1:bonus"
    assert row.titles == {"zh-CN": "绩效奖金"}
    body = await gql(EARNINGS, token=people.seller)
    assert answer(body, "viewer")["earnings"]["total"]["amount"] == "12000.00"


async def test_a_strong_process_earns_its_reward_even_with_low_results(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    found = await metrics(world)
    # The seller tends the storefront 4 h a working day and sells nothing;
    # the teammate 3 h.
    for member, hours in ((world.seller, 4), (world.teammate, 3)):
        minutes = str(WORKING_DAYS_Q4 * hours * 60)
        await totals(world.company, member, {found.platform_minutes: minutes})
    dimensions = [
        {
            "code": "hours",
            "name": "Platform hours",
            "kind": "PROCESS",
            "weight": "1",
            "metric": "platform_minutes",
            "divisor": "60",
            "perWorkingDay": True,
            "scale": {"target": "4"},
        },
        {
            "code": "sales",
            "name": "Sales",
            "kind": "RESULT",
            "weight": "1",
            "metric": "sales_amount",
            "scale": {"target": "300000"},
        },
    ]
    created = await template(
        gql,
        people.hr,
        dimensions,
        bonusBase="10000.00",
        processRewardMin="90",
        processRewardAmount="800.00",
    )
    cycle = await open_cycle(gql, people.hr, created, [world.seller, world.teammate])
    await start(gql, people.hr, cycle)
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    done = answer(await finalize(gql, people.manager, seller), "finalizeAppraisal")

    assert (done["appraisal"]["processScore"], done["appraisal"]["resultScore"]) == (
        100.0,
        0.0,
    )
    assert (done["appraisal"]["score"], done["appraisal"]["grade"]) == (
        50.0,
        "UNQUALIFIED",
    )
    bonus, process = done["rewards"]
    assert bonus["amount"]["amount"] == "5000.00"  # 10,000.00 × 0.50
    assert (process["title"], process["amount"]["amount"]) == (
        "Process reward",
        "800.00",
    )
    assert inputs(process)["process_score"] == "100.00"
    assert inputs(process)["process_min"] == "90"

    mate = await appraisal_of(world.teammate)
    mate_token = await login("mate@example.com")
    answer(await submit(gql, mate_token, mate), "submitSelfReview")
    other = answer(await finalize(gql, people.manager, mate), "finalizeAppraisal")
    assert other["appraisal"]["processScore"] == 75.0
    assert [r["title"] for r in other["rewards"]] == ["Performance bonus"]


# --- corrections ---------------------------------------------------------------


async def corrected(
    gql: GraphQL, people: Tokens, world: World, first: float, second: float
) -> tuple[str, str, dict[str, Any]]:
    """Finalised at `first`, corrected, finalised again at `second`."""
    seller = await appraisal_of(world.seller)
    answer(
        await correct(gql, people.manager, seller, "Rated the wrong quarter"),
        "correctAppraisal",
    )
    again = await appraisal_of(world.seller, version=2)
    done = await finalized(gql, people, again, second)
    return seller, again, done


async def test_a_correction_pays_the_difference_and_nothing_twice(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller], bonusBase="10000.00")
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    await finalized(gql, people, seller, 95)

    body = await correct(gql, people.manager, seller, "Rated the wrong quarter")
    new = answer(body, "correctAppraisal")["appraisal"]
    assert new | {"id": None} == {
        "id": None,
        "version": 2,
        "status": "MANAGER_REVIEW",
        "isCurrent": True,
        "correctionReason": "Rated the wrong quarter",
        "supersedes": {"id": seller},
    }
    done = await finalized(gql, people, new["id"], 85)

    bonus, reversal = done["rewards"]
    assert (bonus["amount"]["amount"], bonus["status"]) == ("10000.00", "APPROVED")
    assert inputs(bonus)["appraisal_version"] == "2"
    assert (reversal["amount"]["amount"], reversal["status"]) == (
        "-12000.00",
        "REVERSED",
    )
    old = await LedgerEntry.get(key__endswith=":v1:bonus")
    assert old.status is RewardStatus.REVERSED
    assert reversal["reversesId"] == global_id("Reward", old.id)
    [move] = await StatusChange.filter(entry_id=old.id)
    assert (move.from_status, move.to_status) == (
        RewardStatus.APPROVED,
        RewardStatus.REVERSED,
    )
    body = await gql(EARNINGS, token=people.seller)
    assert answer(body, "viewer")["earnings"]["total"]["amount"] == "10000.00"

    # Neither the correction nor the corrected version is finalised twice.
    assert error_codes(await finalize(gql, people.manager, new["id"])) == ["CONFLICT"]
    assert error_codes(await correct(gql, people.manager, seller)) == ["CONFLICT"]
    assert await LedgerEntry.all().count() == 3

    listed = answer(await gql(MINE, token=people.seller), "viewer")["appraisals"]
    assert [edge["node"] for edge in listed["edges"]] == [
        {
            "id": new["id"],
            "version": 2,
            "isCurrent": True,
            "grade": "GOOD",
            "supersedes": {"id": seller, "version": 1, "grade": "EXCELLENT"},
            "correctionReason": "Rated the wrong quarter",
        }
    ]


async def test_a_paid_bonus_is_clawed_back_when_a_correction_lowers_it(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller], bonusBase="10000.00")
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    first = await finalized(gql, people, seller, 95)
    paid = {"ids": [first["rewards"][0]["id"]], "reference": "PAY-2026-12"}
    answer(await gql(PAY, {"input": paid}, people.hr), "markRewardsPaid")

    _, _, done = await corrected(gql, people, world, 95, 75)

    bonus, clawback = done["rewards"]
    assert bonus["amount"]["amount"] == "9000.00"  # QUALIFIED, 0.90
    assert (clawback["amount"]["amount"], clawback["status"]) == (
        "-12000.00",
        "APPROVED",
    )
    old = await LedgerEntry.get(key__endswith=":v1:bonus")
    assert old.status is RewardStatus.PAID
    body = await gql(EARNINGS, token=people.seller)
    assert answer(body, "viewer")["earnings"]["total"]["amount"] == "9000.00"


async def test_only_the_manager_or_hr_corrects_with_a_reason(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller])
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    assert error_codes(await correct(gql, people.manager, seller)) == ["CONFLICT"]
    await finalized(gql, people, seller, 80)
    assert error_codes(await correct(gql, people.seller, seller)) == ["FORBIDDEN"]
    assert error_codes(await correct(gql, people.manager, seller, "  ")) == [
        "BAD_USER_INPUT"
    ]
    assert await Appraisal.all().count() == 1


# --- events --------------------------------------------------------------------


async def test_appraisal_finalized_reaches_the_member_and_the_team_feed(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await rated_cycle(gql, people, [world.seller], bonusBase="10000.00")
    seller = await appraisal_of(world.seller)
    await to_manager_review(gql, people, seller)
    await finalized(gql, people, seller, 92.5)

    finalised, earned = await AchievementEvent.all().order_by("id")
    assert (finalised.kind, earned.kind) == (
        EventKind.APPRAISAL_FINALIZED,
        EventKind.REWARD_EARNED,
    )
    for event in (finalised, earned):
        assert (event.member_id, event.team_id) == (world.seller.id, world.team.id)
    # The seller reads Chinese, the team's manager English.
    # A cycle without titles is named by its name in either language.
    assert finalised.message == "你的「2026-Q4 appraisal」已完成：优秀（92.50 分）。"
    assert finalised.team_message == (
        "Seller's “2026-Q4 appraisal” is final: excellent."
    )
    assert earned.message == "恭喜你获得奖励：12000.00 CNY 绩效奖金！"
    assert earned.ledger_entry_id == (await LedgerEntry.get()).id


CYCLE_TITLES = [
    {"language": "zh-CN", "text": "2026 年第 4 季度考核"},
    {"language": "en", "text": "Q4 2026 appraisal"},
]
CYCLE_NAME = """query($id: ID!) { node(id: $id) { ... on Appraisal {
  cycle { name } } } }"""


async def test_a_cycle_is_named_in_each_readers_language(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    cycle = {"titles": CYCLE_TITLES}
    await rated_cycle(gql, people, [world.seller], name="2026-Q4", cycle=cycle)
    seller = await appraisal_of(world.seller)
    for token, name in [
        (people.seller, "2026 年第 4 季度考核"),
        (people.hr, "Q4 2026 appraisal"),
    ]:
        body = await gql(CYCLE_NAME, {"id": seller}, token)
        assert answer(body, "node")["cycle"]["name"] == name
    await to_manager_review(gql, people, seller)
    await finalized(gql, people, seller, 92.5)

    finalised = await AchievementEvent.get(kind=EventKind.APPRAISAL_FINALIZED)
    # The seller reads Chinese (no English left in the line), the manager English.
    assert finalised.message == "你的「2026 年第 4 季度考核」已完成：优秀（92.50 分）。"
    assert finalised.team_message == "Seller's “Q4 2026 appraisal” is final: excellent."


@pytest.mark.parametrize(
    "titles",
    [
        [{"language": "fr", "text": "Évaluation"}],
        [{"language": "en", "text": "A"}, {"language": "en", "text": "B"}],
        [{"language": "zh-CN", "text": "  "}],
    ],
)
async def test_cycle_titles_are_checked(
    world: World, gql: GraphQL, people: Tokens, titles: list[dict[str, str]]
) -> None:
    found = await template(gql, people.hr, [RATED], name="Checked")
    body = await gql(
        OPEN,
        {
            "input": {
                "templateId": found,
                "name": "2026-Q4 checked",
                "periodStart": "2026-10-01",
                "titles": titles,
            }
        },
        people.hr,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert not await AppraisalCycle.exists()


# --- a cycle at once -------------------------------------------------------------

FINALIZE_CYCLE = """mutation($input: FinalizeAppraisalCycleInput!) {
  finalizeAppraisalCycle(input: $input) {
    cycle { id status } finalized skipped notReady } }"""


async def test_finalising_a_cycle_takes_every_fully_rated_appraisal(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    members = [world.seller, world.teammate, world.outsider]
    cycle = await rated_cycle(gql, people, members, bonusBase="1000.00")
    seller, mate, eu = [await appraisal_of(m) for m in members]
    mate_token, eu_token = (
        await login("mate@example.com"),
        await login("eu@example.com"),
    )
    await to_manager_review(gql, people, seller)
    answer(await submit(gql, mate_token, mate), "submitSelfReview")
    answer(
        await review(gql, people.manager, seller, [rating("overall", 90)]),
        "reviewAppraisal",
    )
    body = await gql(FINALIZE_CYCLE, {"input": {"cycleId": cycle}}, people.manager)
    assert error_codes(body) == ["FORBIDDEN"]

    body = await gql(FINALIZE_CYCLE, {"input": {"cycleId": cycle}}, people.hr)
    assert answer(body, "finalizeAppraisalCycle") == {
        "cycle": {"id": cycle, "status": "OPEN"},
        "finalized": 1,
        "skipped": 1,  # the teammate, not yet rated
        "notReady": 1,  # the outsider, still in self review
    }
    answer(
        await review(gql, people.manager, mate, [rating("overall", 75)]),
        "reviewAppraisal",
    )
    answer(await submit(gql, eu_token, eu), "submitSelfReview")
    answer(await review(gql, people.hr, eu, [rating("overall", 60)]), "reviewAppraisal")
    body = await gql(FINALIZE_CYCLE, {"input": {"cycleId": cycle}}, people.hr)
    assert answer(body, "finalizeAppraisalCycle") == {
        "cycle": {"id": cycle, "status": "CLOSED"},
        "finalized": 2,
        "skipped": 0,
        "notReady": 0,
    }
    amounts = sorted(e.amount for e in await LedgerEntry.all())
    assert amounts == [Decimal("500.00"), Decimal("900.00"), Decimal("1200.00")]
    assert (
        await AchievementEvent.filter(kind=EventKind.APPRAISAL_FINALIZED).count() == 3
    )
    # A correction reopens the closed cycle.
    answer(await correct(gql, people.hr, eu, "Late orders counted"), "correctAppraisal")
    body = await gql(FINALIZE_CYCLE, {"input": {"cycleId": cycle}}, people.hr)
    done = answer(body, "finalizeAppraisalCycle")
    assert (done["cycle"]["status"], done["finalized"]) == ("CLOSED", 1)
    kinds = [e.kind for e in await LedgerEntry.all().order_by("id")]
    assert kinds.count(RewardKind.CASH) == 5  # v2's bonus and v1's reversal
