"""Driver analysis over stored activity: SQL aggregates in, findings out.

Activities are never loaded one by one. One query groups them into member x
local day x kind sums; a second returns one row per inquiry received with
its first reply's minutes and the orders that came of it. Both scan the
company's activity of the window once; the statistics run on numpy arrays
of member-days and inquiries (see `spur.engine.driver_findings`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine.driver_findings import (
    Finding,
    Inquiries,
    MemberDays,
    day_findings,
    reply_findings,
)
from spur.engine.drivers import RESAMPLES, SEED, Array
from spur.models import Member, Role, Team
from spur.models.upserts import placeholders

SCALE = 10_000.0  # quantities and amounts are stored as integers x 10^4
# An order closed up to this long after the window still converts an inquiry
# received inside it: buyers take days to order.
CONVERSION_GRACE = timedelta(days=30)
YOUNG_MAX_AGE = 30
SENIOR_MIN_AGE = 35
_DAY_KINDS = ("PLATFORM_SESSION", "CUSTOMER_FOLLOW_UP", "PRODUCT_OPTIMIZED")


class AgeBand(enum.Enum):
    YOUNG = "YOUNG"  # 30 or under
    SENIOR = "SENIOR"  # 35 or over


@dataclass(frozen=True)
class Scope:
    """Whose working days, and which: local dates `[first, end)`."""

    company_id: int
    tz: ZoneInfo
    first: date
    end: date
    team_ids: frozenset[int] | None = None
    age_band: AgeBand | None = None
    market: str | None = None

    def bounds(self) -> tuple[datetime, datetime]:
        start = datetime.combine(self.first, datetime.min.time(), tzinfo=self.tz)
        end = datetime.combine(self.end, datetime.min.time(), tzinfo=self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class Analysis:
    """Findings over a scope, with how much data they rest on."""

    scope: Scope
    members: int
    member_days: int
    inquiries: int
    findings: list[Finding]


async def analyse(
    scope: Scope, resamples: int = RESAMPLES, seed: int = SEED
) -> Analysis:
    """Load the scope's member-days and inquiries and compare every driver."""
    if scope.end <= scope.first:
        raise ValueError("the window must end after it starts")
    conn = connections.get("default")
    members = await _members(scope)
    grid = [
        (member, day)
        for member, hired in sorted(members.items())
        for day in working_days(scope.first, scope.end)
        if hired is None or day >= hired
    ]
    inquiry_rows = [
        row for row in await _inquiry_rows(conn, scope) if int(row[0]) in members
    ]
    days = member_days(grid, await _day_sums(conn, scope), inquiry_rows)
    inquiries = _inquiries(inquiry_rows)
    findings = day_findings(days, resamples, seed)
    findings += reply_findings(inquiries, resamples, seed)
    return Analysis(scope, len(members), len(grid), len(inquiry_rows), findings)


async def _members(scope: Scope) -> dict[int, date | None]:
    """Salespeople in scope, with the day they joined (None: not recorded)."""
    query = Member.filter(company_id=scope.company_id, role=Role.SALESPERSON)
    if scope.team_ids is not None:
        query = query.filter(team_id__in=sorted(scope.team_ids))
    if scope.market is not None:
        markets = Team.filter(company_id=scope.company_id, market=scope.market)
        query = query.filter(team_id__in=await markets.values_list("id", flat=True))
    rows = await query.values_list("id", "birth_date", "hire_date")
    return {
        member: hired
        for member, born, hired in rows
        if _in_band(scope.age_band, born, scope.end - timedelta(days=1))
    }


def _in_band(band: AgeBand | None, born: date | None, on: date) -> bool:
    if band is None:
        return True
    if born is None:
        return False
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return age <= YOUNG_MAX_AGE if band is AgeBand.YOUNG else age >= SENIOR_MIN_AGE


def working_days(first: date, end: date) -> list[date]:
    """Monday-to-Friday dates in `[first, end)`."""
    days = (first + timedelta(days=n) for n in range((end - first).days))
    return [day for day in days if day.weekday() < 5]


def member_days(
    grid: list[tuple[int, date]], day_rows: Sequence[Any], inquiry_rows: Sequence[Any]
) -> MemberDays:
    """Sums per member working day; days without activity stay at zero."""
    slot = {key: n for n, key in enumerate(grid)}
    columns = np.zeros((8, len(grid)))
    for row in day_rows:
        at = slot.get((int(row[0]), _as_date(row[1])))
        if at is not None:
            _add_day_row(columns, at, str(row[2]), row)
    for row in inquiry_rows:
        at = slot.get((int(row[0]), _as_date(row[1])))
        if at is not None:
            columns[5, at] += 1
            columns[6, at] += 1 if row[3] else 0
    return MemberDays(
        np.array([member for member, _ in grid], dtype=np.int64),
        platform_minutes=columns[0],
        follow_ups=columns[1],
        optimisations=columns[2],
        orders=columns[3],
        sales=columns[4],
        inquiries=columns[5],
        conversions=columns[6],
    )


def _inquiries(rows: Sequence[Any]) -> Inquiries:
    nan = float("nan")
    return Inquiries(
        np.array([int(row[0]) for row in rows], dtype=np.int64),
        np.array([nan if row[2] is None else float(row[2]) for row in rows]),
        np.array([float(row[3] or 0) for row in rows]),
        np.array([float(row[4] or 0) / SCALE for row in rows]),
    )


def _as_date(value: Any) -> date:
    # PostgreSQL answers a date, SQLite the text of one.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _add_day_row(columns: Array, at: int, kind: str, row: Any) -> None:
    if kind == "PLATFORM_SESSION":
        columns[0, at] += float(row[4] or 0) / SCALE
    elif kind == "CUSTOMER_FOLLOW_UP":
        columns[1, at] += float(row[3])
    elif kind == "PRODUCT_OPTIMIZED":
        columns[2, at] += float(row[3])
    elif kind == "ORDER_CLOSED":
        columns[3, at] += float(row[5] or 0)
        columns[4, at] += float(row[6] or 0) / SCALE


async def _day_sums(conn: BaseDBAsyncClient, scope: Scope) -> Sequence[Any]:
    """Rows of member, local day, kind, count, quantity, orders, amount."""
    day, day_values = _local_day(conn, scope, "a.occurred_at")
    start, end = scope.bounds()
    kinds = (*_DAY_KINDS, "ORDER_CLOSED")
    values: list[Any] = [*day_values, scope.company_id, start, end, *kinds]
    marks = placeholders(conn, len(values))
    where_kind = ", ".join(marks[-len(kinds) :])
    n = len(day_values)
    # Only bind markers and a fixed day expression are formatted in.
    sql = (
        f"SELECT a.member_id, {day}, a.kind, COUNT(*), SUM(a.quantity), "  # noqa: S608
        "SUM(CASE WHEN a.amount_company > 0 THEN 1 ELSE 0 END), "
        "SUM(a.amount_company) FROM activity a "
        f"WHERE a.company_id = {marks[n]} AND a.voided_at IS NULL "
        f"AND a.occurred_at >= {marks[n + 1]} AND a.occurred_at < {marks[n + 2]} "
        f"AND a.kind IN ({where_kind}) GROUP BY 1, 2, 3"
    )
    _, rows = await conn.execute_query(sql, values)
    return rows


async def _inquiry_rows(conn: BaseDBAsyncClient, scope: Scope) -> Sequence[Any]:
    """Rows of member, local day, first reply minutes, orders and sales.

    One row per inquiry: a member and a customer reference whose first
    `INQUIRY_RECEIVED` falls in the window (a buyer asking again is the same
    inquiry). Its reply time is the member's first reply to that reference;
    it converts when the member closes an order (a positive amount) with that
    reference at or after the inquiry, up to `CONVERSION_GRACE` after the
    window. One pass over the window's activity, grouped by reference.
    """
    start, end = scope.bounds()
    kinds = ("INQUIRY_RECEIVED", "INQUIRY_REPLIED", "ORDER_CLOSED")
    inner = [scope.company_id, *kinds, start, end + CONVERSION_GRACE]
    m = placeholders(conn, len(inner))
    day, day_values = _local_day(conn, scope, "MIN(t.asked)", len(inner) + 1)
    n = len(inner) + len(day_values)
    e = placeholders(conn, 2, start=n + 1)
    order = (
        "t.kind = 'ORDER_CLOSED' AND t.amount_company > 0 AND t.occurred_at >= t.asked"
    )
    # Only bind markers and a fixed day expression are formatted in.
    sql = (
        "WITH t AS (SELECT a.member_id, a.customer_ref, a.kind, a.occurred_at, "  # noqa: S608
        "a.response_minutes, a.amount_company, MIN(CASE WHEN a.kind = "
        "'INQUIRY_RECEIVED' THEN a.occurred_at END) OVER (PARTITION BY "
        "a.member_id, a.customer_ref) AS asked FROM activity a "
        f"WHERE a.company_id = {m[0]} AND a.voided_at IS NULL "
        f"AND a.customer_ref IS NOT NULL AND a.kind IN ({m[1]}, {m[2]}, {m[3]}) "
        f"AND a.occurred_at >= {m[4]} AND a.occurred_at < {m[5]}) "
        f"SELECT t.member_id, {day}, MIN(CASE WHEN t.kind = 'INQUIRY_REPLIED' "
        f"THEN t.response_minutes END), SUM(CASE WHEN {order} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {order} THEN t.amount_company ELSE 0 END) FROM t "
        f"WHERE t.asked >= {e[0]} AND t.asked < {e[1]} "
        "GROUP BY t.member_id, t.customer_ref"
    )
    _, rows = await conn.execute_query(sql, [*inner, *day_values, start, end])
    return rows


def _local_day(
    conn: BaseDBAsyncClient, scope: Scope, column: str, first_mark: int = 1
) -> tuple[str, list[Any]]:
    """A SQL expression for the company-local date of `column`, its values.

    PostgreSQL converts with the zone itself. SQLite knows no zones, so the
    window is cut where the zone's offset changes (daylight saving) and each
    piece shifts by its own offset.
    """
    if conn.capabilities.dialect == "postgres":
        mark = placeholders(conn, 1, start=first_mark)[0]
        return f"CAST(({column} AT TIME ZONE {mark}) AS DATE)", [scope.tz.key]
    pieces = _offset_pieces(scope)
    values: list[Any] = []
    whens = []
    for until, minutes in pieces[:-1]:
        whens.append(f"WHEN {column} < ? THEN ?")
        values += [until, f"{minutes:+d} minutes"]
    values.append(f"{pieces[-1][1]:+d} minutes")
    if not whens:
        return f"date({column}, ?)", values
    return f"date({column}, CASE {' '.join(whens)} ELSE ? END)", values


def _offset_pieces(scope: Scope) -> list[tuple[datetime, int]]:
    """(UTC end, offset in minutes) of each stretch of the window with one
    offset; zones change offset on a quarter hour."""
    start, end = scope.bounds()
    firsts: list[tuple[datetime, int]] = []
    at, step = start, timedelta(minutes=15)
    while at < end:
        offset = at.astimezone(scope.tz).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        if not firsts or firsts[-1][1] != minutes:
            firsts.append((at, minutes))
        at += step
    ends = [first for first, _ in firsts[1:]] + [end]
    return [(until, minutes) for until, (_, minutes) in zip(ends, firsts, strict=True)]
