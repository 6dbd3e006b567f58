"""Scheduling a rule change: addPlanVersion, from a date, numbered in order."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from spur.engine.metrics import ActivityKind, Aggregation
from spur.models import MetricDefinition, PlanRule, PlanVersion
from tests.api.conftest import FixedClock
from tests.api.helpers import GraphQL, global_id
from tests.api.plan_helpers import (
    ADD_VERSION,
    commission,
    counts,
    create_plan,
    new_plan,
    only_error,
    step,
)
from tests.factories import World, build_world

SEA_AT_8 = commission(
    params={"rate": "0.05", "overrides": [{"market": "SEA", "rate": "0.08"}]}
)
CURRENT = """
query($id: ID!) { node(id: $id) { ... on IncentivePlan { currentVersion { number } } } }
"""


def change(plan_id: str, **extra: Any) -> dict[str, Any]:
    """Raise SEA to 8% from 2026-12-10 (the plan starts at 5% on 12-04)."""
    return {
        "planId": plan_id,
        "effectiveFrom": "2026-12-10",
        "note": "SEA push",
        "rules": [SEA_AT_8, step()],
        **extra,
    }


async def current(
    gql: GraphQL, login: Any, clock: FixedClock, when: str, plan: dict[str, Any]
) -> int | None:
    """The number of the plan's version in force at `when`, if any."""
    clock.now = datetime.fromisoformat(when)
    token = await login("hr@example.com")  # signed in again: tokens expire
    body = await gql(CURRENT, {"id": plan["id"]}, token)
    found = body["data"]["node"]["currentVersion"]
    return None if found is None else int(found["number"])


async def add(gql: GraphQL, token: str, version: dict[str, Any]) -> dict[str, Any]:
    return await gql(ADD_VERSION, {"input": version}, token)


async def test_hr_schedules_a_change_from_a_date(
    world: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    body = await add(gql, hr, change(plan["id"]))
    assert "errors" not in body, body
    payload = body["data"]["addPlanVersion"]
    version = await PlanVersion.get(number=2)
    assert payload["version"] == {
        "id": global_id("PlanVersion", version.id),
        "number": 2,
        "effectiveFrom": "2026-12-10",
        "rules": [
            {"code": "base", "params": SEA_AT_8["params"]},
            {"code": "replies", "params": step()["params"]},
        ],
    }
    assert payload["plan"]["versions"] == [{"number": 1}, {"number": 2}]
    # Still version 1 today; version 2 from its first day, company time.
    assert payload["plan"]["currentVersion"] == {"number": 1}
    assert await current(gql, login, clock, "2026-12-09T23:59:00+08:00", plan) == 1
    # Midnight in Shanghai, still the 9th in UTC.
    assert await current(gql, login, clock, "2026-12-09T16:00:00+00:00", plan) == 2
    assert await PlanRule.filter(version_id=version.id).count() == 2


async def test_a_change_from_today_and_one_ending_the_plan(
    world: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr, new_plan(version={"effectiveFrom": "2026-12-20"}))
    today = await add(gql, hr, change(plan["id"], effectiveFrom="2026-12-04"))
    assert today["data"]["addPlanVersion"]["version"]["number"] == 2
    assert today["data"]["addPlanVersion"]["plan"]["currentVersion"] == {"number": 2}
    ending = change(
        plan["id"], effectiveFrom="2027-01-01", effectiveUntil="2027-04-01", rules=[]
    )
    body = await add(gql, hr, ending)
    assert body["data"]["addPlanVersion"]["version"]["number"] == 3
    when = "2027-03-31T23:00:00+08:00"
    assert await current(gql, login, clock, when, plan) == 3
    when = "2027-04-01T00:00:00+08:00"
    assert await current(gql, login, clock, when, plan) is None


BAD_VERSIONS: dict[str, tuple[dict[str, Any], str, str | None]] = {
    "a start in the past": (
        {"effectiveFrom": "2026-12-03"},
        "BAD_USER_INPUT",
        "effectiveFrom",
    ),
    "the first version's start": (
        {"effectiveFrom": "2026-12-04"},
        "CONFLICT",
        "effectiveFrom",
    ),
    "an end on its start": (
        {"effectiveUntil": "2026-12-10"},
        "BAD_USER_INPUT",
        "effectiveUntil",
    ),
    "a rate above 1": (
        {"rules": [commission(params={"rate": "8"})]},
        "BAD_USER_INPUT",
        "rules.0.params.rate",
    ),
    "an override without market or category": (
        {
            "rules": [
                commission(params={"rate": "0.05", "overrides": [{"rate": "0.1"}]})
            ]
        },
        "BAD_USER_INPUT",
        "rules.0.params.overrides.0",
    ),
    "a metric of another company only": (
        {"rules": [step(metric="b_only")]},
        "BAD_USER_INPUT",
        "rules.0.metric",
    ),
    "a goal rule without a metric": (
        {
            "rules": [
                {
                    "code": "goal",
                    "kind": "GOAL_COMPLETION",
                    "title": "Goal bonus",
                    "params": {"amount": "100.00"},
                }
            ]
        },
        "BAD_USER_INPUT",
        "rules.0.metric",
    ),
    "a commission on follow-ups": (
        {"rules": [commission(metric="new_customer_follow_ups")]},
        "BAD_USER_INPUT",
        "rules.0.metric",
    ),
    "a cap in tenths of a fen": (
        {"memberCap": "1.001", "capPeriod": "MONTH"},
        "BAD_USER_INPUT",
        "memberCap",
    ),
    "a plan id of another type": (
        {"planId": global_id("Team", 1)},
        "BAD_USER_INPUT",
        "planId",
    ),
    "a plan that does not exist": (
        {"planId": global_id("IncentivePlan", 999)},
        "NOT_FOUND",
        "planId",
    ),
}


@pytest.mark.parametrize("case", BAD_VERSIONS)
async def test_a_bad_version_is_refused_and_nothing_is_written(
    world: World, gql: GraphQL, login: Any, case: str
) -> None:
    other = await build_world(prefix="b-")
    await MetricDefinition.create(
        company=other.company,
        key="b_only",
        name="Theirs",
        activity_kind=ActivityKind.CUSTOMER_FOLLOW_UP,
        aggregation=Aggregation.COUNT,
    )
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    before = await counts()
    version, code, field = BAD_VERSIONS[case]
    body = await add(gql, hr, change(plan["id"], **version))
    error = only_error(body)
    assert (error["code"], error.get("field")) == (code, field), body
    assert await counts() == before


async def test_another_companys_plan_gets_no_version(
    world: World, gql: GraphQL, login: Any
) -> None:
    plan = await create_plan(gql, await login("hr@example.com"))
    await build_world(prefix="b-")
    body = await add(gql, await login("b-hr@example.com"), change(plan["id"]))
    assert only_error(body)["code"] == "NOT_FOUND"
    assert await PlanVersion.all().count() == 1


@pytest.mark.parametrize(
    "email", ["seller@example.com", "manager@example.com", "partner@example.com"]
)
async def test_only_hr_schedules_changes(
    world: World, gql: GraphQL, login: Any, email: str
) -> None:
    plan = await create_plan(gql, await login("hr@example.com"))
    body = await add(gql, await login(email), change(plan["id"]))
    assert only_error(body)["code"] == "FORBIDDEN"
    assert await PlanVersion.all().count() == 1


async def test_changes_sent_at_once_are_numbered_one_after_the_other(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    plan = await create_plan(gql, hr)
    days = ["2026-12-10", "2026-12-11", "2026-12-12", "2026-12-13"]
    bodies = await asyncio.gather(
        *(add(gql, hr, change(plan["id"], effectiveFrom=day)) for day in days)
    )
    numbers = sorted(
        b["data"]["addPlanVersion"]["version"]["number"]
        for b in bodies
        if not b.get("errors")
    )
    conflicts = [b for b in bodies if b.get("errors")]
    assert all(only_error(b)["code"] == "CONFLICT" for b in conflicts)
    assert numbers == list(range(2, 2 + len(numbers)))
    stored = await PlanVersion.all().order_by("number")
    assert [v.number for v in stored] == list(range(1, 2 + len(numbers)))
    assert len({v.effective_from for v in stored}) == len(stored)
