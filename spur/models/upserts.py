"""Atomic `value = value + delta` upserts, the same SQL on SQLite and PostgreSQL.

Values are bound as Python objects: Tortoise registers SQLite adapters that
store dates and UTC datetimes exactly as its ORM does, so raw rows and ORM
rows compare alike.

Running totals are never read, changed and written back by Python: two
transactions doing that at once would lose one of the increments. Both
databases support `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, which
changes the row under its lock and tells us the value after the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from spur.engine.periods import PeriodKind, as_utc
from spur.models.fields import ScaledDecimalField

VALUE_SCALE = ScaledDecimalField(scale=4)


def placeholders(conn: BaseDBAsyncClient, count: int, start: int = 1) -> list[str]:
    """Bind markers for `count` values in the connection's dialect."""
    if conn.capabilities.dialect == "postgres":
        return [f"${n}" for n in range(start, start + count)]
    return ["?"] * count


@dataclass(frozen=True)
class TotalDelta:
    """An increment to one member's or team's total of a metric in a period."""

    metric_id: int
    scope: str
    subject_id: int
    period_kind: PeriodKind
    period_start: date
    delta: Decimal


TotalKey = tuple[int, str, int, PeriodKind]


@dataclass(frozen=True)
class Movement:
    """A stored value before and after one change."""

    before: Decimal
    after: Decimal


async def add_to_totals(
    conn: BaseDBAsyncClient,
    company_id: int,
    deltas: Sequence[TotalDelta],
    now: datetime,
) -> dict[TotalKey, Movement]:
    """Add every delta to its metric_total row, in one statement.

    Returns each row's value before and after, keyed by metric id, scope,
    subject id and period kind: what incentive rules read to see a line
    being crossed, without a second query.
    """
    if not deltas:
        return {}
    rows: list[str] = []
    values: list[Any] = []
    for item in deltas:
        row = _total_row(conn, company_id, item, now)
        marks = placeholders(conn, len(row), start=len(values) + 1)
        rows.append(f"({', '.join(marks)})")
        values += row
    # Only bind markers are formatted into the SQL.
    sql = (
        "INSERT INTO metric_total (company_id, metric_id, scope, subject_id, "  # noqa: S608
        "member_id, team_id, period_kind, period_start, value, updated_at) "
        f"VALUES {', '.join(rows)} "
        "ON CONFLICT (metric_id, scope, subject_id, period_kind, period_start) "
        "DO UPDATE SET value = metric_total.value + excluded.value, "
        "updated_at = excluded.updated_at "
        "RETURNING metric_id, scope, subject_id, period_kind, value"
    )
    returned = await conn.execute_query_dict(sql, values)
    by_key = {(d.metric_id, d.scope, d.subject_id, d.period_kind): d for d in deltas}
    moved: dict[TotalKey, Movement] = {}
    for found in returned:
        key = (
            int(found["metric_id"]),
            str(found["scope"]),
            int(found["subject_id"]),
            PeriodKind(found["period_kind"]),
        )
        after = _decimal(found["value"])
        moved[key] = Movement(after - by_key[key].delta, after)
    return moved


def _total_row(
    conn: BaseDBAsyncClient, company_id: int, item: TotalDelta, now: datetime
) -> list[Any]:
    member_id = item.subject_id if item.scope == "member" else None
    team_id = item.subject_id if item.scope == "team" else None
    return [
        company_id,
        item.metric_id,
        item.scope,
        item.subject_id,
        member_id,
        team_id,
        item.period_kind.value,
        item.period_start,
        VALUE_SCALE.to_storage(item.delta),
        as_utc(now),
    ]


@dataclass(frozen=True)
class ProgressChange:
    """A goal's value in one period before and after an activity."""

    goal_id: int
    period_start: date
    before: Decimal
    after: Decimal
    target: Decimal


async def add_to_progress(
    conn: BaseDBAsyncClient,
    goal_id: int,
    period_start: date,
    delta: Decimal,
    target: Decimal,
    now: datetime,
) -> ProgressChange:
    """Add `delta` to a goal's progress in a period; returns before and after.

    The target is copied onto the row when it is created, so changing a goal
    later leaves the periods already under way as they were.
    """
    marks = placeholders(conn, 5)
    sql = (
        "INSERT INTO goal_progress (goal_id, period_start, current, target, "  # noqa: S608
        f"updated_at) VALUES ({', '.join(marks)}) "
        "ON CONFLICT (goal_id, period_start) DO UPDATE SET "
        "current = goal_progress.current + excluded.current, "
        "updated_at = excluded.updated_at RETURNING current, target"
    )
    stored_delta = VALUE_SCALE.to_storage(delta)
    # execute_query_dict: asyncpg's execute_query drops RETURNING rows of writes.
    rows = await conn.execute_query_dict(
        sql,
        [
            goal_id,
            period_start,
            stored_delta,
            VALUE_SCALE.to_storage(target),
            as_utc(now),
        ],
    )
    after, stored_target = _decimal(rows[0]["current"]), _decimal(rows[0]["target"])
    return ProgressChange(goal_id, period_start, after - delta, after, stored_target)


def _decimal(stored: Any) -> Decimal:
    value = VALUE_SCALE.to_python_value(stored)
    assert value is not None
    return value


async def add_to_counter(
    conn: BaseDBAsyncClient,
    company_id: int,
    key: str,
    delta: Decimal,
    now: datetime,
) -> Movement:
    """Add `delta` to a rule counter (created at zero); before and after.

    Adding zero reads the value and, on PostgreSQL, holds the row's lock to
    the end of the transaction, so a read-decide-write on it cannot race.
    """
    marks = placeholders(conn, 4)
    sql = (
        "INSERT INTO rule_counter (company_id, key, value, updated_at) "  # noqa: S608
        f"VALUES ({', '.join(marks)}) ON CONFLICT (company_id, key) DO UPDATE "
        "SET value = rule_counter.value + excluded.value, "
        "updated_at = excluded.updated_at RETURNING value"
    )
    rows = await conn.execute_query_dict(
        sql, [company_id, key, VALUE_SCALE.to_storage(delta), as_utc(now)]
    )
    after = _decimal(rows[0]["value"])
    return Movement(after - delta, after)


async def insert_new(
    conn: BaseDBAsyncClient, model: type[Model], values: dict[str, Any]
) -> int | None:
    """Insert a row unless its unique key exists; the new id, or None.

    `values` are Python values by field name (foreign keys as `x_id`); each is
    converted as the model's field stores it. Used where a repeat is expected
    and must change nothing, such as a ledger key a rule already paid.
    """
    fields = model._meta.fields_map
    columns = list(values)
    stored = [fields[name].to_db_value(values[name], model) for name in columns]
    marks = ", ".join(placeholders(conn, len(columns)))
    # Column names come from the model's own fields, never from input.
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({marks}) ON CONFLICT DO NOTHING RETURNING id"
    )
    rows = await conn.execute_query_dict(sql, stored)
    return int(rows[0]["id"]) if rows else None


class Counters(Protocol):
    """Rule counters by key: stored ones, or in memory for a simulation."""

    async def add(self, key: str, delta: Decimal) -> Movement: ...


@dataclass(frozen=True)
class StoredCounters:
    """Rule counters in the database, changed inside one transaction."""

    conn: BaseDBAsyncClient
    company_id: int
    now: datetime

    async def add(self, key: str, delta: Decimal) -> Movement:
        return await add_to_counter(self.conn, self.company_id, key, delta, self.now)
