"""rerate: a past range paid again under the versions now in force, once."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from spur.api.context import Viewer
from spur.engine.metrics import ActivityKind
from spur.engine.periods import PeriodKind
from spur.models import (
    Activity,
    EntryCause,
    LedgerEntry,
    Member,
    PlanVersion,
    RewardKind,
    RewardStatus,
    RuleKind,
)
from spur.resolvers.activity import record_activity
from spur.resolvers.activity_input import ActivityDraft
from spur.resolvers.rerate import RerateRequest, rerate
from spur.resolvers.void import void_activity
from tests.api.conftest import NOW
from tests.api.helpers import GraphQL, error_codes, global_id, order, record, recorded
from tests.api.test_replay import mixed_plan, record_mixed_history, replayed
from tests.factories import World, build_world
from tests.plans import PlanSpec, Rule, add_version, make_plan

RERATE = """
mutation($input: RerateInput!) {
  rerate(input: $input) {
    written
    difference { amount currency }
    members { member { id name } difference { amount currency } }
  }
}
"""
FLAT = [Rule("commission", RuleKind.COMMISSION, {"rate": "0.05"}, title="Commission")]
RAISED = [
    Rule(
        "commission",
        RuleKind.COMMISSION,
        {"rate": "0.05", "overrides": [{"market": "SEA", "rate": "0.08"}]},
        title="Commission",
    )
]
DECEMBER = {"from": "2026-12-01", "to": "2026-12-05"}


async def run(gql: GraphQL, token: str, **extra: Any) -> dict[str, Any]:
    body = await gql(RERATE, {"input": {**DECEMBER, **extra}}, token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["rerate"]
    return payload


def sea_order(key: str, day: str, amount: str = "10000.00") -> dict[str, Any]:
    return order(key, amount, market="SEA", occurredAt=f"2026-12-{day}T10:00:00+08:00")


async def adjustments() -> list[LedgerEntry]:
    return await LedgerEntry.filter(cause=EntryCause.RERATE).order_by("key")


async def test_a_retroactive_raise_is_paid_as_one_adjustment_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(
        world.company, PlanSpec("Young", FLAT, approval_threshold=Decimal("200.00"))
    )
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, sea_order("before", "01")))
    recorded(await record(gql, seller, sea_order("after", "02")))
    recorded(await record(gql, seller, order("eu", "1000.00", market="EU")))
    raised = await add_version(plan, RAISED, date(2026, 12, 2))
    hr = await login("hr@example.com")

    first = await run(gql, hr)
    second = await run(gql, hr)

    assert first["written"] == 1  # the EU order earns 5% under both versions
    assert first["difference"] == {"amount": "300.00", "currency": "CNY"}
    assert first["members"] == [
        {
            "member": {"id": global_id("Member", world.seller.id), "name": "Seller"},
            "difference": {"amount": "300.00", "currency": "CNY"},
        }
    ]
    assert second == {
        "written": 0,
        "difference": {"amount": "0.00", "currency": "CNY"},
        "members": [],
    }
    after = await Activity.get(external_id="after")
    (line,) = await adjustments()
    assert line.key == f"rv{raised.id}:commission:a{after.id}:adj:1"
    assert (line.amount, line.currency, line.kind) == (
        Decimal("300.00"),
        "CNY",
        RewardKind.COMMISSION,
    )
    assert (line.plan_version_id, line.rule_ref) == (raised.id, "plan:1:v2:commission")
    assert line.status is RewardStatus.PENDING  # above the plan's 200.00
    assert line.source_activity_id == after.id
    assert line.earned_at == after.occurred_at
    assert line.inputs == {
        "expected": "800.00",
        "previous": "500.00",
        "rerated_at": NOW.isoformat(),
    }


async def test_a_rule_dropped_retroactively_is_taken_back(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, mixed_plan(world))
    await record_mixed_history(gql, login)
    without_target = [r for r in mixed_plan(world).rules if r.code != "quarter"]
    await add_version(plan, without_target, date(2026, 11, 1), mixed_plan(world))
    hr = await login("hr@example.com")

    first = await run(gql, hr, **{"from": "2026-11-01"})
    again = await run(gql, hr, **{"from": "2026-11-01"})

    assert again["written"] == 0
    lines = await adjustments()
    assert first["written"] == len(lines) > 0
    title = next(e for e in lines if e.key.endswith(":title:adj:1"))
    original = await LedgerEntry.get(key=title.key.removesuffix(":adj:1"))
    assert (title.kind, title.quantity) == (RewardKind.HONOR_TITLE, None)
    assert title.reverses_id == original.id
    assert title.inputs["expected"] == "0"
    assert await thing_totals(world) == await replayed_totals(world)


async def test_an_unchanged_history_needs_no_adjustment(
    world: World, gql: GraphQL, login: Any
) -> None:
    await make_plan(world.company, mixed_plan(world))
    await record_mixed_history(gql, login)

    body = await run(gql, await login("hr@example.com"), **{"from": "2026-11-01"})

    assert body["written"] == 0


async def test_a_mixed_history_rerated_matches_the_replay_and_holds(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, mixed_plan(world))
    await record_mixed_history(gql, login)
    cheaper = mixed_plan(world).rules
    cheaper[0] = Rule("commission", RuleKind.COMMISSION, {"rate": "0.01"})
    await add_version(plan, cheaper, date(2026, 11, 28), mixed_plan(world))
    hr = await login("hr@example.com")

    first = await run(gql, hr, **{"from": "2026-11-01"})
    again = await run(gql, hr, **{"from": "2026-11-01"})

    assert first["written"] > 0
    assert Decimal(first["difference"]["amount"]) < 0
    assert again["written"] == 0
    assert await thing_totals(world) == await replayed_totals(world)


def _thing(key: str) -> str:
    """A key without its version and suffixes: what the rule paid for."""
    return key.split(":", 1)[1].split(":adj:")[0].removesuffix(":void")


def _amount(amount: Any, quantity: Any, back: bool) -> Decimal:
    if amount is not None:
        return Decimal(amount)
    if quantity is not None:
        return Decimal(quantity)
    return Decimal(-1 if back else 1)


async def thing_totals(world: World) -> dict[tuple[str, RewardKind], Decimal]:
    """Plan lines by what they pay for, all statuses but REJECTED, no zeros."""
    totals: dict[tuple[str, RewardKind], Decimal] = {}
    lines = LedgerEntry.filter(company_id=world.company.id, rule_id__isnull=False)
    for e in await lines:
        if e.status is not RewardStatus.REJECTED:
            thing = (_thing(e.key), e.kind)
            value = _amount(e.amount, e.quantity, e.reverses_id is not None)
            totals[thing] = totals.get(thing, Decimal(0)) + value
    return {thing: value for thing, value in totals.items() if value != 0}


async def replayed_totals(world: World) -> dict[tuple[str, RewardKind], Decimal]:
    expected = await replayed(world.company, date(2026, 11, 1), date(2026, 12, 5))
    totals = {
        (_thing(e.key), e.kind): _amount(e.amount, e.quantity, False) for e in expected
    }
    return {thing: value for thing, value in totals.items() if value != 0}


async def test_a_voided_order_and_its_compensation_change_nothing(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, sea_order("kept", "02")))
    recorded(await record(gql, seller, sea_order("voided", "02")))
    await void(gql, await login("manager@example.com"), "voided")
    await add_version(plan, RAISED, date(2026, 12, 1))

    body = await run(gql, await login("hr@example.com"))

    kept = await Activity.get(external_id="kept")
    assert body["written"] == 1
    assert [(e.source_activity_id, e.amount) for e in await adjustments()] == [
        (kept.id, Decimal("300.00"))
    ]


async def void(gql: GraphQL, token: str, external_id: str) -> None:
    activity = await Activity.get(external_id=external_id)
    body = await gql(
        """mutation($input: VoidActivityInput!) {
             voidActivity(input: $input) { activity { id } } }""",
        {"input": {"activityId": global_id("Activity", activity.id), "reason": "dup"}},
        token,
    )
    assert "errors" not in body, body


async def test_a_rejected_line_stays_rejected_under_any_version(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    seller = await login("seller@example.com")
    recorded(await record(gql, seller, sea_order("refused", "02")))
    await LedgerEntry.filter(key__startswith="rv1:").update(
        status=RewardStatus.REJECTED
    )
    await add_version(plan, RAISED, date(2026, 12, 1))

    body = await run(gql, await login("hr@example.com"))

    assert body["written"] == 0


async def test_one_member_or_one_plan_at_a_time(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    other = await make_plan(world.company, PlanSpec("Other", FLAT))
    recorded(await record(gql, await login("seller@example.com"), sea_order("s", "02")))
    recorded(await record(gql, await login("mate@example.com"), sea_order("m", "02")))
    await add_version(plan, RAISED, date(2026, 12, 1))
    await add_version(other, RAISED, date(2026, 12, 1))
    hr = await login("hr@example.com")
    mate = global_id("Member", world.teammate.id)

    only_mate = await run(gql, hr, memberId=mate)
    only_plan = await run(gql, hr, planId=global_id("IncentivePlan", plan.id))
    rest = await run(gql, hr)

    assert [m["member"]["id"] for m in only_mate["members"]] == [mate]
    assert only_mate["difference"]["amount"] == "600.00"  # both plans
    assert (only_mate["written"], only_plan["written"], rest["written"]) == (2, 1, 1)
    assert only_plan["difference"]["amount"] == "300.00"
    assert rest["difference"]["amount"] == "300.00"
    assert await run(gql, hr) == {
        "written": 0,
        "difference": {"amount": "0.00", "currency": "CNY"},
        "members": [],
    }


async def test_an_inactive_plan_is_left_as_paid(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    recorded(await record(gql, await login("seller@example.com"), sea_order("s", "02")))
    plan.is_active = False
    await plan.save()

    assert (await run(gql, await login("hr@example.com")))["written"] == 0


@pytest.mark.parametrize("email", ["seller@example.com", "manager@example.com"])
async def test_only_hr_admins_rerate(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    body = await gql(RERATE, {"input": DECEMBER}, await login(email))
    assert error_codes(body) == ["FORBIDDEN"]


BAD_RANGES = {
    "from after to": ({"from": "2026-12-03", "to": "2026-12-01"}, "to"),
    "empty": ({"from": "2026-12-03", "to": "2026-12-03"}, "to"),
    "longer than 366 days": ({"from": "2025-12-02", "to": "2026-12-04"}, "to"),
    "into the future": ({"from": "2026-12-01", "to": "2026-12-06"}, "to"),
}


@pytest.mark.parametrize(("dates", "field"), BAD_RANGES.values(), ids=list(BAD_RANGES))
async def test_bad_ranges_are_refused(
    world: World, gql: GraphQL, login: Any, dates: dict[str, str], field: str
) -> None:
    body = await gql(RERATE, {"input": dates}, await login("hr@example.com"))
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_a_full_year_up_to_today_is_allowed(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    body = await run(gql, hr, **{"from": "2025-12-05", "to": "2026-12-05"})
    assert body["written"] == 0


async def test_another_companys_plan_or_member_is_not_found(
    world: World, gql: GraphQL, login: Any
) -> None:
    elsewhere = await build_world("b-")
    theirs = await make_plan(elsewhere.company, PlanSpec("Theirs", FLAT))
    hr = await login("hr@example.com")
    someone = await Member.get(email="b-seller@example.com")

    for sent, field in (
        ({"planId": global_id("IncentivePlan", theirs.id)}, "planId"),
        ({"memberId": global_id("Member", someone.id)}, "memberId"),
    ):
        body = await gql(RERATE, {"input": {**DECEMBER, **sent}}, hr)
        assert error_codes(body) == ["NOT_FOUND"]
        assert body["errors"][0]["extensions"]["field"] == field
    body = await gql(RERATE, {"input": {**DECEMBER, "planId": "nope"}}, hr)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert await PlanVersion.filter(plan_id=theirs.id).count() == 1


@dataclass(frozen=True)
class Happening:
    """One activity of a random history: who, which day, what."""

    member: int
    day: int
    order: bool
    amount: str
    market: str


HAPPENINGS = st.builds(
    Happening,
    member=st.integers(0, 1),
    day=st.integers(0, 8),
    order=st.booleans(),
    amount=st.sampled_from(["1000.00", "2500.55", "10000.00", "-1500.00"]),
    market=st.sampled_from(["SEA", "EU"]),
)
CHANGES = st.fixed_dictionaries(
    {
        "day": st.integers(0, 8),
        "rate": st.sampled_from(["0.03", "0.05", "0.08"]),
        "step": st.sampled_from(["50.00", "80.00"]),
        "cap": st.sampled_from([None, Decimal("600.00")]),
    }
)
START = date(2026, 11, 26)
WORLDS = itertools.count()


def viewer_of(member: Member, world: World) -> Viewer:
    return Viewer(
        member_id=member.id,
        company_id=world.company.id,
        role=member.role,
        team_id=member.team_id,
        managed_team_ids=frozenset(),
        language="en",
        timezone=ZoneInfo("Asia/Shanghai"),
        currency="CNY",
        token_expires_at=0.0,
    )


def draft(n: int, happening: Happening) -> ActivityDraft:
    when = datetime.combine(
        START + timedelta(days=happening.day), time(9), tzinfo=ZoneInfo("Asia/Shanghai")
    )
    if not happening.order:
        return ActivityDraft(
            ActivityKind.CUSTOMER_FOLLOW_UP, when, "crm", f"f{n}", new_customer=True
        )
    return ActivityDraft(
        ActivityKind.ORDER_CLOSED,
        when,
        "erp",
        f"o{n}",
        amount=Decimal(happening.amount),
        currency="CNY",
        market=happening.market,
    )


def random_plan(world: World, rate: str, step: str, cap: Decimal | None) -> PlanSpec:
    commission = {"rate": "0.05", "overrides": [{"market": "SEA", "rate": rate}]}
    rules = [
        Rule("commission", RuleKind.COMMISSION, commission),
        Rule(
            "follow-ups",
            RuleKind.STEP,
            {"every": "2", "amount": step},
            metric=world.follow_ups,
            period_kind=PeriodKind.WEEK,
        ),
    ]
    return PlanSpec(
        "Random", rules, member_cap=cap, cap_period=PeriodKind.MONTH if cap else None
    )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    history=st.lists(HAPPENINGS, min_size=1, max_size=8),
    voided=st.sets(st.integers(0, 7), max_size=2),
    change=CHANGES,
)
async def test_rerating_twice_writes_nothing_the_second_time(
    app: Starlette,
    history: list[Happening],
    voided: set[int],
    change: dict[str, Any],
) -> None:
    services = app.state.services
    world = await build_world(f"p{next(WORLDS)}-")
    first = random_plan(world, "0.05", "50.00", None)
    plan = await make_plan(world.company, first)
    people = [world.seller, world.teammate]
    for n, happening in enumerate(history):
        member = people[happening.member]
        await record_activity(
            services, viewer_of(member, world), None, draft(n, happening)
        )
    for n in sorted(voided):
        found = await Activity.get_or_none(
            company_id=world.company.id, external_id__endswith=str(n)
        )
        if found is not None:
            await void_activity(services, viewer_of(world.hr, world), found.id, "test")
    later = random_plan(world, change["rate"], change["step"], change["cap"])
    await add_version(plan, later.rules, START + timedelta(days=change["day"]), later)
    hr = viewer_of(world.hr, world)
    whole = RerateRequest(START, date(2026, 12, 5))

    await rerate(hr, whole, NOW)
    again = await rerate(hr, whole, NOW)

    assert again.written == 0
    assert await thing_totals(world) == await replayed_totals(world)


async def test_two_runs_at_once_adjust_once(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await make_plan(world.company, PlanSpec("Young", FLAT))
    seller = await login("seller@example.com")
    for n in range(5):
        recorded(await record(gql, seller, sea_order(f"o{n}", "02")))
    await add_version(plan, RAISED, date(2026, 12, 1))
    hr = await login("hr@example.com")

    bodies = await asyncio.gather(
        *(gql(RERATE, {"input": DECEMBER}, hr) for _ in range(3))
    )

    written = sorted(b["data"]["rerate"]["written"] for b in bodies if b["data"])
    conflicts = [error_codes(b) for b in bodies if not b["data"]]
    assert written[-1] == 5
    assert written[:-1] == [0] * (len(written) - 1)
    assert conflicts == [["CONFLICT"]] * (3 - len(written))
    assert await LedgerEntry.filter(cause=EntryCause.RERATE).count() == 5
    assert (await run(gql, hr))["written"] == 0
