"""How long a quarterly appraisal cycle for 1,000 members takes, step by step.

    .venv/bin/python -m bench.appraisal_cycle [--database sqlite|postgres]
        [--members N]

A company of N salespeople in ten teams has a quarter of stored metric
totals (bulk-inserted: they are what a cycle reads) and the demo's quarterly
template. Timed through the resolvers behind the mutations: (a) opening the
cycle with every metric dimension measured, (b) self reviews then the
managers' ratings, one appraisal at a time as people would send them, and
(c) finalising the cycle in batches as finalizeAppraisalCycle does (bonus and
process entries, events). The baseline, in the same run and database, is the
bare query work for the same rows: one SELECT of the members' totals for the
period, and bulk INSERTs of N appraisal rows and their score rows.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from bench.common import scratch_database, table
from spur.api.context import Viewer
from spur.demo.appraisals import quarterly_template, ratings
from spur.demo.catalogue import METRICS
from spur.engine.periods import PeriodKind
from spur.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalScore,
    Company,
    Member,
    MetricDefinition,
    MetricTotal,
    Role,
    Team,
)
from spur.models.config import tortoise_config
from spur.models.database import migrate_database
from spur.resolvers.appraisal import review, submit_self_review
from spur.resolvers.appraisal_admin import create_template
from spur.resolvers.appraisal_cycle import (
    CycleRequest,
    finalize_cycle,
    open_cycle,
    start_self_reviews,
)

TZ = ZoneInfo("Asia/Shanghai")
QUARTER = date(2026, 7, 1)
NOW = datetime(2026, 10, 12, 10, 0, tzinfo=TZ)
TEAMS = 10
SEED = 2026
NO_LOGIN = "!"  # no one signs in: the resolvers are called directly


@dataclass(frozen=True)
class World:
    """The company's HR admin, its managers by team and its salespeople."""

    hr: Viewer
    managers: dict[int, Viewer]
    sellers: list[tuple[int, int]]  # (member id, team id)

    def seller(self, member_id: int, team_id: int) -> Viewer:
        return replace(
            self.hr, member_id=member_id, role=Role.SALESPERSON, team_id=team_id
        )


async def build(count: int) -> World:
    """A company of `count` salespeople with a quarter of stored totals."""
    company = await Company.create(name="Bench", timezone=TZ.key, currency="CNY")
    teams = [
        await Team.create(company=company, name=f"Team {n}", market=f"M{n}")
        for n in range(TEAMS)
    ]
    hr = await Member.create(
        company=company,
        email="hr@bench.test",
        name="HR",
        role=Role.HR_ADMIN,
        password_hash=NO_LOGIN,
    )
    managers: list[int] = []
    for n, team in enumerate(teams):
        manager = await Member.create(
            company=company,
            team=team,
            email=f"manager{n}@bench.test",
            name=f"Manager {n}",
            role=Role.MANAGER,
            password_hash=NO_LOGIN,
        )
        await Team.filter(id=team.id).update(manager_id=manager.id)
        managers.append(manager.id)
    await Member.bulk_create(
        [
            Member(
                company=company,
                team=teams[n % TEAMS],
                email=f"seller{n}@bench.test",
                name=f"Seller {n}",
                role=Role.SALESPERSON,
                password_hash=NO_LOGIN,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    sellers = await Member.filter(role=Role.SALESPERSON).order_by("id")
    await _store_totals(company.id, [m.id for m in sellers])
    pairs = [(m.id, m.team_id or 0) for m in sellers]
    return _world(company, hr.id, dict(zip(managers, teams, strict=True)), pairs)


def _world(
    company: Company,
    hr_id: int,
    teams: dict[int, Team],
    sellers: list[tuple[int, int]],
) -> World:
    hr = Viewer(
        member_id=hr_id,
        company_id=company.id,
        role=Role.HR_ADMIN,
        team_id=None,
        managed_team_ids=frozenset(),
        language="zh-CN",
        timezone=TZ,
        currency="CNY",
        token_expires_at=0.0,
    )
    managers = {
        team.id: replace(
            hr,
            member_id=manager_id,
            role=Role.MANAGER,
            team_id=team.id,
            managed_team_ids=frozenset({team.id}),
        )
        for manager_id, team in teams.items()
    }
    return World(hr, managers, sellers)


async def _store_totals(company_id: int, member_ids: list[int]) -> None:
    """A quarter's totals of every demo metric, at a salesperson's pace."""
    await MetricDefinition.bulk_create(
        [
            MetricDefinition(
                company_id=company_id,
                key=m.key,
                name=m.name,
                unit=m.unit,
                activity_kind=m.spec.activity_kind,
                aggregation=m.spec.aggregation,
            )
            for m in METRICS
        ]
    )
    ids = dict(await MetricDefinition.all().values_list("key", "id"))
    rng = random.Random(SEED)
    rows = [
        MetricTotal(
            company_id=company_id,
            metric_id=ids[key],
            scope="member",
            member_id=member,
            subject_id=member,
            period_kind=PeriodKind.QUARTER,
            period_start=QUARTER,
            value=value,
        )
        for member in member_ids
        for key, value in _quarter(rng).items()
    ]
    await MetricTotal.bulk_create(rows, batch_size=2000)


def _quarter(rng: random.Random) -> dict[str, Decimal]:
    inquiries = rng.randint(120, 260)
    replies = int(inquiries * rng.uniform(0.8, 1.0))
    orders = rng.randint(5, 45)
    return {
        "platform_minutes": Decimal(rng.randint(1500, 6000)),
        "new_customer_follow_ups": Decimal(rng.randint(40, 180)),
        "customer_follow_ups": Decimal(rng.randint(80, 300)),
        "inquiries_received": Decimal(inquiries),
        "inquiry_replies": Decimal(replies),
        "inquiry_replies_within_60": Decimal(int(replies * rng.uniform(0.4, 0.95))),
        "inquiry_reply_minutes": Decimal(replies * rng.randint(20, 300)),
        "orders": Decimal(orders),
        "sales_amount": Decimal(orders * rng.randint(8000, 25000)),
    }


async def run_cycle(world: World) -> tuple[float, float, float, int]:
    """Seconds to open, review and finalise the cycle; appraisals finalised."""
    template = await create_template(world.hr, quarterly_template(Decimal(1)))
    ids = [member for member, _ in world.sellers]
    request = CycleRequest(
        template.id, "2026-Q3 appraisal", PeriodKind.QUARTER, QUARTER, ids
    )
    start = time.perf_counter()
    cycle, _ = await open_cycle(world.hr, request)
    opened = time.perf_counter() - start

    start = time.perf_counter()
    await _review_all(world, cycle.id)
    reviewed = time.perf_counter() - start

    start = time.perf_counter()
    done = await finalize_cycle(world.hr, cycle.id, NOW)
    finalised = time.perf_counter() - start
    return opened, reviewed, finalised, done.finalized


async def _review_all(world: World, cycle_id: int) -> None:
    await start_self_reviews(world.hr, cycle_id, NOW)
    appraisal_of = dict(
        await Appraisal.filter(cycle_id=cycle_id).values_list("member_id", "id")
    )
    rng = random.Random(SEED)
    for member, team in world.sellers:
        level = rng.randint(55, 98)
        appraisal = appraisal_of[member]
        own = world.seller(member, team)
        await submit_self_review(own, appraisal, ratings(rng, level + 3), None, NOW)
        manager = world.managers[team]
        await review(manager, appraisal, ratings(rng, level), None, NOW)


async def baseline(world: World) -> float:
    """Seconds for the bare reads and writes of the same rows."""
    template_id = (await AppraisalCycle.get(name="2026-Q3 appraisal")).template_id
    dimensions = await AppraisalDimension.filter(template_id=template_id)
    cycle = await AppraisalCycle.create(
        company_id=world.hr.company_id,
        template_id=template_id,
        name="baseline",
        period_kind=PeriodKind.QUARTER,
        period_start=QUARTER,
    )
    ids = [member for member, _ in world.sellers]
    start = time.perf_counter()
    async with in_transaction():
        await MetricTotal.filter(
            scope="member",
            subject_id__in=ids,
            period_kind=PeriodKind.QUARTER,
            period_start=QUARTER,
        ).values_list("subject_id", "metric_id", "value")
        await Appraisal.bulk_create(
            [
                Appraisal(company_id=cycle.company_id, cycle_id=cycle.id, member_id=i)
                for i in ids
            ],
            batch_size=1000,
        )
        stored = await Appraisal.filter(cycle_id=cycle.id).values_list("id", flat=True)
        await AppraisalScore.bulk_create(
            [
                AppraisalScore(appraisal_id=a, dimension_id=d.id)
                for a in stored
                for d in dimensions
            ],
            batch_size=2000,
        )
    return time.perf_counter() - start


async def main(kind: str, count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            await migrate_database(url)
            async with TortoiseContext() as ctx:
                await ctx.init(config=tortoise_config(url))
                world = await build(count)
                opened, reviewed, finalised, done = await run_cycle(world)
                base = await baseline(world)
    whole = opened + reviewed + finalised
    print(
        table(
            f"Appraisal cycle on {kind}: {count} members, {done} finalised "
            f"({datetime.now(UTC):%Y-%m-%d})",
            ["what", "seconds", "x baseline"],
            [
                ["(a) open the cycle, metrics measured", opened, opened / base],
                ["(b) self reviews + manager ratings", reviewed, reviewed / base],
                ["(c) finalise in batches", finalised, finalised / base],
                [
                    "(a) + (c): fill and finalise",
                    opened + finalised,
                    (opened + finalised) / base,
                ],
                ["all three", whole, whole / base],
                ["baseline: SELECT totals + bulk INSERT rows", base, 1.0],
            ],
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--members", type=int, default=1000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database, arguments.members))
