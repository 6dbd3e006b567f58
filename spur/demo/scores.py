"""The demo's leaderboards: its history's member totals, on every board.

The live path moves scores one activity at a time; the demo writes the
same rows in bulk (a score per member total and scope, reached when the
member's last counted activity happened), then counts the trees in SQL.
Day boards are filled for the last two weeks only: the 90 days of them
would be four fifths of the rows and slow every demo start.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine import ranking
from spur.engine.periods import PeriodKind, as_utc
from spur.models import Member, Team
from spur.models.upserts import VALUE_SCALE, placeholders
from spur.resolvers.scores import rebuild_nodes

ROWS_PER_INSERT = 1000
DAY_BOARD_DAYS = 14
COLUMNS = (
    "company_id, metric_id, period_kind, period_start, scope_key, member_id, "
    "value, reached_at"
)


async def store_scores(
    conn: BaseDBAsyncClient,
    company_id: int,
    totals: dict[Any, Any],
    reached: dict[Any, datetime],
    metric_ids: dict[str, int],
    days_since: date,
) -> int:
    """Write a score for every member total on each of its boards; how many."""
    people = await _people(conn, company_id)
    rows: list[list[Any]] = []
    for (key, scope, member_id, kind, start), value in totals.items():
        if scope != "member" or (kind is PeriodKind.DAY and start < days_since):
            continue
        team_id, market, birth = people[member_id]
        when = as_utc(reached[key, scope, member_id, kind, start])
        stored = VALUE_SCALE.to_storage(value)
        metric = metric_ids[key]
        rows += [
            [company_id, metric, kind.value, start, board, member_id, stored, when]
            for board in ranking.member_scopes(team_id, market, birth, start)
        ]
    for first in range(0, len(rows), ROWS_PER_INSERT):
        await _insert(conn, rows[first : first + ROWS_PER_INSERT])
    await rebuild_nodes(conn, company_id)
    return len(rows)


async def _people(
    conn: BaseDBAsyncClient, company_id: int
) -> dict[int, tuple[int | None, str | None, date | None]]:
    teams = dict(
        await Team.filter(company_id=company_id)
        .using_db(conn)
        .values_list("id", "market")
    )
    found = (
        await Member.filter(company_id=company_id)
        .using_db(conn)
        .values_list("id", "team_id", "birth_date")
    )
    return {
        member_id: (team_id, teams.get(team_id) if team_id else None, birth)
        for member_id, team_id, birth in found
    }


async def _insert(conn: BaseDBAsyncClient, rows: list[list[Any]]) -> None:
    values: list[Any] = []
    groups = []
    for row in rows:
        groups.append(f"({', '.join(placeholders(conn, len(row), len(values) + 1))})")
        values += row
    # Only bind markers are formatted into the SQL.
    sql = f"INSERT INTO leaderboard_score ({COLUMNS}) VALUES {', '.join(groups)}"  # noqa: S608
    await conn.execute_query(sql, values)
