"""The client screens cost a fixed number of SQL statements, however many goals.

Statements are counted from Tortoise's `tortoise.db_client` logger, which logs
every statement it sends once at DEBUG as ("%s: %s", sql, values). Only those
sent on behalf of the request count: a context variable is set around it, and
tasks the request starts (DataLoader batches) inherit it, while the outbox
relay's tasks, started with the app, do not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import aclosing
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from strawberry.relay import GlobalID

from spur.api.auth import load_viewer
from spur.api.context import Context
from spur.engine.periods import PeriodKind
from spur.models import (
    AchievementEvent,
    EventKind,
    Goal,
    LedgerEntry,
    Member,
    RewardKind,
    RewardStatus,
)
from spur.resolvers.loaders import Loaders
from tests.api.conftest import NOW, document
from tests.api.helpers import GraphQL, follow_up, goal_id, order, record, recorded
from tests.factories import World

IN_REQUEST: ContextVar[bool] = ContextVar("in_request", default=False)
KINDS = list(PeriodKind)


class StatementLog(logging.Handler):
    """Collects the SQL statements sent while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s" and IN_REQUEST.get():
            assert isinstance(record.args, tuple)
            self.statements.append(str(record.args[0]))


@pytest.fixture
def sql() -> Iterator[StatementLog]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = StatementLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def statements(
    sql: StatementLog, gql: GraphQL, query: str, variables: Any, token: str
) -> int:
    """How many statements one request sends (its answer must be clean)."""
    sql.statements.clear()
    marker = IN_REQUEST.set(True)
    try:
        body = await gql(query, variables, token)
    finally:
        IN_REQUEST.reset(marker)
    assert "errors" not in body, body
    return len(sql.statements)


async def more_goals(world: World, count: int, team_too: bool = True) -> list[Goal]:
    """`count` more goals for the seller (and the team), of every period kind."""
    goals = []
    for n in range(count):
        for_team = team_too and n % 3 == 0
        goals.append(
            await Goal.create(
                company=world.company,
                member=None if for_team else world.seller,
                team=world.team if for_team else None,
                metric=world.sales if n % 2 else world.follow_ups,
                title=f"Goal {n}",
                period_kind=KINDS[n % len(KINDS)],
                target=Decimal(10 + n),
                active_from=date(2026, 1, 1),
            )
        )
    return goals


async def children(world: World, parent: Goal, count: int) -> None:
    for n in range(count):
        await Goal.create(
            company=world.company,
            member=world.seller,
            metric=world.follow_ups,
            parent=parent,
            title=f"Part {n}",
            period_kind=PeriodKind.DAY,
            target=Decimal(1),
            active_from=date(2026, 12, 1),
        )


async def some_activity(gql: GraphQL, token: str, prefix: str) -> None:
    for n in range(10):
        recorded(await record(gql, token, follow_up(f"{prefix}{n}")))
    recorded(await record(gql, token, order(f"{prefix}o", "100.00")))


async def test_home_screen_costs_the_same_for_1_or_15_goals(
    world: World, gql: GraphQL, login: Any, sql: StatementLog
) -> None:
    token = await login("seller@example.com")
    await some_activity(gql, token, "a")
    home = document("HomeScreen")
    one = await statements(sql, gql, home, {}, token)
    await more_goals(world, 14)
    await some_activity(gql, token, "b")
    body = await gql(home, {}, token)
    assert len(body["data"]["viewer"]["goals"]["edges"]) == 15
    many = await statements(sql, gql, home, {}, token)
    assert many == one, sql.statements
    # Sign-in (2), viewer, team, goals, their metrics, their progress,
    # earnings and rewards: one statement each.
    assert one <= 9, sql.statements


async def test_goal_detail_costs_the_same_for_3_or_15_children(
    world: World, gql: GraphQL, login: Any, sql: StatementLog
) -> None:
    token = await login("seller@example.com")
    parent, other = await more_goals(world, 2, team_too=False)
    await children(world, parent, 3)
    await children(world, other, 15)
    await some_activity(gql, token, "a")
    detail = document("GoalDetail")
    few = await statements(sql, gql, detail, {"id": goal_id(parent)}, token)
    many = await statements(sql, gql, detail, {"id": goal_id(other)}, token)
    assert many == few, sql.statements
    # Sign-in (2), the goal, its owner, metric, progress, children and
    # the children's progress.
    assert few <= 8, sql.statements
    child = await Goal.filter(parent_id=other.id).first()
    assert child is not None
    from_child = await statements(sql, gql, detail, {"id": goal_id(child)}, token)
    assert from_child <= few + 1, sql.statements


async def replay_statements(
    app: Any, sql: StatementLog, email: str, query: str, variables: Any, count: int
) -> int:
    """Statements sent while a subscription replays `count` stored events."""
    member = await Member.get(email=email)
    tokens = app.state.services.tokens
    viewer = await load_viewer(tokens.decode_access(tokens.issue_access(member)[0]))
    context = Context(
        request=None,  # type: ignore[arg-type]
        response=None,
        services=app.state.services,
        loaders=Loaders(),
        viewer_or_none=viewer,
    )
    schema = app.state.graphql.schema
    sql.statements.clear()
    marker = IN_REQUEST.set(True)
    try:
        stream = await schema.subscribe(
            query, variable_values=variables, context_value=context
        )
        async with aclosing(stream):
            for _ in range(count):
                result = await anext(stream)
                assert not result.errors, result.errors
    finally:
        IN_REQUEST.reset(marker)
    return len(sql.statements)


async def stored_events(world: World, app: Any, count: int) -> None:
    """`count` reward events of the seller, each for a goal and reward of its
    own, stamped by the relay: nothing a loader could share between them."""
    for n in range(count):
        goal = await Goal.create(
            company=world.company,
            member=world.seller,
            metric=world.follow_ups,
            title=f"Goal {n}",
            period_kind=PeriodKind.WEEK,
            target=Decimal(5),
            active_from=date(2026, 1, 5),
        )
        entry = await LedgerEntry.create(
            company=world.company,
            member=world.seller,
            key=f"test:{n}",
            kind=RewardKind.CASH,
            title=f"Bonus {n}",
            amount=Decimal("10.00"),
            currency="CNY",
            status=RewardStatus.APPROVED,
            goal=goal,
            period_start=date(2026, 11, 30),
            rule_ref=f"goal:{goal.id}",
            earned_at=NOW,
        )
        await AchievementEvent.create(
            company=world.company,
            kind=EventKind.REWARD_EARNED,
            member=world.seller,
            team=world.team,
            goal=goal,
            ledger_entry=entry,
            period_start=date(2026, 11, 30),
            dedupe_key=f"test:{n}",
            message="m",
            team_message="t",
            occurred_at=NOW,
        )
    await app.state.services.relay.drain()


@pytest.mark.parametrize("name", ["TeamFeed", "OnAchievement"])
async def test_a_feed_replay_costs_the_same_for_3_or_30_events(
    world: World, app: Any, sql: StatementLog, name: str
) -> None:
    await stored_events(world, app, 30)
    variables: dict[str, Any] = {"after": "0"}
    email = "seller@example.com"
    if name == "TeamFeed":
        variables["teamId"] = str(GlobalID("Team", str(world.team.id)))
        email = "manager@example.com"
    few = await replay_statements(app, sql, email, document(name), variables, 3)
    many = await replay_statements(app, sql, email, document(name), variables, 30)
    assert many == few, sql.statements
    # The company head, a page of events, then members, goals, rewards and
    # progress for the whole page.
    assert few <= 7, sql.statements
