"""Approving, rejecting and paying rewards: who may, all or nothing, races."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from spur.models import LedgerEntry, RewardStatus, Role, StatusChange
from spur.resolvers import approval
from tests.api.conftest import NOW, FixedClock
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.api.ledger_factories import entry, plan_rule, reward_id

# `sql` is the statement-counting fixture the query-count tests use.
from tests.api.test_query_counts import StatementLog, sql, statements  # noqa: F401
from tests.factories import World, build_world, member

PENDING, APPROVED, PAID = RewardStatus.PENDING, RewardStatus.APPROVED, RewardStatus.PAID
REJECTED, REVERSED = RewardStatus.REJECTED, RewardStatus.REVERSED
FIELDS = """rewards { id status statusHistory {
  fromStatus toStatus actorName reason reference changedAt } }"""
APPROVE = f"""mutation($input: ApproveRewardsInput!) {{
  approveRewards(input: $input) {{ {FIELDS} }} }}"""
REJECT = f"""mutation($input: RejectRewardsInput!) {{
  rejectRewards(input: $input) {{ {FIELDS} }} }}"""
PAY = f"""mutation($input: MarkRewardsPaidInput!) {{
  markRewardsPaid(input: $input) {{ {FIELDS} }} }}"""
PENDING_LIST = """query($teamId: ID, $first: Int!, $after: String) {
  pendingRewards(teamId: $teamId, first: $first, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
MUTATIONS = {"approve": APPROVE, "reject": REJECT, "pay": PAY}


def move_input(
    rows: Sequence[LedgerEntry], reason: str | None = "ok", **extra: Any
) -> dict[str, Any]:
    return {"ids": [reward_id(row) for row in rows], "reason": reason, **extra}


async def run(
    gql: GraphQL, token: str, verb: str, rows: Sequence[LedgerEntry], **extra: Any
) -> dict[str, Any]:
    if verb == "pay":
        extra.setdefault("reference", "PAY-2026-12")
    return await gql(MUTATIONS[verb], {"input": move_input(rows, **extra)}, token)


def moved(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    rewards: list[dict[str, Any]] = body["data"][field]["rewards"]
    return rewards


async def statuses(*rows: LedgerEntry) -> list[RewardStatus]:
    return [(await LedgerEntry.get(id=row.id)).status for row in rows]


async def refused(body: dict[str, Any], code: str, *rows: LedgerEntry) -> None:
    """Refused with `code`, naming `rows` when given, and nothing written."""
    assert error_codes(body) == [code], body
    if rows:
        assert body["errors"][0]["extensions"]["ids"] == [reward_id(r) for r in rows]
    assert await StatusChange.all().count() == 0


# Each move


async def test_a_manager_approves_a_pending_reward_of_their_team(
    world: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    row = await entry(world.seller, "1200.00")
    token = await login("manager@example.com")

    body = await run(gql, token, "approve", [row], reason="Checked the order")

    (reward,) = moved(body, "approveRewards")
    assert reward["status"] == "APPROVED"
    (move,) = reward["statusHistory"]
    assert datetime.fromisoformat(move.pop("changedAt")) == NOW
    assert move == {
        "fromStatus": "PENDING",
        "toStatus": "APPROVED",
        "actorName": "Manager",
        "reason": "Checked the order",
        "reference": None,
    }
    assert await statuses(row) == [APPROVED]
    change = await StatusChange.get(entry_id=row.id)
    assert change.actor_id == world.manager.id
    assert change.changed_at == clock.now


async def test_hr_approves_in_any_team_and_a_reason_is_optional(
    world: World, gql: GraphQL, login: Any
) -> None:
    row = await entry(world.outsider)
    body = await gql(
        APPROVE, {"input": {"ids": [reward_id(row)]}}, await login("hr@example.com")
    )
    (reward,) = moved(body, "approveRewards")
    assert reward["statusHistory"][0]["reason"] == ""
    assert await statuses(row) == [APPROVED]


@pytest.mark.parametrize("start", [PENDING, APPROVED])
async def test_a_manager_rejects_pending_or_approved_rewards_with_a_reason(
    world: World, gql: GraphQL, login: Any, start: RewardStatus
) -> None:
    row = await entry(world.teammate, status=start)
    token = await login("manager@example.com")

    body = await run(gql, token, "reject", [row], reason="Duplicate order")

    (reward,) = moved(body, "rejectRewards")
    assert reward["status"] == "REJECTED"
    history = reward["statusHistory"]
    assert [(h["fromStatus"], h["reason"]) for h in history] == [
        (start.value, "Duplicate order")
    ]


async def test_hr_marks_approved_rewards_paid_with_a_reference(
    world: World, gql: GraphQL, login: Any
) -> None:
    rows = [await entry(world.seller, status=APPROVED) for _ in range(2)]
    token = await login("hr@example.com")

    body = await run(gql, token, "pay", rows, reference=" PR-2026-12 ", reason=None)

    rewards = moved(body, "markRewardsPaid")
    assert [r["id"] for r in rewards] == [reward_id(r) for r in rows]
    assert {r["statusHistory"][0]["reference"] for r in rewards} == {"PR-2026-12"}
    assert await statuses(*rows) == [PAID, PAID]


async def test_history_lists_every_move_in_order(
    world: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    row = await entry(world.seller)
    await run(gql, await login("manager@example.com"), "approve", [row])
    clock.now = clock.now.replace(day=20)
    body = await run(gql, await login("hr@example.com"), "pay", [row])

    (reward,) = moved(body, "markRewardsPaid")
    history = reward["statusHistory"]
    assert [(h["fromStatus"], h["toStatus"], h["actorName"]) for h in history] == [
        ("PENDING", "APPROVED", "Manager"),
        ("APPROVED", "PAID", "Hr"),
    ]
    assert datetime.fromisoformat(history[1]["changedAt"]) == clock.now


# Who may


@pytest.mark.parametrize("verb", ["approve", "reject", "pay"])
@pytest.mark.parametrize("email", ["seller@example.com", "partner@example.com"])
async def test_salespeople_and_partner_apps_move_nothing(
    world: World, gql: GraphQL, login: Any, verb: str, email: str
) -> None:
    row = await entry(world.teammate, status=APPROVED if verb == "pay" else PENDING)
    body = await run(gql, await login(email), verb, [row])
    await refused(body, "FORBIDDEN")


async def test_a_manager_does_not_pay(world: World, gql: GraphQL, login: Any) -> None:
    row = await entry(world.seller, status=APPROVED)
    body = await run(gql, await login("manager@example.com"), "pay", [row])
    await refused(body, "FORBIDDEN")
    assert await statuses(row) == [APPROVED]


@pytest.mark.parametrize("verb", ["approve", "reject"])
async def test_a_manager_decides_only_for_their_own_teams(
    world: World, gql: GraphQL, login: Any, verb: str
) -> None:
    row = await entry(world.outsider)
    body = await run(gql, await login("manager@example.com"), verb, [row])
    await refused(body, "FORBIDDEN", row)
    assert await statuses(row) == [PENDING]


@pytest.mark.parametrize("verb", ["approve", "reject"])
@pytest.mark.parametrize("who", ["manager", "hr"])
async def test_nobody_decides_on_their_own_rewards(
    world: World, gql: GraphQL, login: Any, verb: str, who: str
) -> None:
    row = await entry(getattr(world, who))
    body = await run(gql, await login(f"{who}@example.com"), verb, [row])
    await refused(body, "FORBIDDEN", row)


async def test_hr_does_not_pay_themselves(
    world: World, gql: GraphQL, login: Any
) -> None:
    row = await entry(world.hr, status=APPROVED)
    body = await run(gql, await login("hr@example.com"), "pay", [row])
    await refused(body, "FORBIDDEN", row)


async def test_another_companys_and_unknown_rewards_are_not_found(
    world: World, gql: GraphQL, login: Any
) -> None:
    other = await build_world(prefix="b-")
    theirs = await entry(other.seller)
    token = await login("hr@example.com")

    body = await run(gql, token, "approve", [theirs])
    await refused(body, "NOT_FOUND", theirs)

    ghost = LedgerEntry(id=theirs.id + 1000)
    body = await run(gql, token, "approve", [ghost])
    await refused(body, "NOT_FOUND", ghost)
    assert await statuses(theirs) == [PENDING]


# Wrong status


@pytest.mark.parametrize(
    ("verb", "status"),
    [
        ("approve", APPROVED),
        ("approve", PAID),
        ("approve", REJECTED),
        ("approve", REVERSED),
        ("reject", PAID),
        ("reject", REJECTED),
        ("reject", REVERSED),
        ("pay", PENDING),
        ("pay", PAID),
        ("pay", REVERSED),
    ],
)
async def test_a_move_from_the_wrong_status_is_a_conflict(
    world: World, gql: GraphQL, login: Any, verb: str, status: RewardStatus
) -> None:
    row = await entry(world.seller, status=status)
    body = await run(gql, await login("hr@example.com"), verb, [row])
    await refused(body, "CONFLICT", row)
    assert await statuses(row) == [status]


# Batches: all or nothing


async def test_one_bad_entry_moves_none_of_the_batch(
    world: World, gql: GraphQL, login: Any
) -> None:
    good = [await entry(world.seller), await entry(world.teammate)]
    foreign = await entry(world.outsider)
    reversed_ = await entry(world.seller, status=REVERSED)
    token = await login("manager@example.com")

    body = await run(gql, token, "approve", [*good, foreign, reversed_])
    await refused(body, "FORBIDDEN", foreign)
    body = await run(gql, token, "approve", [*good, reversed_])
    await refused(body, "CONFLICT", reversed_)
    assert await statuses(*good, foreign, reversed_) == [
        PENDING,
        PENDING,
        PENDING,
        REVERSED,
    ]

    body = await run(gql, token, "approve", good)
    assert [r["status"] for r in moved(body, "approveRewards")] == ["APPROVED"] * 2
    assert await StatusChange.all().count() == 2


async def test_a_change_between_the_checks_and_the_update_rolls_back_the_batch(
    world: World, gql: GraphQL, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await entry(world.seller), await entry(world.teammate)
    loaded = approval.load_entries

    async def load_then_someone_else_rejects(*args: Any) -> Any:
        rows = await loaded(*args)
        await LedgerEntry.filter(id=second.id).update(status=REJECTED)
        return rows

    monkeypatch.setattr(approval, "load_entries", load_then_someone_else_rejects)
    body = await run(
        gql, await login("manager@example.com"), "approve", [first, second]
    )

    await refused(body, "CONFLICT", second)
    assert await statuses(first, second) == [PENDING, REJECTED]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([], "1 to 100"),
        (["not-an-id"], "not a Reward id"),
        ([global_id("Member", 1)], "not a Reward id"),
        ([global_id("Reward", "١")], "not a Reward id"),
    ],
)
async def test_malformed_batches_are_bad_input(
    world: World, gql: GraphQL, login: Any, ids: list[str], message: str
) -> None:
    body = await gql(APPROVE, {"input": {"ids": ids}}, await login("hr@example.com"))
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert message in body["errors"][0]["message"]


async def test_a_batch_holds_at_most_100_distinct_ids(
    world: World, gql: GraphQL, login: Any
) -> None:
    token = await login("hr@example.com")
    rows = [await entry(world.seller) for _ in range(101)]
    body = await run(gql, token, "approve", rows)
    await refused(body, "BAD_USER_INPUT")
    body = await run(gql, token, "approve", [rows[0], rows[0]])
    await refused(body, "BAD_USER_INPUT")

    body = await run(gql, token, "approve", rows[:100])
    assert len(moved(body, "approveRewards")) == 100


@pytest.mark.parametrize(
    ("verb", "extra", "field"),
    [
        ("reject", {"reason": "   "}, "reason"),
        ("reject", {"reason": "x" * 1001}, "reason"),
        ("approve", {"reason": "ok\x00"}, "reason"),
        ("pay", {"reference": " "}, "reference"),
        ("pay", {"reference": "R" * 129}, "reference"),
        ("pay", {"reference": "R\x00"}, "reference"),
    ],
)
async def test_reasons_and_references_are_checked(
    world: World,
    gql: GraphQL,
    login: Any,
    verb: str,
    extra: dict[str, str],
    field: str,
) -> None:
    row = await entry(world.seller, status=APPROVED if verb == "pay" else PENDING)
    body = await run(gql, await login("hr@example.com"), verb, [row], **extra)
    await refused(body, "BAD_USER_INPUT")
    assert body["errors"][0]["extensions"]["field"] == field


async def test_a_rejection_without_a_reason_is_refused_by_the_schema(
    world: World, gql: GraphQL, login: Any
) -> None:
    row = await entry(world.seller)
    body = await gql(
        REJECT, {"input": {"ids": [reward_id(row)]}}, await login("hr@example.com")
    )
    await refused(body, "BAD_USER_INPUT")


# Races


async def test_two_approvers_racing_one_wins_the_other_conflicts(
    world: World, gql: GraphQL, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = await entry(world.seller)
    manager, hr = await login("manager@example.com"), await login("hr@example.com")
    both_read = asyncio.Barrier(2)
    loaded = approval.load_entries

    async def load_together(*args: Any) -> Any:
        # Both requests have read the entry as PENDING before either writes.
        rows = await loaded(*args)
        await both_read.wait()
        return rows

    monkeypatch.setattr(approval, "load_entries", load_together)
    bodies = await asyncio.gather(
        run(gql, manager, "approve", [row]), run(gql, hr, "approve", [row])
    )

    codes = sorted(str(error_codes(body)) for body in bodies)
    assert codes == ["['CONFLICT']", "[]"], bodies
    # Lost at the conditional UPDATE, not at the checks before it.
    (lost,) = [body for body in bodies if "errors" in body]
    assert "changed meanwhile" in lost["errors"][0]["message"]
    assert await StatusChange.filter(entry_id=row.id).count() == 1
    assert await statuses(row) == [APPROVED]


async def test_concurrent_approve_and_reject_leave_one_move(
    world: World, gql: GraphQL, login: Any
) -> None:
    row = await entry(world.seller)
    manager, hr = await login("manager@example.com"), await login("hr@example.com")
    bodies = await asyncio.gather(
        run(gql, manager, "approve", [row]),
        run(gql, hr, "reject", [row], reason="No"),
    )
    # Both may succeed only in order: approve, then reject the approved entry.
    changes = await StatusChange.filter(entry_id=row.id).order_by("id")
    steps = [(c.from_status, c.to_status) for c in changes]
    assert steps in (
        [(PENDING, APPROVED)],
        [(PENDING, REJECTED)],
        [(PENDING, APPROVED), (APPROVED, REJECTED)],
    ), bodies
    assert sum("errors" in body for body in bodies) == 2 - len(steps)


async def test_overlapping_batches_in_opposite_orders_do_not_deadlock(
    world: World, gql: GraphQL, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [await entry(world.seller) for _ in range(3)]
    manager, hr = await login("manager@example.com"), await login("hr@example.com")
    both_read = asyncio.Barrier(2)
    loaded = approval.load_entries

    async def load_together(*args: Any) -> Any:
        found = await loaded(*args)
        await both_read.wait()
        return found

    monkeypatch.setattr(approval, "load_entries", load_together)
    bodies = await asyncio.gather(
        run(gql, manager, "approve", rows), run(gql, hr, "approve", rows[::-1])
    )

    assert sorted(str(error_codes(body)) for body in bodies) == ["['CONFLICT']", "[]"]
    assert await StatusChange.all().count() == 3
    assert await statuses(*rows) == [APPROVED] * 3


# The queue


async def pending_ids(
    gql: GraphQL, token: str, team: str | None = None, first: int = 20
) -> list[str]:
    body = await gql(PENDING_LIST, {"teamId": team, "first": first}, token)
    assert "errors" not in body, body
    return [edge["node"]["id"] for edge in body["data"]["pendingRewards"]["edges"]]


async def test_the_queue_lists_what_the_viewer_decides_on_oldest_first(
    world: World, gql: GraphQL, login: Any
) -> None:
    older = await entry(world.teammate)
    newer = await entry(world.seller)
    await entry(world.seller, status=APPROVED)
    foreign = await entry(world.outsider)
    own = await entry(world.manager)
    await entry(world.hr)
    manager, hr = await login("manager@example.com"), await login("hr@example.com")

    assert await pending_ids(gql, manager) == [reward_id(older), reward_id(newer)]
    team = global_id("Team", world.team.id)
    assert await pending_ids(gql, manager, team) == [reward_id(older), reward_id(newer)]
    assert await pending_ids(gql, hr) == [
        reward_id(r) for r in (older, newer, foreign, own)
    ]
    europe = global_id("Team", world.other_team.id)
    assert await pending_ids(gql, hr, europe) == [reward_id(foreign)]


async def test_the_queue_pages(world: World, gql: GraphQL, login: Any) -> None:
    rows = [await entry(world.seller) for _ in range(3)]
    token = await login("hr@example.com")
    body = await gql(PENDING_LIST, {"first": 2}, token)
    page = body["data"]["pendingRewards"]
    assert page["pageInfo"]["hasNextPage"] is True
    after = page["pageInfo"]["endCursor"]
    body = await gql(PENDING_LIST, {"first": 2, "after": after}, token)
    assert [e["node"]["id"] for e in body["data"]["pendingRewards"]["edges"]] == [
        reward_id(rows[2])
    ]


async def test_the_queue_refuses_other_teams_and_roles(
    world: World, gql: GraphQL, login: Any
) -> None:
    manager = await login("manager@example.com")
    europe = global_id("Team", world.other_team.id)
    body = await gql(PENDING_LIST, {"teamId": europe, "first": 5}, manager)
    assert error_codes(body) == ["FORBIDDEN"]
    other = await build_world(prefix="b-")
    theirs = global_id("Team", other.team.id)
    body = await gql(PENDING_LIST, {"teamId": theirs, "first": 5}, manager)
    assert error_codes(body) == ["NOT_FOUND"]
    seller = await login("seller@example.com")
    body = await gql(PENDING_LIST, {"first": 5}, seller)
    assert error_codes(body) == ["FORBIDDEN"]


# What a reward tells


REWARD = """query($id: ID!) { node(id: $id) { ... on Reward {
  cause planName planVersion ruleCode inputs { name value }
  sourceActivityId reversesId member { id name }
  amount { amount currency } status } } }"""


async def test_a_reward_names_its_plan_rule_inputs_and_what_it_reverses(
    world: World, gql: GraphQL, login: Any
) -> None:
    rule = await plan_rule(world.company, number=2, plan_titles={"zh-CN": "青年计划"})
    original = await entry(world.seller, "500.00", APPROVED, rule=rule)
    void = await entry(
        world.seller,
        "-500.00",
        REVERSED,
        rule=rule,
        cause="VOID",
        reverses=original,
        inputs={"rate": "0.05", "base": "10000.00"},
    )
    body = await gql(
        REWARD, {"id": reward_id(void)}, await login("manager@example.com")
    )
    assert "errors" not in body, body
    assert body["data"]["node"] == {
        "cause": "VOID",
        "planName": "Young staff",
        "planVersion": 2,
        "ruleCode": "commission",
        "inputs": [
            {"name": "base", "value": "10000.00"},
            {"name": "rate", "value": "0.05"},
        ],
        "sourceActivityId": None,
        "reversesId": reward_id(original),
        "member": {"id": global_id("Member", world.seller.id), "name": "Seller"},
        "amount": {"amount": "-500.00", "currency": "CNY"},
        "status": "REVERSED",
    }
    zh = await gql(REWARD, {"id": reward_id(void)}, await login("seller@example.com"))
    assert zh["data"]["node"]["planName"] == "青年计划"


async def test_a_goal_reward_names_no_plan(
    world: World, gql: GraphQL, login: Any
) -> None:
    row = await entry(world.seller, goal=world.weekly, kind="CASH")
    body = await gql(REWARD, {"id": reward_id(row)}, await login("seller@example.com"))
    node = body["data"]["node"]
    assert (node["planName"], node["planVersion"], node["ruleCode"]) == (
        None,
        None,
        None,
    )
    assert node["cause"] == "EARNED"
    assert node["inputs"] == []


REWARD_LIST = """{ viewer { rewards(first: 20) { edges { node {
  cause planName planVersion ruleCode inputs { name value } reversesId
  member { name } statusHistory { fromStatus toStatus actorName reason } } } } } }"""


async def decided_rewards(world: World, numbers: range) -> None:
    """Approved rewards of the seller, each from a rule of its own plan and
    approved by a different member, so no loader can share a row."""
    for n in numbers:
        rule = await plan_rule(world.company, plan_name=f"Plan {n}", code=f"r{n}")
        row = await entry(world.seller, status=APPROVED, rule=rule, inputs={"n": "1"})
        actor = await member(
            world.company, world.team, f"m{n}@example.com", Role.HR_ADMIN
        )
        await StatusChange.create(
            entry=row,
            from_status=PENDING,
            to_status=APPROVED,
            actor=actor,
            changed_at=NOW,
        )


async def test_reward_lists_cost_the_same_for_3_or_15_rewards(
    world: World,
    gql: GraphQL,
    login: Any,
    sql: StatementLog,  # noqa: F811
) -> None:
    token = await login("seller@example.com")
    await decided_rewards(world, range(3))
    few = await statements(sql, gql, REWARD_LIST, {}, token)
    await decided_rewards(world, range(3, 15))
    body = await gql(REWARD_LIST, {}, token)
    nodes = [e["node"] for e in body["data"]["viewer"]["rewards"]["edges"]]
    assert len(nodes) == 15
    assert {n["statusHistory"][0]["actorName"] for n in nodes} == {
        f"M{n}" for n in range(15)
    }
    many = await statements(sql, gql, REWARD_LIST, {}, token)
    assert many == few, sql.statements
    # Sign-in (2), viewer, rewards, then versions, plans, rules, history,
    # members (owner and actors): one statement each.
    assert few <= 9, sql.statements
