"""Templates and cycles: HR sets them up, checked before anything is stored;
managers and HR read them."""

from __future__ import annotations

from typing import Any

import pytest

from spur.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalTemplate,
    Role,
)
from tests.api.appraisal_factories import (
    OPEN,
    RATED,
    TEMPLATE,
    Tokens,
    answer,
    appraisal_of,
    measured_dimensions,
    metrics,
    open_cycle,
    rated_cycle,
    submit,
    template,
    to_manager_review,
    tokens,
)
from tests.api.helpers import GraphQL, error_codes, global_id
from tests.factories import World, member

READ_TEMPLATE = """query($id: ID!) { node(id: $id) { ... on AppraisalTemplate {
  name bonusBase { amount currency } processRewardMin processRewardAmount { amount }
  bands { minimum grade multiplier }
  dimensions { code name kind weight metric perMetric divisor perWorkingDay scale }
} } }"""
CYCLES = """query { appraisalCycles(first: 10) { edges { node {
  id name status periodKind period { label start end } template { name }
} } } }"""
IN_CYCLE = """query($cycleId: ID!, $status: AppraisalStatus) {
  cycleAppraisals(cycleId: $cycleId, status: $status, first: 10) {
    edges { node { member { name } status } } } }"""
PENDING = """query($teamId: ID) { pendingAppraisals(teamId: $teamId, first: 10) {
  edges { node { member { name } status } } } }"""


@pytest.fixture
async def people(world: World, login: Any) -> Tokens:
    return await tokens(login)


async def test_a_template_as_created_and_read_back(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    await metrics(world)
    created = await template(
        gql,
        people.hr,
        [*measured_dimensions(), RATED],
        bonusBase="10000.00",
        processRewardMin="85",
        processRewardAmount="800.00",
        titles=[{"language": "zh-CN", "text": "季度考核"}],
    )
    found = answer(await gql(READ_TEMPLATE, {"id": created}, people.manager), "node")
    assert found["name"] == "Quarterly"
    assert found["bonusBase"] == {"amount": "10000.00", "currency": "CNY"}
    assert (found["processRewardMin"], found["processRewardAmount"]) == (
        85.0,
        {"amount": "800.00"},
    )
    assert found["bands"] == [
        {"minimum": "90", "grade": "EXCELLENT", "multiplier": "1.20"},
        {"minimum": "80", "grade": "GOOD", "multiplier": "1.00"},
        {"minimum": "70", "grade": "QUALIFIED", "multiplier": "0.90"},
        {"minimum": "0", "grade": "UNQUALIFIED", "multiplier": "0.50"},
    ]
    hours, sales, rate, rated = found["dimensions"]
    assert hours == {
        "code": "hours",
        "name": "Platform hours",
        "kind": "PROCESS",
        "weight": "0.2",
        "metric": "platform_minutes",
        "perMetric": None,
        "divisor": "60",
        "perWorkingDay": True,
        "scale": {"target": "4"},
    }
    assert (rate["metric"], rate["perMetric"]) == ("replies", "inquiries")
    assert sales["scale"] == {
        "points": [["0", "0"], ["100000", "60"], ["300000", "100"]]
    }
    assert rated | {"name": None} == {
        "code": "overall",
        "name": None,
        "kind": "RATED",
        "weight": "1",
        "metric": None,
        "perMetric": None,
        "divisor": None,
        "perWorkingDay": False,
        "scale": None,
    }
    # HR reads it too, in Chinese when that is their language; a salesperson
    # reads no template.
    body = await gql(READ_TEMPLATE, {"id": created}, people.seller)
    assert body == {"data": {"node": None}}
    hr_zh = await member(
        world.company, None, "hr.zh@example.com", Role.HR_ADMIN, "zh-CN"
    )
    zh = answer(
        await gql(READ_TEMPLATE, {"id": created}, await login(hr_zh.email)), "node"
    )
    assert (zh["name"], zh["dimensions"][0]["name"]) == ("季度考核", "平台时长")


def bad(dimension: dict[str, Any], **changes: Any) -> list[dict[str, Any]]:
    return [dimension | changes]


HOURS = measured_dimensions()[0]


TEMPLATE_REFUSALS: list[tuple[dict[str, Any], str]] = [
    ({"dimensions": []}, "dimensions"),
    ({"name": " "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"dimensions": [RATED, RATED]}, "dimensions.1.code"),
    ({"dimensions": bad(RATED, code="no spaces")}, "dimensions.0.code"),
    ({"dimensions": bad(RATED, weight="0")}, "dimensions.0.weight"),
    ({"dimensions": bad(RATED, weight="0.00001")}, "dimensions.0.weight"),
    ({"dimensions": bad(RATED, metric="replies")}, "dimensions.0"),
    ({"dimensions": bad(RATED, scale={"target": "1"})}, "dimensions.0"),
    ({"dimensions": bad(HOURS, metric=None)}, "dimensions.0.metric"),
    ({"dimensions": bad(HOURS, metric="nope")}, "dimensions.0.metric"),
    ({"dimensions": bad(HOURS, metric="m" * 300)}, "dimensions.0.metric"),
    ({"dimensions": bad(HOURS, perMetric="nope")}, "dimensions.0.perMetric"),
    ({"dimensions": bad(HOURS, divisor="0")}, "dimensions.0.divisor"),
    ({"dimensions": bad(HOURS, scale=None)}, "dimensions.0.scale"),
    (
        {"dimensions": bad(HOURS, scale={"target": "-1"})},
        "dimensions.0.scale.target",
    ),
    ({"dimensions": bad(HOURS, scale=[1, 2])}, "dimensions.0.scale"),
    (
        {"dimensions": bad(HOURS, scale={"points": [["1", "0"]]})},
        "dimensions.0.scale.points",
    ),
    ({"bands": [{"minimum": "50", "grade": "GOOD", "multiplier": "1"}]}, "bands"),
    ({"bands": "EXCELLENT"}, "bands"),
    ({"bonusBase": "-1.00"}, "bonusBase"),
    ({"bonusBase": "10.001"}, "bonusBase"),
    ({"processRewardMin": "90"}, "processRewardAmount"),
    ({"processRewardMin": "101", "processRewardAmount": "1"}, "processRewardMin"),
    ({"titles": [{"language": "fr", "text": "x"}]}, "titles.0.language"),
    ({"dimensions": bad(RATED, name="nul\x00")}, "dimensions.0.name"),
]


async def test_an_unusable_template_is_refused_naming_the_field(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    await metrics(world)
    for spec, field in TEMPLATE_REFUSALS:
        full = {"name": "Quarterly", "dimensions": [HOURS, RATED]} | spec
        body = await gql(TEMPLATE, {"input": full}, people.hr)
        assert error_codes(body) == ["BAD_USER_INPUT"], (spec, body)
        assert body["errors"][0]["extensions"]["field"] == field, spec
    assert await AppraisalTemplate.all().count() == 0
    assert await AppraisalDimension.all().count() == 0


async def test_templates_are_hr_work_and_names_unique(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    spec = {"input": {"name": "Quarterly", "dimensions": [RATED]}}
    for token in (people.manager, people.seller):
        assert error_codes(await gql(TEMPLATE, spec, token)) == ["FORBIDDEN"]
    answer(await gql(TEMPLATE, spec, people.hr), "createAppraisalTemplate")
    assert error_codes(await gql(TEMPLATE, spec, people.hr)) == ["CONFLICT"]
    assert await AppraisalTemplate.all().count() == 1


# --- cycles ---------------------------------------------------------------------


async def test_a_cycle_for_every_salesperson_by_default(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    created = await template(gql, people.hr, [RATED])
    spec = {"templateId": created, "name": "2026-Q4", "periodStart": "2026-10-01"}
    body = await gql(OPEN, {"input": spec}, people.hr)
    opened = answer(body, "openAppraisalCycle")
    assert opened["appraisals"] == 3  # seller, teammate, outsider
    assert opened["cycle"] | {"id": None} == {
        "id": None,
        "name": "2026-Q4",
        "status": "OPEN",
    }
    members = (
        await Appraisal.all().order_by("member_id").values_list("member_id", flat=True)
    )
    assert members == sorted([world.seller.id, world.teammate.id, world.outsider.id])


CYCLE_REFUSALS: list[tuple[dict[str, Any], str, str]] = [
    ({"periodStart": "2026-11-01"}, "BAD_USER_INPUT", "periodStart"),
    (
        {"periodKind": "WEEK", "periodStart": "2026-12-01"},
        "BAD_USER_INPUT",
        "periodStart",
    ),
    ({"name": ""}, "BAD_USER_INPUT", "name"),
    ({"memberIds": []}, "BAD_USER_INPUT", "memberIds"),
    ({"memberIds": ["nope"]}, "BAD_USER_INPUT", "memberIds"),
    (
        {"templateId": global_id("AppraisalTemplate", 999)},
        "NOT_FOUND",
        "templateId",
    ),
]


async def test_an_unusable_cycle_is_refused(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    created = await template(gql, people.hr, [RATED])
    spec = {"templateId": created, "name": "2026-Q4", "periodStart": "2026-10-01"}
    for changes, code, field in CYCLE_REFUSALS:
        body = await gql(OPEN, {"input": spec | changes}, people.hr)
        assert error_codes(body) == [code], (changes, body)
        assert body["errors"][0]["extensions"]["field"] == field, changes
    assert await AppraisalCycle.all().count() == 0


async def test_cycle_members_are_of_the_company_and_names_unique(
    world: World, gql: GraphQL, people: Tokens
) -> None:
    created = await template(gql, people.hr, [RATED])
    partner = global_id("Member", world.partner.id)
    spec = {
        "templateId": created,
        "name": "2026-Q4",
        "periodStart": "2026-10-01",
        "memberIds": [partner],
    }
    assert error_codes(await gql(OPEN, {"input": spec}, people.hr)) == ["NOT_FOUND"]
    await open_cycle(gql, people.hr, created, [world.seller], name="2026-Q4")
    body = await open_cycle_raw(gql, people.hr, created, "2026-Q4")
    assert error_codes(body) == ["CONFLICT"]
    assert error_codes(await open_cycle_raw(gql, people.manager, created, "x")) == [
        "FORBIDDEN"
    ]
    assert await AppraisalCycle.all().count() == 1


async def open_cycle_raw(
    gql: GraphQL, token: str, template_id: str, name: str
) -> dict[str, Any]:
    spec = {"templateId": template_id, "name": name, "periodStart": "2026-10-01"}
    return await gql(OPEN, {"input": spec}, token)


async def test_cycles_and_pending_reviews_as_managers_and_hr_read_them(
    world: World, gql: GraphQL, people: Tokens, login: Any
) -> None:
    members = [world.seller, world.teammate, world.outsider]
    await rated_cycle(gql, people, members)
    await to_manager_review(gql, people, await appraisal_of(world.seller))
    eu = await login("eu@example.com")
    answer(
        await submit(gql, eu, await appraisal_of(world.outsider)), "submitSelfReview"
    )

    listed = answer(await gql(CYCLES, token=people.manager), "appraisalCycles")
    [cycle] = [edge["node"] for edge in listed["edges"]]
    assert cycle | {"id": None} == {
        "id": None,
        "name": "2026-Q4 appraisal",
        "status": "OPEN",
        "periodKind": "QUARTER",
        "period": {
            "label": "2026-Q4",
            "start": "2026-10-01T00:00:00+08:00",
            "end": "2027-01-01T00:00:00+08:00",
        },
        "template": {"name": "Rated 2026-Q4 appraisal"},
    }

    # The manager sees the team's appraisals only; HR all of them.
    async def in_cycle(token: str, status: str | None = None) -> list[Any]:
        variables = {"cycleId": cycle["id"], "status": status}
        found = answer(await gql(IN_CYCLE, variables, token), "cycleAppraisals")
        return [e["node"] for e in found["edges"]]

    assert await in_cycle(people.manager) == [
        {"member": {"name": "Seller"}, "status": "MANAGER_REVIEW"},
        {"member": {"name": "Mate"}, "status": "SELF_REVIEW"},
    ]
    assert await in_cycle(people.hr, "MANAGER_REVIEW") == [
        {"member": {"name": "Seller"}, "status": "MANAGER_REVIEW"},
        {"member": {"name": "Eu"}, "status": "MANAGER_REVIEW"},
    ]
    pending = answer(await gql(PENDING, token=people.manager), "pendingAppraisals")
    assert [e["node"]["member"]["name"] for e in pending["edges"]] == ["Seller"]
    pending = answer(await gql(PENDING, token=people.hr), "pendingAppraisals")
    assert [e["node"]["member"]["name"] for e in pending["edges"]] == ["Seller", "Eu"]
    other_team = {"teamId": global_id("Team", world.other_team.id)}
    body = await gql(PENDING, other_team, people.manager)
    assert error_codes(body) == ["FORBIDDEN"]
    for query in (CYCLES, PENDING):
        assert error_codes(await gql(query, token=people.seller)) == ["FORBIDDEN"]
    body = await gql(IN_CYCLE, {"cycleId": cycle["id"]}, people.seller)
    assert error_codes(body) == ["FORBIDDEN"]
