"""Driver analysis on the demo and on copies of it many times its size.

    .venv/bin/python -m bench.insights [--database sqlite|postgres]
        [--copies 100] [--runs 3]

The demo is filled as `spur serve --demo` fills it (about 35,600 activities
of 40 salespeople over 90 days). A second company then receives `--copies`
copies of the demo's salespeople and their activity, inserted by
INSERT ... SELECT (members renamed, external ids and customer references
suffixed per copy), so it holds `copies` x the demo's rows over the same 90
days: more people, the same window.

For each company, the analysis (`spur.resolvers.drivers.analyse`: two
grouped SQL passes, then the statistics with 2,000 bootstrap draws) is timed
against a bare read of the same rows in the same run and connection: one
SELECT of every activity in the window, all rows fetched. Peak memory is
what Python and numpy allocate during one more, untimed, call of each
(tracemalloc): the analysis holds grouped rows and member-day and inquiry
arrays, the read holds every row.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext

from bench.common import scratch_database, table
from spur.demo import fill_demo
from spur.models import Company
from spur.models.config import tortoise_config
from spur.models.database import migrate_database
from spur.models.upserts import placeholders
from spur.resolvers.drivers import Scope, analyse

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=TZ)
FIRST, END = date(2026, 9, 5), date(2026, 12, 4)
_FRESH = {"id"}


async def _columns(conn: BaseDBAsyncClient, name: str) -> list[str]:
    rows = await conn.execute_query_dict(f"SELECT * FROM {name} LIMIT 1")  # noqa: S608
    return [column for column in rows[0] if column not in _FRESH]


async def copy_company(conn: BaseDBAsyncClient, demo: int, copies: int) -> int:
    """A new company with `copies` copies of the demo's salespeople's activity."""
    company = await Company.create(name=f"Bench x{copies}")
    members = await _columns(conn, "member")
    activities = await _columns(conn, "activity")
    for copy in range(copies):
        tag = f"b{copy}."
        await _copy_members(conn, members, demo, company.id, tag)
        await _copy_activities(conn, activities, demo, company.id, tag)
    return company.id


def _select(
    conn: BaseDBAsyncClient, columns: list[str], chosen: dict[str, tuple[str, Any]]
) -> tuple[str, list[Any]]:
    """The SELECT list copying `columns` from alias `a`, some replaced.

    A replacement is SQL with at most one `{}` for its bound value; values
    are returned in the order their markers appear, as SQLite needs.
    """
    picked, values = [], []
    for column in columns:
        sql, value = chosen.get(column, (f"a.{column}", None))
        if "{}" in sql:
            values.append(value)
            sql = sql.format(placeholders(conn, 1, start=len(values))[0])
        picked.append(sql)
    return ", ".join(picked), values


async def _copy_members(
    conn: BaseDBAsyncClient, columns: list[str], demo: int, company: int, tag: str
) -> None:
    picked, values = _select(
        conn,
        columns,
        {
            "company_id": ("{}", company),
            "team_id": ("NULL", None),
            "email": ("{} || a.email", tag),
        },
    )
    mark = placeholders(conn, 1, start=len(values) + 1)[0]
    sql = (
        f"INSERT INTO member ({', '.join(columns)}) SELECT {picked} "  # noqa: S608
        f"FROM member a WHERE a.company_id = {mark} AND a.role = 'SALESPERSON'"
    )
    await conn.execute_query(sql, [*values, demo])


async def _copy_activities(
    conn: BaseDBAsyncClient, columns: list[str], demo: int, company: int, tag: str
) -> None:
    picked, values = _select(
        conn,
        columns,
        {
            "company_id": ("{}", company),
            "member_id": ("dst.id", None),
            "recorded_by_id": ("NULL", None),
            "voided_by_id": ("NULL", None),
            "external_id": ("a.external_id || {}", tag),
            "customer_ref": ("a.customer_ref || {}", tag),
        },
    )
    marks = placeholders(conn, 2, start=len(values) + 1)
    sql = (
        f"INSERT INTO activity ({', '.join(columns)}) SELECT {picked} "  # noqa: S608
        "FROM activity a JOIN member src ON src.id = a.member_id "
        f"JOIN member dst ON dst.email = {marks[0]} || src.email "
        f"WHERE a.company_id = {marks[1]}"
    )
    await conn.execute_query(sql, [*values, tag, demo])


async def read_rows(conn: BaseDBAsyncClient, company: int) -> int:
    """Every activity of the window, fetched: the naive way in."""
    start, end = Scope(company, TZ, FIRST, END).bounds()
    marks = placeholders(conn, 3)
    sql = (
        "SELECT member_id, kind, occurred_at, quantity, amount_company, "  # noqa: S608
        "customer_ref, response_minutes FROM activity "
        f"WHERE company_id = {marks[0]} AND occurred_at >= {marks[1]} "
        f"AND occurred_at < {marks[2]}"
    )
    _, rows = await conn.execute_query(sql, [company, start, end])
    return len(rows)


async def _peak_mb(action: Callable[[], Awaitable[Any]]) -> float:
    """Peak memory Python and numpy allocate during one untimed call."""
    tracemalloc.start()
    try:
        await action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


async def _median(action: Callable[[], Awaitable[Any]], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def measure(company: int, label: str, runs: int) -> list[object]:
    """One table row: rows, analysis and read times, ratio and peak memory."""
    conn = connections.get("default")
    scope = Scope(company, TZ, FIRST, END)
    analysed = await analyse(scope)
    took = await _median(lambda: analyse(scope), runs)
    rows = await read_rows(conn, company)
    read = await _median(lambda: read_rows(conn, company), runs)
    return [
        label,
        rows,
        analysed.members,
        analysed.member_days,
        analysed.inquiries,
        took,
        read,
        took / read,
        await _peak_mb(lambda: analyse(scope)),
        await _peak_mb(lambda: read_rows(conn, company)),
    ]


async def main(kind: str, copies: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            await migrate_database(url)
            async with TortoiseContext() as ctx:
                await ctx.init(config=tortoise_config(url))
                await _run(kind, copies, runs)


async def _run(kind: str, copies: int, runs: int) -> None:
    started = time.perf_counter()
    summary = await fill_demo(NOW)
    filled = time.perf_counter() - started
    rows = [await measure(summary.company_id, "demo", runs)]
    started = time.perf_counter()
    conn = connections.get("default")
    big = await copy_company(conn, summary.company_id, copies)
    seeded = time.perf_counter() - started
    rows.append(await measure(big, f"demo x{copies}", max(1, runs - 1)))
    header = [
        "data",
        "activity rows",
        "members",
        "member-days",
        "inquiries",
        "analysis s",
        "read rows s",
        "analysis/read",
        "analysis peak MB",
        "read peak MB",
    ]
    title = (
        f"bench.insights on {kind}: 90 days ({FIRST} to {END}); demo filled in "
        f"{filled:.1f} s, {copies} copies inserted in {seeded:.1f} s; medians "
        f"of {runs} (demo) and {max(1, runs - 1)} (copies) runs"
    )
    sys.stdout.write(table(title, header, rows) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database, arguments.copies, arguments.runs))
