"""Leaderboard scores, moved inside the transaction that records or voids.

Called after the member's totals were upserted: on PostgreSQL those rows
stay locked to the end of the transaction, so no other transaction moves
the same member's scores between the read of the old values here and the
write of the new ones. The count tree moves with the scores in the same
transaction, so a rank read always agrees with the board.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine import messages, ranking
from spur.engine.periods import ALL_KINDS, PeriodKind, as_utc, period_containing
from spur.models import (
    AchievementEvent,
    Activity,
    Company,
    EventKind,
    Member,
    MetricDefinition,
    Team,
)
from spur.models.upserts import VALUE_SCALE, placeholders

Board = tuple[int, PeriodKind, date, str]


@dataclass(frozen=True)
class ScoreMove:
    """One board's score for the member, before (None: new) and after."""

    board: Board
    before: Decimal | None
    after: Decimal


async def record_scores(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    activity: Activity,
    changes: dict[int, Decimal],
    now: datetime,
) -> list[ScoreMove]:
    """Add the activity's metric changes to every board the member is on."""
    changes = {metric: delta for metric, delta in changes.items() if delta != 0}
    if not changes:
        return []
    market = await _market(conn, member)
    tz = ZoneInfo(company.timezone)
    deltas: dict[Board, Decimal] = {}
    for kind in ALL_KINDS:
        start = period_containing(kind, activity.occurred_at, tz).start_date
        scopes = ranking.member_scopes(member.team_id, market, member.birth_date, start)
        for metric_id, delta in changes.items():
            for scope in scopes:
                deltas[(metric_id, kind, start, scope)] = delta
    before = await _stored(conn, member.id, deltas)
    moves = [
        ScoreMove(b, before.get(b), before.get(b, Decimal(0)) + d)
        for b, d in deltas.items()
    ]
    await _upsert_scores(conn, company.id, member.id, deltas, now)
    await _move_nodes(conn, company.id, moves)
    return moves


async def _market(conn: BaseDBAsyncClient, member: Member) -> str | None:
    if member.team_id is None:
        return None
    markets = (
        await Team.filter(id=member.team_id)
        .using_db(conn)
        .values_list("market", flat=True)
    )
    return str(markets[0]) if markets and markets[0] else None


async def _stored(
    conn: BaseDBAsyncClient, member_id: int, deltas: dict[Board, Decimal]
) -> dict[Board, Decimal]:
    """The member's current values on these boards (absent: not on them yet)."""
    metric_ids = sorted({board[0] for board in deltas})
    periods = sorted({(board[1].value, board[2]) for board in deltas})
    values: list[Any] = [member_id, *metric_ids]
    marks = placeholders(conn, len(values))
    pairs = []
    for pair in periods:
        kind, start = placeholders(conn, 2, start=len(values) + 1)
        pairs.append(f"(period_kind = {kind} AND period_start = {start})")
        values += pair
    # Only bind markers are formatted into the SQL.
    sql = (
        "SELECT metric_id, period_kind, period_start, scope_key, value "  # noqa: S608
        f"FROM leaderboard_score WHERE member_id = {marks[0]} "
        f"AND metric_id IN ({', '.join(marks[1:])}) AND ({' OR '.join(pairs)})"
    )
    rows = await conn.execute_query_dict(sql, values)
    found: dict[Board, Decimal] = {}
    for row in rows:
        board = (
            int(row["metric_id"]),
            PeriodKind(row["period_kind"]),
            _date(row["period_start"]),
            str(row["scope_key"]),
        )
        if board in deltas:
            found[board] = _decimal(row["value"])
    return found


def _date(stored: Any) -> date:
    return stored if isinstance(stored, date) else date.fromisoformat(str(stored))


def _decimal(stored: Any) -> Decimal:
    value = VALUE_SCALE.to_python_value(stored)
    assert value is not None
    return value


async def _upsert_scores(
    conn: BaseDBAsyncClient,
    company_id: int,
    member_id: int,
    deltas: dict[Board, Decimal],
    now: datetime,
) -> None:
    rows = [
        [company_id, metric, kind.value, start, scope, member_id, stored, as_utc(now)]
        for (metric, kind, start, scope), stored in (
            (board, VALUE_SCALE.to_storage(delta)) for board, delta in deltas.items()
        )
    ]
    await conn.execute_query(*_insert_sql(conn, rows, SCORE_INSERT, SCORE_CONFLICT))


SCORE_INSERT = (
    "INSERT INTO leaderboard_score (company_id, metric_id, period_kind, "
    "period_start, scope_key, member_id, value, reached_at) VALUES "
)
SCORE_CONFLICT = (
    " ON CONFLICT (metric_id, period_kind, period_start, scope_key, member_id) "
    "DO UPDATE SET value = leaderboard_score.value + excluded.value, "
    "reached_at = excluded.reached_at"
)
NODE_INSERT = (
    "INSERT INTO leaderboard_node (company_id, metric_id, period_kind, "
    "period_start, scope_key, level, prefix, count) VALUES "
)
NODE_CONFLICT = (
    " ON CONFLICT (metric_id, period_kind, period_start, scope_key, level, prefix) "
    "DO UPDATE SET count = leaderboard_node.count + excluded.count"
)


def _insert_sql(
    conn: BaseDBAsyncClient, rows: list[list[Any]], head: str, tail: str
) -> tuple[str, list[Any]]:
    """A multi-row INSERT of `rows` (bound) between a fixed head and tail."""
    values: list[Any] = []
    groups = []
    for row in rows:
        marks = placeholders(conn, len(row), start=len(values) + 1)
        groups.append(f"({', '.join(marks)})")
        values += row
    return head + ", ".join(groups) + tail, values


async def _move_nodes(
    conn: BaseDBAsyncClient, company_id: int, moves: list[ScoreMove]
) -> None:
    """Move each score's counts in its board's tree, in one statement."""
    rows = [
        [company_id, metric, kind.value, start, scope, level, prefix, count]
        for (metric, kind, start, scope), changed in _node_changes(moves).items()
        for (level, prefix), count in changed.items()
    ]
    if rows:
        await conn.execute_query(*_insert_sql(conn, rows, NODE_INSERT, NODE_CONFLICT))


def _node_changes(moves: list[ScoreMove]) -> dict[Board, Counter[tuple[int, int]]]:
    return {
        move.board: ranking.node_deltas(
            [(_tree(move.before), ranking.tree_value(move.after))]
        )
        for move in moves
    }


def _tree(value: Decimal | None) -> int | None:
    return None if value is None else ranking.tree_value(value)


async def counts_above(
    conn: BaseDBAsyncClient, company_id: int, board: Board, points: list[int]
) -> list[int]:
    """How many scores on a board lie above each tree value, in one statement.

    Reads at most 180 tree nodes per point through the node table's unique
    index, whatever the board's size.
    """
    metric, kind, start, scope = board
    parts: list[str] = []
    values: list[Any] = []
    for tag, point in enumerate(points):
        for level, low, high in ranking.sibling_ranges(point):
            row = [tag, company_id, metric, kind.value, start, scope, level, low, high]
            m = placeholders(conn, len(row), start=len(values) + 1)
            values += row
            # Only bind markers are formatted into the SQL.
            parts.append(
                f"SELECT CAST({m[0]} AS INTEGER) AS tag, count "  # noqa: S608
                "FROM leaderboard_node "
                f"WHERE company_id = {m[1]} AND metric_id = {m[2]} "
                f"AND period_kind = {m[3]} AND period_start = {m[4]} "
                f"AND scope_key = {m[5]} AND level = {m[6]} "
                f"AND prefix BETWEEN {m[7]} AND {m[8]}"
            )
    totals = [0] * len(points)
    if parts:
        _, rows = await conn.execute_query(" UNION ALL ".join(parts), values)
        for tag, count in rows:
            totals[int(tag)] += int(count)
    return totals


async def rank_events(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    activity: Activity,
    moves: list[ScoreMove],
) -> list[AchievementEvent]:
    """RANK_CHANGED when the member rose into the top N of an emitting board
    or passed someone on it (see `ranking.RANK_EVENT_KINDS`)."""
    candidates = [m for m in moves if _emits(m)]
    if not candidates:
        return []
    metrics = await MetricDefinition.filter(
        id__in={m.board[0] for m in candidates}
    ).using_db(conn)
    emitting = {
        m.id: m for m in metrics if m.activity_kind == ranking.RANK_EVENT_ACTIVITY
    }
    # One event per activity at most: the week's board before the month's,
    # metrics by id, so an order is one line in the feed, not six.
    for move in sorted(candidates, key=_priority):
        if move.board[0] in emitting:
            metric = emitting[move.board[0]]
            event = await _rank_event(conn, company, member, activity, move, metric)
            if event is not None:
                return [event]
    return []


def _priority(move: ScoreMove) -> tuple[int, int]:
    metric, kind, _, _ = move.board
    return (ALL_KINDS.index(kind), metric)


def _emits(move: ScoreMove) -> bool:
    _, kind, _, scope = move.board
    rose = move.before is None or move.after > move.before
    return rose and scope == ranking.COMPANY and kind in ranking.RANK_EVENT_KINDS


async def _rank_event(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    activity: Activity,
    move: ScoreMove,
    metric: MetricDefinition,
) -> AchievementEvent | None:
    after = ranking.tree_value(move.after)
    if move.before is None:
        (above_after,) = await counts_above(conn, company.id, move.board, [after])
        reason = ranking.rank_change_reason(None, above_after + 1, 0)
        return await _write(
            conn, company, member, activity, move, metric, reason, above_after + 1
        )
    before = ranking.tree_value(move.before)
    above_after, above_before, from_before, from_after = await counts_above(
        conn, company.id, move.board, [after, before, before - 1, after - 1]
    )
    # The member now sits at `after`, above `before`: they are in both of the
    # last two counts and in `above_before`, which thus is their old rank.
    overtaken = from_before - from_after
    reason = ranking.rank_change_reason(above_before, above_after + 1, overtaken)
    return await _write(
        conn, company, member, activity, move, metric, reason, above_after + 1
    )


async def _write(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    activity: Activity,
    move: ScoreMove,
    metric: MetricDefinition,
    reason: str | None,
    rank: int,
) -> AchievementEvent | None:
    if reason is None:
        return None
    metric_id, kind, start, _ = move.board
    team_lang = await _team_language(conn, member)
    return await AchievementEvent.create(
        using_db=conn,
        company_id=company.id,
        kind=EventKind.RANK_CHANGED,
        member_id=member.id,
        team_id=member.team_id,
        period_start=start,
        dedupe_key=f"rank:{activity.id}:{metric_id}:{kind.value}",
        message=messages.rank_changed(
            member.language,
            rank=rank,
            metric_name=_metric_name(metric, member.language),
            period_kind=kind,
        ),
        team_message=messages.rank_changed_by(
            team_lang,
            member_name=member.name,
            rank=rank,
            metric_name=_metric_name(metric, team_lang),
            period_kind=kind,
        ),
        occurred_at=activity.occurred_at,
    )


def _metric_name(metric: MetricDefinition, lang: str) -> str:
    return messages.localized(metric.name, metric.titles, lang)


async def _team_language(conn: BaseDBAsyncClient, member: Member) -> str:
    """Team feed lines are in the team manager's language, as elsewhere."""
    if member.team_id is None:
        return member.language
    team = (
        await Team.filter(id=member.team_id)
        .using_db(conn)
        .select_related("manager")
        .get()
    )
    return team.manager.language if team.manager is not None else member.language


async def rebuild_nodes(conn: BaseDBAsyncClient, company_id: int) -> None:
    """Count a company's stored scores into fresh trees, in SQL.

    For bulk loads (the demo's history, benchmarks) that insert scores
    directly: one grouped INSERT per tree level instead of a move per row.
    """
    (mark,) = placeholders(conn, 1)
    await conn.execute_query(
        f"DELETE FROM leaderboard_node WHERE company_id = {mark}",  # noqa: S608
        [company_id],
    )
    # Stored values are already scaled by 10**4, as tree values are.
    top = (1 << ranking.DOMAIN_BITS) - 1
    offset_value = f"(value + {ranking.OFFSET})"
    clamped = (
        f"CASE WHEN {offset_value} < 0 THEN 0 WHEN {offset_value} > {top} "
        f"THEN {top} ELSE {offset_value} END"
    )
    for level in range(1, ranking.LEVELS + 1):
        shift = ranking.DIGIT_BITS * (ranking.LEVELS - level)
        # Only integers computed here are formatted into the SQL.
        await conn.execute_query(
            "INSERT INTO leaderboard_node (company_id, metric_id, period_kind, "  # noqa: S608
            "period_start, scope_key, level, prefix, count) "
            f"SELECT company_id, metric_id, period_kind, period_start, scope_key, "
            f"{level}, prefix, COUNT(*) FROM (SELECT company_id, metric_id, "
            f"period_kind, period_start, scope_key, ({clamped}) >> {shift} AS prefix "
            f"FROM leaderboard_score WHERE company_id = {mark}) AS scores "
            "GROUP BY company_id, metric_id, period_kind, period_start, scope_key, "
            "prefix",
            [company_id],
        )
