"""Data for a running server, written from the test process.

The server migrates its database on start; the test then opens its own
Tortoise context on the same URL, writes, and closes it again, so the two
processes never hold the (SQLite) database at the same time for long.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from tortoise.context import TortoiseContext

from spur.engine.periods import PeriodKind
from spur.models import Goal, GoalReward, Role
from spur.models.config import tortoise_config
from tests.factories import build_world, member

T = TypeVar("T")

SALES_TARGET = Decimal("1000.00")
SALES_BONUS = Decimal("200.00")
TEAM_TARGET = Decimal(40)


@dataclass(frozen=True)
class Ids:
    """Primary keys of the seeded world, for global ids and assertions."""

    company: int
    team: int
    other_team: int
    seller: int
    manager: int
    eu_manager: int
    weekly_goal: int
    sales_goal: int
    team_goal: int


async def with_database(database_url: str, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` in a Tortoise context of its own on `database_url`."""
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(database_url))
        return await work()


async def seed_world(database_url: str) -> Ids:
    """tests.factories' company, plus a weekly sales goal for the seller, a
    weekly follow-up goal for the seller's team and a manager for Europe."""
    return await with_database(database_url, _build)


async def _build() -> Ids:
    since = date.today() - timedelta(days=60)
    world = await build_world(since=since)
    sales_goal = await Goal.create(
        company=world.company,
        member=world.seller,
        metric=world.sales,
        title="1000 CNY of orders",
        period_kind=PeriodKind.WEEK,
        target=SALES_TARGET,
        active_from=since,
    )
    await GoalReward.create(
        goal=sales_goal, kind="CASH", title="Weekly sales bonus", amount=SALES_BONUS
    )
    team_goal = await Goal.create(
        company=world.company,
        team=world.team,
        metric=world.follow_ups,
        title="Team: 40 new-customer follow-ups",
        period_kind=PeriodKind.WEEK,
        target=TEAM_TARGET,
        active_from=since,
    )
    eu_manager = await member(
        world.company, world.other_team, "eu.manager@example.com", Role.MANAGER
    )
    world.other_team.manager = eu_manager
    await world.other_team.save()
    return Ids(
        company=world.company.id,
        team=world.team.id,
        other_team=world.other_team.id,
        seller=world.seller.id,
        manager=world.manager.id,
        eu_manager=eu_manager.id,
        weekly_goal=world.weekly.id,
        sales_goal=sales_goal.id,
        team_goal=team_goal.id,
    )
