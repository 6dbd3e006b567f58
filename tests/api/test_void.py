"""voidActivity: counts and rewards taken back once, with worked numbers."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import ALL_KINDS, PeriodKind
from spur.models import (
    AchievementEvent,
    Activity,
    EntryCause,
    Goal,
    GoalProgress,
    LedgerEntry,
    MetricDefinition,
    MetricTotal,
    RewardKind,
    RewardStatus,
    Role,
    RuleCounter,
    RuleKind,
    StatusChange,
)
from tests.api.helpers import (
    GraphQL,
    error_codes,
    follow_up,
    global_id,
    order,
    record,
    recorded,
    row_counts,
)
from tests.factories import World, build_world, member
from tests.plans import PlanSpec, Rule, make_plan

COMMISSION = Rule("commission", RuleKind.COMMISSION, {"rate": "0.05"})
YOUNG = PlanSpec("Young staff", [COMMISSION])
REASON = "Customer cancelled the order"
VOID = """mutation($input: VoidActivityInput!) {
  voidActivity(input: $input) {
    activity { id voidedAt voidReason }
    alreadyVoided
    compensations {
      id kind amount { amount currency } quantity status cause reversesId
      sourceActivityId inputs { name value }
    }
  }
}"""
EARNINGS = "query { viewer { earnings(period: MONTH) { total { amount } } } }"
STATEMENT = """query($memberId: ID) {
  statement(month: "2026-12", memberId: $memberId) {
    total { amount } payable { amount } paid { amount }
  }
}"""
PAY = """mutation($input: MarkRewardsPaidInput!) {
  markRewardsPaid(input: $input) { rewards { status } }
}"""
REJECT = """mutation($input: RejectRewardsInput!) {
  rejectRewards(input: $input) { rewards { status } }
}"""


async def void(
    gql: GraphQL, token: str, activity_id: object, reason: str = REASON
) -> dict[str, Any]:
    node = global_id("Activity", activity_id)
    return await gql(VOID, {"input": {"activityId": node, "reason": reason}}, token)


def voided(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["voidActivity"]
    return payload


async def activity_of(key: str) -> Activity:
    return await Activity.get(external_id=key)


async def earnings(gql: GraphQL, token: str) -> str:
    body = await gql(EARNINGS, {}, token)
    assert "errors" not in body, body
    amount: str = body["data"]["viewer"]["earnings"]["total"]["amount"]
    return amount


async def statement(gql: GraphQL, token: str) -> dict[str, str]:
    body = await gql(STATEMENT, {}, token)
    assert "errors" not in body, body
    return {k: v["amount"] for k, v in body["data"]["statement"].items()}


async def pay(gql: GraphQL, token: str, entry: LedgerEntry) -> None:
    ids = [global_id("Reward", entry.id)]
    variables = {"input": {"ids": ids, "reference": "payroll-2026-12"}}
    assert "errors" not in await gql(PAY, variables, token)


async def reject(gql: GraphQL, token: str, entry: LedgerEntry) -> None:
    variables = {"input": {"ids": [global_id("Reward", entry.id)], "reason": "No"}}
    assert "errors" not in await gql(REJECT, variables, token)


async def sales_totals(world: World) -> list[Decimal]:
    rows = await MetricTotal.filter(metric_id=world.sales.id).values_list(
        "value", flat=True
    )
    return [Decimal(value) for value in rows]


async def monthly_sales_goal(world: World) -> Goal:
    return await Goal.create(
        company=world.company,
        member=world.seller,
        metric=world.sales,
        title="50,000 a month",
        period_kind=PeriodKind.MONTH,
        target=Decimal(50000),
        active_from=date(2026, 1, 1),
    )


async def test_voiding_an_order_takes_back_its_commission_totals_and_progress(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    goal = await monthly_sales_goal(world)
    seller, manager = (
        await login("seller@example.com"),
        await login("manager@example.com"),
    )
    recorded(await record(gql, seller, order("o-1", "10000.00")))
    [earned] = await LedgerEntry.filter(member_id=world.seller.id)
    assert earned.amount == Decimal("500.00")
    assert await sales_totals(world) == [Decimal("10000.00")] * len(ALL_KINDS) * 2
    events = await AchievementEvent.all().count()

    activity = await activity_of("o-1")
    payload = voided(await void(gql, manager, activity.id))

    assert payload["alreadyVoided"] is False
    assert payload["activity"]["voidReason"] == REASON
    assert payload["activity"]["voidedAt"] is not None
    [shown] = payload["compensations"]
    assert shown["amount"] == {"amount": "-500.00", "currency": "CNY"}
    assert (shown["status"], shown["cause"]) == ("REVERSED", "VOID")
    assert shown["reversesId"] == global_id("Reward", earned.id)
    assert shown["inputs"] == [{"name": "voided_activity", "value": str(activity.id)}]

    original = await LedgerEntry.get(id=earned.id)
    assert original.status == "REVERSED"
    [change] = await StatusChange.filter(entry_id=earned.id)
    assert (change.from_status, change.to_status) == ("APPROVED", "REVERSED")
    assert (change.actor_id, change.reason) == (world.manager.id, REASON)
    compensation = await LedgerEntry.get(reverses_id=earned.id)
    assert compensation.key == f"{earned.key}:void"
    assert compensation.earned_at == earned.earned_at
    assert (compensation.plan_version_id, compensation.rule_id) == (
        earned.plan_version_id,
        earned.rule_id,
    )

    assert await sales_totals(world) == [Decimal(0)] * len(ALL_KINDS) * 2
    progress = await GoalProgress.get(goal_id=goal.id)
    assert progress.current == 0
    assert await AchievementEvent.all().count() == events
    assert await earnings(gql, seller) == "0.00"
    assert (await statement(gql, seller))["total"] == "0.00"
    stored = await Activity.get(id=activity.id).values("voided_by_id", "void_reason")
    assert stored == {"voided_by_id": world.manager.id, "void_reason": REASON}


async def test_a_pending_reward_is_reversed_with_its_compensation(
    world: World, gql: GraphQL, login: Any
) -> None:
    spec = PlanSpec("Reviewed", [COMMISSION], approval_threshold=Decimal(100))
    await make_plan(world.company, spec)
    recorded(await record(gql, await login("seller@example.com"), order("o", "9000")))

    hr = await login("hr@example.com")
    payload = voided(await void(gql, hr, (await activity_of("o")).id))

    assert [c["status"] for c in payload["compensations"]] == ["REVERSED"]
    statuses = [e.status for e in await LedgerEntry.all().order_by("id")]
    assert statuses == ["REVERSED", "REVERSED"]
    [change] = await StatusChange.all()
    assert (change.from_status, change.actor_id) == ("PENDING", world.hr.id)


async def test_a_paid_reward_is_clawed_back_by_an_approved_entry(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, order("o-1", "10000.00")))
    [earned] = await LedgerEntry.all()
    await pay(gql, await login("hr@example.com"), earned)

    manager = await login("manager@example.com")
    payload = voided(await void(gql, manager, (await activity_of("o-1")).id))

    [clawback] = payload["compensations"]
    assert (clawback["status"], clawback["amount"]["amount"]) == ("APPROVED", "-500.00")
    assert (await LedgerEntry.get(id=earned.id)).status == "PAID"
    assert await StatusChange.filter(to_status="REVERSED").count() == 0
    assert await earnings(gql, seller) == "0.00"
    assert await statement(gql, seller) == {
        "total": "0.00",
        "payable": "-500.00",
        "paid": "500.00",
    }


async def test_a_rejected_reward_needs_no_compensation(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    recorded(await record(gql, await login("seller@example.com"), order("o", "10000")))
    [earned] = await LedgerEntry.all()
    manager = await login("manager@example.com")
    await reject(gql, manager, earned)

    payload = voided(await void(gql, manager, (await activity_of("o")).id))

    assert payload["compensations"] == []
    assert await LedgerEntry.filter(cause=EntryCause.VOID).count() == 0
    assert (await LedgerEntry.get(id=earned.id)).status == "REJECTED"
    assert await sales_totals(world) == [Decimal(0)] * len(ALL_KINDS) * 2


async def test_concurrent_voids_write_one_set_of_compensations(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    recorded(await record(gql, await login("seller@example.com"), order("o", "10000")))
    activity = await activity_of("o")
    tokens = [await login("manager@example.com"), await login("hr@example.com")]

    bodies = await asyncio.gather(
        *(void(gql, tokens[n % 2], activity.id) for n in range(5))
    )

    payloads = [voided(body) for body in bodies]
    assert sorted(p["alreadyVoided"] for p in payloads) == [False] + [True] * 4
    assert sum(len(p["compensations"]) for p in payloads) == 1
    assert await LedgerEntry.filter(cause=EntryCause.VOID).count() == 1
    assert await StatusChange.all().count() == 1
    assert await sales_totals(world) == [Decimal(0)] * len(ALL_KINDS) * 2


async def test_voiding_again_writes_nothing(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    recorded(await record(gql, await login("seller@example.com"), order("o", "10000")))
    activity = await activity_of("o")
    hr = await login("hr@example.com")
    voided(await void(gql, hr, activity.id))
    before = await row_counts()

    again = voided(await void(gql, hr, activity.id, reason="Twice"))

    assert again["alreadyVoided"] is True
    assert again["compensations"] == []
    assert again["activity"]["voidReason"] == REASON
    assert await row_counts() == before


async def test_a_void_gives_room_back_on_the_cap_and_the_budget(
    world: World, gql: GraphQL, login: Any
) -> None:
    spec = PlanSpec(
        "Capped",
        [COMMISSION],
        member_cap=Decimal(600),
        cap_period=PeriodKind.MONTH,
        budget=Decimal(1000),
    )
    await make_plan(world.company, spec)
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, order("o-1", "10000.00")))
    voided(
        await void(gql, await login("hr@example.com"), (await activity_of("o-1")).id)
    )

    assert {counter.value for counter in await RuleCounter.all()} == {0}
    recorded(await record(gql, seller, order("o-2", "12000.00")))
    latest = await LedgerEntry.filter(cause=EntryCause.EARNED).order_by("-id").first()
    assert latest is not None
    assert latest.amount == Decimal("600.00")


async def test_a_voided_step_is_taken_back_and_never_paid_twice(
    world: World, gql: GraphQL, login: Any
) -> None:
    metric = await MetricDefinition.create(
        company=world.company,
        key="replies",
        name="Inquiry replies",
        activity_kind=ActivityKind.INQUIRY_REPLIED,
        aggregation=Aggregation.COUNT,
    )
    params = {
        "every": "10",
        "amount": "200.00",
        "entitlement": {"kind": "LEAD_ALLOCATION", "quantity": "1"},
    }
    step = Rule("replies", RuleKind.STEP, params, metric, PeriodKind.WEEK)
    await make_plan(world.company, PlanSpec("Replies", [step]))
    seller = await login("seller@example.com")
    for n in range(10):
        recorded(await record(gql, seller, _reply(n)))

    manager = await login("manager@example.com")
    payload = voided(await void(gql, manager, (await activity_of("reply-9")).id))
    recorded(await record(gql, seller, _reply(10)))

    taken = {(c["kind"], c["quantity"]) for c in payload["compensations"]}
    assert taken == {("CASH", None), ("LEAD_ALLOCATION", -1.0)}
    assert await LedgerEntry.filter(cause=EntryCause.EARNED).count() == 2
    assert await earnings(gql, seller) == "0.00"


def _reply(n: int) -> dict[str, Any]:
    return {
        "kind": "INQUIRY_REPLIED",
        "occurredAt": "2026-12-04T09:00:00+08:00",
        "source": "alibaba",
        "externalId": f"reply-{n}",
        "responseMinutes": 5,
    }


async def test_a_goal_reward_is_compensated_and_progress_taken_back(
    world: World, gql: GraphQL, login: Any
) -> None:
    seller = await login("seller@example.com")
    for n in range(10):
        recorded(await record(gql, seller, follow_up(f"f{n}")))
    [earned] = await LedgerEntry.all()
    assert earned.source_activity_id == (await activity_of("f9")).id

    payload = voided(
        await void(gql, await login("hr@example.com"), earned.source_activity_id)
    )

    [shown] = payload["compensations"]
    assert (shown["amount"]["amount"], shown["status"]) == ("-500.00", "REVERSED")
    progress = await GoalProgress.get(goal_id=world.weekly.id)
    assert progress.current == 9
    assert progress.completed_at is not None  # a completed goal stays completed
    assert await earnings(gql, seller) == "0.00"


async def adjust(earned: LedgerEntry, tail: str, **values: Any) -> LedgerEntry:
    """A line a re-rating wrote for the same activity."""
    return await LedgerEntry.create(
        company_id=earned.company_id,
        member_id=earned.member_id,
        key=f"{earned.key}:{tail}",
        title=earned.title,
        source_activity_id=earned.source_activity_id,
        rule_ref=earned.rule_ref,
        plan_version_id=earned.plan_version_id,
        rule_id=earned.rule_id,
        cause=EntryCause.RERATE,
        earned_at=earned.earned_at,
        **values,
    )


async def test_re_rating_adjustments_are_taken_back_too(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, order("o-1", "10000.00")))
    [earned] = await LedgerEntry.all()
    cash = {"kind": earned.kind, "amount": Decimal(300), "currency": "CNY"}
    await adjust(earned, "adj:1", status=RewardStatus.APPROVED, **cash)
    title = {"kind": RewardKind.HONOR_TITLE, "status": RewardStatus.APPROVED}
    granted = await adjust(earned, "title", **title)
    taken = await adjust(earned, "title:adj:1", reverses_id=granted.id, **title)
    assert await earnings(gql, seller) == "800.00"

    hr = await login("hr@example.com")
    payload = voided(await void(gql, hr, earned.source_activity_id))

    shown = [c["amount"]["amount"] for c in payload["compensations"]]
    assert shown == ["-500.00", "-300.00"]
    assert await earnings(gql, seller) == "0.00"
    for untouched in (granted, taken):
        assert (await LedgerEntry.get(id=untouched.id)).status == "APPROVED"


async def test_a_refund_nets_earnings_and_statement_to_zero(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, order("o-1", "1234.57")))
    recorded(await record(gql, seller, order("r-1", "-1234.57")))

    assert await earnings(gql, seller) == "0.00"
    assert (await statement(gql, seller))["total"] == "0.00"


async def test_voiding_a_refund_restores_what_the_order_earned(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, YOUNG)
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, order("o-1", "1234.57")))
    recorded(await record(gql, seller, order("r-1", "-1234.57")))

    hr = await login("hr@example.com")
    payload = voided(await void(gql, hr, (await activity_of("r-1")).id))

    assert payload["compensations"][0]["amount"]["amount"] == "61.73"
    assert await earnings(gql, seller) == "61.73"
    assert await sales_totals(world) == [Decimal("1234.57")] * len(ALL_KINDS) * 2


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("seller@example.com", "FORBIDDEN"),
        ("mate@example.com", "FORBIDDEN"),
        ("eu@example.com", "FORBIDDEN"),
        ("partner@example.com", "FORBIDDEN"),
        ("eu-manager@example.com", "FORBIDDEN"),
        ("b-hr@example.com", "NOT_FOUND"),
        ("b-manager@example.com", "NOT_FOUND"),
    ],
)
async def test_who_may_not_void(
    world: World, gql: GraphQL, login: Any, email: str, code: str
) -> None:
    await _eu_manager(world)
    await build_world("b-")
    await make_plan(world.company, YOUNG)
    recorded(await record(gql, await login("seller@example.com"), order("o", "10000")))
    before = await row_counts()

    body = await void(gql, await login(email), (await activity_of("o")).id)

    assert error_codes(body) == [code]
    assert await row_counts() == before
    assert (await activity_of("o")).voided_at is None


async def _eu_manager(world: World) -> None:
    boss = await member(
        world.company, world.other_team, "eu-manager@example.com", Role.MANAGER
    )
    world.other_team.manager = boss
    await world.other_team.save()


@pytest.mark.parametrize("email", ["manager@example.com", "hr@example.com"])
async def test_who_may_void(world: World, gql: GraphQL, login: Any, email: str) -> None:
    recorded(await record(gql, await login("seller@example.com"), order("o", "10")))

    payload = voided(await void(gql, await login(email), (await activity_of("o")).id))

    assert payload["alreadyVoided"] is False


async def test_no_one_voids_their_own_activity(
    world: World, gql: GraphQL, login: Any
) -> None:
    for email in ("manager@example.com", "hr@example.com"):
        token = await login(email)
        recorded(await record(gql, token, order(email, "10")))

        body = await void(gql, token, (await activity_of(email)).id)

        assert error_codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "nul\x00"])
async def test_a_reason_is_required_and_bounded(
    world: World, gql: GraphQL, login: Any, reason: str
) -> None:
    recorded(await record(gql, await login("seller@example.com"), order("o", "10")))

    body = await void(
        gql, await login("hr@example.com"), (await activity_of("o")).id, reason
    )

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "reason"
    assert (await activity_of("o")).voided_at is None


async def test_a_reason_of_500_characters_is_kept_whole(
    world: World, gql: GraphQL, login: Any
) -> None:
    recorded(await record(gql, await login("seller@example.com"), order("o", "10")))

    hr = await login("hr@example.com")
    payload = voided(await void(gql, hr, (await activity_of("o")).id, "y" * 500))

    assert payload["activity"]["voidReason"] == "y" * 500


@pytest.mark.parametrize(
    ("activity_id", "code"),
    [
        (global_id("Member", 1), "BAD_USER_INPUT"),
        ("not-an-id", "BAD_USER_INPUT"),
        (global_id("Activity", 999999), "NOT_FOUND"),
    ],
)
async def test_an_activity_id_must_name_an_activity(
    world: World, gql: GraphQL, login: Any, activity_id: str, code: str
) -> None:
    variables = {"input": {"activityId": activity_id, "reason": REASON}}

    body = await gql(VOID, variables, await login("hr@example.com"))

    assert error_codes(body) == [code]


async def test_a_goal_crossed_again_after_a_void_pays_nothing_twice(
    world: World, gql: GraphQL, login: Any
) -> None:
    seller = await login("seller@example.com")
    for n in range(10):
        recorded(await record(gql, seller, follow_up(f"f{n}")))
    hr = await login("hr@example.com")
    voided(await void(gql, hr, (await activity_of("f9")).id))

    again = recorded(await record(gql, seller, follow_up("f10")))

    assert again["achievements"] == []
    assert await LedgerEntry.filter(cause=EntryCause.EARNED).count() == 1


async def test_a_goal_crossed_again_after_a_refund_is_no_news(
    world: World, gql: GraphQL, login: Any
) -> None:
    await monthly_sales_goal(world)
    seller = await login("seller@example.com")
    first = recorded(await record(gql, seller, order("o-1", "50000.00")))
    recorded(await record(gql, seller, order("r-1", "-50000.00")))

    again = recorded(await record(gql, seller, order("o-2", "50000.00")))

    assert "GOAL_COMPLETED" in {a["kind"] for a in first["achievements"]}
    assert {a["kind"] for a in again["achievements"]} == {"ORDER_CLOSED"}
