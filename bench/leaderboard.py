"""Top-100 and my-rank on leaderboards of 10^4, 10^5 and 10^6 members.

    .venv/bin/python -m bench.leaderboard [--database sqlite|postgres]
        [--sizes 10000,100000,1000000] [--runs 30]

One company, one metric, one weekly company board per size (members 1..N of
one member table). Members and scores are seeded by bulk SQL, not through
recordActivity, then the count trees are built by `rebuild_nodes`. Values
are spread over the board with pairs of ties.

Timed through the resolvers the GraphQL fields call, each against a bare
indexed SQL read of the same rows in the same run and connection:

- top-100 (`entries(first: 100)`): `leaderboard.top`, against one SELECT of
  the board's first 100 rows in index order joined to the members' names;
- my-rank (`viewerEntry`): `leaderboard.entry_of` (the member's row and its
  rank from the tree) for members spread from the top to the bottom,
  against one SELECT of the member's row by its unique key. The usual
  `1 + COUNT(*) WHERE value > mine` is shown beside it: it grows with the
  rank, the tree does not.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext

from bench.common import scratch_database, table
from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import PeriodKind, period_starting
from spur.models import Company, MetricDefinition
from spur.models.config import tortoise_config
from spur.models.database import migrate_database
from spur.resolvers import leaderboard
from spur.resolvers.leaderboard import BoardView
from spur.resolvers.scores import rebuild_nodes

TZ = ZoneInfo("Asia/Shanghai")
FIRST_WEEK = date(2026, 1, 5)
REACHED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
SEED = 2026
PROBES = 30
BIG_PRIME = 1_000_003


async def seed_members(conn: BaseDBAsyncClient, count: int) -> None:
    """Members 1..count (a fresh database numbers them so), in one statement."""
    columns = (
        "company_id, email, name, role, password_hash, language, is_active, created_at"
    )
    row = "1, 'm' || n || '@bench.test', 'Member ' || n, 'SALESPERSON', '!', 'en'"
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(
            f"INSERT INTO member ({columns}) SELECT {row}, TRUE, now() "  # noqa: S608
            "FROM generate_series(1, $1) AS n",
            [count],
        )
        return
    await conn.execute_query(
        f"INSERT INTO member ({columns}) WITH RECURSIVE seq(n) AS "  # noqa: S608
        "(SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) "
        f"SELECT {row}, 1, ? FROM seq",
        [count, REACHED],
    )


async def seed_board(
    conn: BaseDBAsyncClient, metric_id: int, start: date, n: int
) -> None:
    """Scores of members 1..n on the company board of the week at `start`.

    Values are a permutation of the members halved (pairs tie), in units.
    """
    value = f"(((CAST(n AS BIGINT) * 7919) % {BIG_PRIME}) / 2) * 10000"
    head = (
        "INSERT INTO leaderboard_score (company_id, metric_id, period_kind, "
        "period_start, scope_key, member_id, value, reached_at) "
    )
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(
            f"{head} SELECT 1, $1, 'WEEK', $2, 'company', n, {value}, $3 "  # noqa: S608
            "FROM generate_series(1, $4) AS n",
            [metric_id, start, REACHED, n],
        )
        return
    await conn.execute_query(
        f"{head} WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 "  # noqa: S608
        f"FROM seq WHERE n < ?) SELECT 1, ?, 'WEEK', ?, 'company', n, {value}, ? "
        "FROM seq",
        [n, metric_id, start, REACHED],
    )


async def median_ms(action: Callable[[], Awaitable[Any]], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def bare_top(conn: BaseDBAsyncClient, board: BoardView) -> list[Any]:
    """The board's first 100 rows in index order with the members' names."""
    where, values = _where(conn, board)
    sql = (
        "SELECT s.member_id, s.value, s.reached_at, m.name FROM leaderboard_score s "  # noqa: S608
        f"JOIN member m ON m.id = s.member_id WHERE {where} "
        "ORDER BY s.value DESC, s.reached_at LIMIT 100"
    )
    return list((await conn.execute_query(sql, values))[1])


async def bare_row(conn: BaseDBAsyncClient, board: BoardView, member: int) -> Any:
    """One member's row on the board, by its unique key."""
    where, values = _where(conn, board)
    mark = "$6" if conn.capabilities.dialect == "postgres" else "?"
    sql = (
        "SELECT s.member_id, s.value, s.reached_at, m.name FROM leaderboard_score s "  # noqa: S608
        f"JOIN member m ON m.id = s.member_id WHERE {where} AND s.member_id = {mark}"
    )
    return (await conn.execute_query(sql, [*values, member]))[1]


async def counted_rank(conn: BaseDBAsyncClient, board: BoardView, member: int) -> int:
    """The rank the usual way: the member's value, then 1 + COUNT(*) above it.

    An index range count, so it grows with the rank (O(rank)).
    """
    value = (await bare_row(conn, board, member))[0][1]
    where, values = _where(conn, board)
    mark = "$6" if conn.capabilities.dialect == "postgres" else "?"
    sql = f"SELECT COUNT(*) FROM leaderboard_score s WHERE {where} AND s.value > {mark}"  # noqa: S608
    rows = (await conn.execute_query(sql, [*values, value]))[1]
    return int(rows[0][0]) + 1


def _where(conn: BaseDBAsyncClient, board: BoardView) -> tuple[str, list[Any]]:
    marks = ["$1", "$2", "$3", "$4", "$5"]
    if conn.capabilities.dialect != "postgres":
        marks = ["?"] * 5
    metric, kind, start, scope = board.key
    where = (
        f"s.company_id = {marks[0]} AND s.metric_id = {marks[1]} AND "
        f"s.period_kind = {marks[2]} AND s.period_start = {marks[3]} AND "
        f"s.scope_key = {marks[4]}"
    )
    return where, [board.company_id, metric, kind.value, start, scope]


async def measure(board: BoardView, size: int, runs: int) -> list[object]:
    """One table row: top-100 and my-rank, each against its bare read."""
    conn = connections.get("default")
    page = await leaderboard.top(board, 0, 100)
    assert len(page) == 100
    assert page[0].rank == 1
    top = await median_ms(lambda: leaderboard.top(board, 0, 100), runs)
    bare = await median_ms(lambda: bare_top(conn, board), runs)
    rng = random.Random(SEED)
    probes = sorted(rng.sample(range(1, size + 1), PROBES))
    rank_ms, row_ms, count_ms = [], [], []
    for member in probes:
        found = await leaderboard.entry_of(board, member)
        assert found is not None
        assert found.rank == await counted_rank(conn, board, member)
        rank_ms.append(
            await median_ms(partial(leaderboard.entry_of, board, member), runs)
        )
        row_ms.append(await median_ms(partial(bare_row, conn, board, member), runs))
        count_ms.append(await median_ms(partial(counted_rank, conn, board, member), 1))
    rank, row = statistics.median(rank_ms), statistics.median(row_ms)
    return [
        f"{size:,}",
        top,
        bare,
        top / bare,
        rank,
        row,
        rank / row,
        max(rank_ms),
        statistics.median(count_ms),
        max(count_ms),
    ]


async def build(sizes: list[int]) -> tuple[list[BoardView], list[float]]:
    """The company, its members and one seeded board per size; seed seconds."""
    conn = connections.get("default")
    company = await Company.create(name="Bench", timezone=TZ.key)
    metric = await MetricDefinition.create(
        company=company,
        key="orders",
        name="Orders",
        activity_kind=ActivityKind.ORDER_CLOSED,
        aggregation=Aggregation.COUNT,
    )
    started = time.perf_counter()
    await seed_members(conn, max(sizes))
    boards, seconds = [], []
    for index, size in enumerate(sizes):
        start = FIRST_WEEK + timedelta(weeks=index)
        await seed_board(conn, metric.id, start, size)
        period = period_starting(PeriodKind.WEEK, start, TZ)
        boards.append(BoardView(metric, period, "company", company.id, TZ))
    await rebuild_nodes(conn, company.id)
    if conn.capabilities.dialect == "postgres":
        # As autovacuum would soon: statistics, and the visibility map that
        # lets the bare counts run as index-only scans.
        await conn.execute_script("VACUUM ANALYZE")
    seconds.append(time.perf_counter() - started)
    return boards, seconds


async def main(kind: str, sizes: list[int], runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            await migrate_database(url)
            async with TortoiseContext() as ctx:
                await ctx.init(config=tortoise_config(url))
                boards, seeded = await build(sizes)
                rows = [
                    await measure(board, size, runs)
                    for board, size in zip(boards, sizes, strict=True)
                ]
    print(
        table(
            f"Leaderboards on {kind}: medians in ms over {runs} runs, my-rank over "
            f"{PROBES} members from top to bottom; seeded in {seeded[0]:.0f} s "
            f"({datetime.now(UTC):%Y-%m-%d})",
            [
                "members",
                "top-100",
                "bare top-100",
                "x",
                "my-rank",
                "bare row",
                "x",
                "my-rank worst",
                "COUNT rank",
                "COUNT worst",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=30)
    arguments = parser.parse_args()
    sizes = [int(s) for s in arguments.sizes.split(",")]
    asyncio.run(main(arguments.database, sizes, arguments.runs))
