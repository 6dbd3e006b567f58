"""Reading leaderboards: which board a viewer may see, its entries and ranks.

Every read is an index read: the top of a board walks the
`leaderboard_score_board` index; a rank is `1 + scores above`, counted in
the board's node tree (`scores.counts_above`); the entries around a member
are two short keyset reads either side of them. Nothing here reads
activity history or counts rows of a board.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Forbidden, NotFound
from spur.engine import ranking
from spur.engine.metrics import Aggregation
from spur.engine.periods import Period, PeriodKind, period_containing, previous_period
from spur.models import MetricDefinition, Role, Team
from spur.models.upserts import VALUE_SCALE, placeholders
from spur.resolvers.scores import Board, counts_above

MAX_AROUND = 25
METRIC_KEY_LENGTH = 64  # MetricDefinition.key: a longer key names no metric
MARKET_LENGTH = 16  # Team.market
MAX_HISTORY = 24


@dataclass(frozen=True)
class BoardView:
    """A board a viewer may read: its metric, period and scope."""

    metric: MetricDefinition
    period: Period
    scope: str
    company_id: int
    timezone: ZoneInfo

    @property
    def key(self) -> Board:
        return (self.metric.id, self.period.kind, self.period.start_date, self.scope)

    def earlier(self, steps: int) -> BoardView:
        """The same board `steps` periods back."""
        period = self.period
        for _ in range(steps):
            period = previous_period(period, self.timezone)
        return BoardView(
            self.metric, period, self.scope, self.company_id, self.timezone
        )


@dataclass(frozen=True)
class Entry:
    """A member's place on a board."""

    rank: int
    member_id: int
    name: str
    value: Decimal
    reached_at: datetime


async def open_board(
    viewer: Viewer,
    metric_key: str,
    kind: PeriodKind,
    team_id: int | None,
    segment: str | None,
    at: datetime,
) -> BoardView:
    """The board a viewer asked for, once they may read it.

    Anyone in the company reads the company board and its segments;
    a team's board is for its members, its managers and HR admins.
    Partner apps read no money (SUM_AMOUNT) boards. Another company's
    metric or team is NOT_FOUND.
    """
    metric = None
    if len(metric_key) <= METRIC_KEY_LENGTH:
        metric = await MetricDefinition.filter(
            company_id=viewer.company_id, key=metric_key
        ).first()
    if metric is None:
        raise NotFound("No such metric.", field="metric")
    if viewer.role is Role.PARTNER and metric.aggregation is Aggregation.SUM_AMOUNT:
        raise Forbidden("This account may not read amounts of money.")
    scope = await _scope(viewer, team_id, segment)
    period = period_containing(kind, at, viewer.timezone)
    return BoardView(metric, period, scope, viewer.company_id, viewer.timezone)


async def _scope(viewer: Viewer, team_id: int | None, segment: str | None) -> str:
    if team_id is not None and segment is not None:
        raise BadUserInput("Ask for a team or a segment, not both.", field="segment")
    if segment is not None:
        return await _segment_scope(viewer, segment)
    if team_id is None:
        return ranking.COMPANY
    if not await Team.filter(id=team_id, company_id=viewer.company_id).exists():
        raise NotFound("No such team.", field="teamId")
    if not viewer.can_see_team(team_id):
        raise Forbidden("Only the team, its managers and HR read its board.")
    return ranking.team_scope(team_id)


async def _segment_scope(viewer: Viewer, segment: str) -> str:
    """The scope key of a segment in any case (scores are stored under
    age:30-, age:35+ and the upper-cased market:<CODE>); a market no team of
    the company sells to is refused rather than read as an empty board."""
    kind, _, code = segment.strip().partition(":")
    if kind.lower() == "age" and f"age:{code}" in (
        ranking.AGE_YOUNG,
        ranking.AGE_SENIOR,
    ):
        return f"age:{code}"
    if kind.lower() == "market" and 0 < len(code) <= MARKET_LENGTH:
        teams = Team.filter(company_id=viewer.company_id, market__iexact=code)
        if await teams.exists():
            return ranking.market_scope(code)
        raise BadUserInput(f"No team sells to market {code!r}.", field="segment")
    raise BadUserInput("segment is age:30-, age:35+ or market:<code>.", field="segment")


BOARD_WHERE = (
    "s.company_id = {0} AND s.metric_id = {1} AND s.period_kind = {2} "
    "AND s.period_start = {3} AND s.scope_key = {4}"
)
ENTRY_SELECT = (
    "SELECT s.member_id, s.value, s.reached_at, m.name FROM leaderboard_score s "
    "JOIN member m ON m.id = s.member_id WHERE "
)
# Names compare by code point on both databases, as Python's `str` does, so
# the SQL board and `ranking.order_key` (prizes) agree inside a tie.
BOARD_ORDER = " ORDER BY s.value DESC, s.reached_at, {name}, s.member_id"
REVERSE_ORDER = " ORDER BY s.value, s.reached_at DESC, {name} DESC, s.member_id DESC"


def _name(conn: BaseDBAsyncClient) -> str:
    postgres = conn.capabilities.dialect == "postgres"
    return 'm.name COLLATE "C"' if postgres else "m.name"


def _board_sql(conn: BaseDBAsyncClient, board: BoardView) -> tuple[str, list[Any]]:
    metric, kind, start, scope = board.key
    values: list[Any] = [board.company_id, metric, kind.value, start, scope]
    return BOARD_WHERE.format(*placeholders(conn, 5)), values


async def top(board: BoardView, offset: int, limit: int) -> list[Entry]:
    """`limit` entries from `offset` in board order, ranked (two statements)."""
    conn = connections.get("default")
    where, values = _board_sql(conn, board)
    mark = placeholders(conn, 2, start=len(values) + 1)
    order = BOARD_ORDER.format(name=_name(conn))
    sql = f"{ENTRY_SELECT}{where}{order} LIMIT {mark[0]} OFFSET {mark[1]}"
    rows = await conn.execute_query_dict(sql, [*values, limit, offset])
    if not rows:
        return []
    first = 1
    if offset:
        (above,) = await counts_above(
            conn, board.company_id, board.key, [_point(rows[0]["value"])]
        )
        first = above + 1
    found = [_decoded(row) for row in rows]
    ranks = ranking.page_ranks([e[2] for e in found], first, offset)
    return [Entry(rank, *item) for rank, item in zip(ranks, found, strict=True)]


def _point(stored: Any) -> int:
    return ranking.tree_value(_decimal(stored))


def _decimal(stored: Any) -> Decimal:
    value = VALUE_SCALE.to_python_value(stored)
    assert value is not None
    return value


def _decoded(row: dict[str, Any]) -> tuple[int, str, Decimal, datetime]:
    reached = row["reached_at"]
    if not isinstance(reached, datetime):
        reached = datetime.fromisoformat(str(reached))
    return (int(row["member_id"]), str(row["name"]), _decimal(row["value"]), reached)


async def entry_of(board: BoardView, member_id: int) -> Entry | None:
    """A member's entry with its rank: one row read and one tree count."""
    conn = connections.get("default")
    where, values = _board_sql(conn, board)
    (mark,) = placeholders(conn, 1, start=len(values) + 1)
    sql = f"{ENTRY_SELECT}{where} AND s.member_id = {mark}"
    rows = await conn.execute_query_dict(sql, [*values, member_id])
    if not rows:
        return None
    member, name, value, reached = _decoded(rows[0])
    (above,) = await counts_above(
        conn, board.company_id, board.key, [ranking.tree_value(value)]
    )
    return Entry(above + 1, member, name, value, reached)


async def board_size(board: BoardView) -> int:
    """How many members are on the board: the tree's first level, 16 rows."""
    conn = connections.get("default")
    metric, kind, start, scope = board.key
    marks = placeholders(conn, 5)
    sql = (
        "SELECT COALESCE(SUM(count), 0) AS n FROM leaderboard_node "  # noqa: S608
        f"WHERE company_id = {marks[0]} AND metric_id = {marks[1]} "
        f"AND period_kind = {marks[2]} AND period_start = {marks[3]} "
        f"AND scope_key = {marks[4]} AND level = 1"
    )
    rows = await conn.execute_query_dict(
        sql, [board.company_id, metric, kind.value, start, scope]
    )
    return int(rows[0]["n"])


async def around(board: BoardView, centre: Entry, n: int) -> list[Entry]:
    """Up to `n` entries either side of `centre`, in board order, ranked.

    Near the top or the bottom the missing side is made up from the
    other, so the window keeps `2n + 1` entries when the board has them.
    """
    if not 0 <= n <= MAX_AROUND:
        raise BadUserInput(f"n must be between 0 and {MAX_AROUND}.", field="n")
    above = await _beside(board, centre, 2 * n, before=True)
    below = await _beside(board, centre, 2 * n, before=False)
    above.reverse()
    rows = [*above, (centre.member_id, centre.name, centre.value, centre.reached_at)]
    rows += below
    lo, hi = ranking.window(len(above), len(rows), n)
    return await _ranked(board, rows[lo:hi])


async def _beside(
    board: BoardView, centre: Entry, limit: int, *, before: bool
) -> list[tuple[int, str, Decimal, datetime]]:
    """Entries just before (nearest first) or after `centre` in board order.

    Two keyset reads, ties and then lower (or higher) values, each an
    index range read of at most `limit` rows.
    """
    conn = connections.get("default")
    found: list[tuple[int, str, Decimal, datetime]] = []
    name = _name(conn)
    for tied in (True, False):
        where, values = _board_sql(conn, board)
        stored = VALUE_SCALE.to_storage(centre.value)
        m = placeholders(conn, 8, start=len(values) + 1)
        if tied:
            # Order inside the tie, as a row comparison both databases know.
            op = "<" if before else ">"
            cond = (
                f" AND s.value = {m[0]} AND (s.reached_at {op} {m[1]} OR "
                f"(s.reached_at = {m[2]} AND ({name} {op} {m[3]} OR "
                f"({name} = {m[4]} AND s.member_id {op} {m[5]}))))"
            )
            args = [stored, centre.reached_at, centre.reached_at, centre.name]
            args += [centre.name, centre.member_id]
        else:
            cond = f" AND s.value {'>' if before else '<'} {m[0]}"
            args = [stored]
        order = (REVERSE_ORDER if before else BOARD_ORDER).format(name=name)
        mark = placeholders(conn, 1, start=len(values) + len(args) + 1)[0]
        sql = f"{ENTRY_SELECT}{where}{cond}{order} LIMIT {mark}"
        rows = await conn.execute_query_dict(sql, [*values, *args, limit])
        found += [_decoded(row) for row in rows]
        if len(found) >= limit:
            break
    return found[:limit]


async def _ranked(
    board: BoardView, rows: list[tuple[int, str, Decimal, datetime]]
) -> list[Entry]:
    """Entries with ranks, from one tree count per distinct value."""
    values = sorted({row[2] for row in rows}, reverse=True)
    if not values:
        return []
    conn = connections.get("default")
    points = [ranking.tree_value(v) for v in values]
    above = await counts_above(conn, board.company_id, board.key, points)
    rank_of = {v: n + 1 for v, n in zip(values, above, strict=True)}
    return [Entry(rank_of[row[2]], *row) for row in rows]


@dataclass(frozen=True)
class HistoryPoint:
    """A member's final place on one past period's board."""

    period: Period
    entry: Entry | None


async def history(board: BoardView, member_id: int, last: int) -> list[HistoryPoint]:
    """The member's rank at the end of each of the `last` periods before this one.

    A past board is final once its period ends, so its stored ranks are
    the ranks at the period's end; two statements per period.
    """
    if not 1 <= last <= MAX_HISTORY:
        raise BadUserInput(f"last must be between 1 and {MAX_HISTORY}.", field="last")
    points = []
    for steps in range(1, last + 1):
        past = board.earlier(steps)
        points.append(HistoryPoint(past.period, await entry_of(past, member_id)))
    return points
