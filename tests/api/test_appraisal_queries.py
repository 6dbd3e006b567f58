"""The appraisal lists cost a fixed number of SQL statements, however long."""

from __future__ import annotations

from typing import Any

from spur.engine.appraisal import AppraisalStatus
from spur.models import Appraisal
from tests.api.appraisal_factories import stored_appraisals
from tests.api.conftest import document
from tests.api.helpers import GraphQL, global_id

# `sql` is the statement-counting fixture the query-count tests use.
from tests.api.test_query_counts import StatementLog, sql, statements  # noqa: F401
from tests.factories import World

FULL = """query { viewer { appraisals(first: 10) { edges { node {
  id version isCurrent status score grade bonusMultiplier processScore resultScore
  selfComment managerComment finalizedAt correctionReason supersedes { id }
  cycle { id name periodKind status period { label } }
  member { name team { name } }
  scores { dimension code kind weight value selfScore score applies comment }
  rewards { id kind amount { amount currency } status }
} } pageInfo { hasNextPage endCursor } } } }"""
CYCLE = """query($cycleId: ID!) { cycleAppraisals(cycleId: $cycleId, first: 10) {
  edges { node { member { name team { name } } score grade
    cycle { name template { name dimensions { code metric } } }
    scores { dimension weight score } rewards { amount { amount } } } } } }"""


async def test_my_appraisals_cost_the_same_for_1_or_4(
    world: World,
    gql: GraphQL,
    login: Any,
    sql: StatementLog,  # noqa: F811
) -> None:
    await stored_appraisals(world, world.seller, 1)
    await stored_appraisals(world, world.teammate, 4)
    seller, mate = await login("seller@example.com"), await login("mate@example.com")
    counts = []
    for query in (document("MyAppraisals"), FULL):
        one = await statements(sql, gql, query, {}, seller)
        four = await statements(sql, gql, query, {}, mate)
        assert one == four, sql.statements
        counts.append(one)
    # Sign-in (2), the viewer, their appraisals, cycles, scores, dimensions;
    # the full page adds teams and reward lines.
    assert counts == [7, 9], sql.statements


async def test_a_cycles_appraisals_cost_the_same_for_1_or_4(
    world: World,
    gql: GraphQL,
    login: Any,
    sql: StatementLog,  # noqa: F811
) -> None:
    hr = await login("hr@example.com")
    [one_row] = await stored_appraisals(world, world.seller, 1)
    [four_row] = await stored_appraisals(world, world.teammate, 1)
    for other in (world.outsider, world.manager, world.hr):
        await Appraisal.create(
            company=world.company,
            cycle_id=four_row.cycle_id,
            member=other,
            status=AppraisalStatus.DRAFT,
        )
    one_cycle = {"cycleId": global_id("AppraisalCycle", one_row.cycle_id)}
    four_cycle = {"cycleId": global_id("AppraisalCycle", four_row.cycle_id)}
    one = await statements(sql, gql, CYCLE, one_cycle, hr)
    four = await statements(sql, gql, CYCLE, four_cycle, hr)
    assert one == four, sql.statements
