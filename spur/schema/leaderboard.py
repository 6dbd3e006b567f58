"""Leaderboards: any metric, period and scope, ranked as prizes are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.api.errors import BadUserInput
from spur.engine.periods import PeriodKind, in_calendar
from spur.resolvers import leaderboard as boards
from spur.resolvers.ids import is_key_text, row_key
from spur.resolvers.leaderboard import BoardView, Entry
from spur.resolvers.permissions import IsAuthenticated
from spur.schema.goal import Period
from spur.schema.pagination import Connection, connection, page_bounds


@strawberry.type(description="Who holds a place on a leaderboard.")
class LeaderboardMember:
    member_id: strawberry.Private[int]
    name: str = strawberry.field(description="Full name.")

    @strawberry.field(description="The member's global id (a Member node).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(relay.GlobalID("Member", str(self.member_id))))


@strawberry.type(description="A place on a leaderboard.")
class LeaderboardEntry:
    entry: strawberry.Private[Entry]

    @strawberry.field(
        description="Competition rank: equal values share a rank (1, 2, 2, 4)."
    )
    def rank(self) -> int:
        return self.entry.rank

    @strawberry.field(description="The member's value, in the metric's unit.")
    def value(self) -> float:
        return float(self.entry.value)

    @strawberry.field(
        description="When the member reached this value: among equal values "
        "the earlier ranks first, then the name."
    )
    def reached_at(self) -> datetime:
        return self.entry.reached_at

    @strawberry.field(description="The member.")
    def member(self) -> LeaderboardMember:
        return LeaderboardMember(member_id=self.entry.member_id, name=self.entry.name)


@strawberry.type(description="A member's final place on one past period's board.")
class LeaderboardHistoryPoint:
    period: Period = strawberry.field(description="The past period.")
    entry: LeaderboardEntry | None = strawberry.field(
        description="The place at the period's end; null when not on that board."
    )


@strawberry.type(
    description="One metric over one period in one scope (company, team or "
    "segment), in board order: higher value, then who reached it first, then "
    "name."
)
class Leaderboard:
    board: strawberry.Private[BoardView]

    @strawberry.field(description="The metric's key.")
    def metric(self) -> str:
        return self.board.metric.key

    @strawberry.field(description="The period the board covers.")
    def period(self) -> Period:
        return Period.of(self.board.period)

    @strawberry.field(
        description="company, team:<id>, age:30-, age:35+ or market:<code>."
    )
    def scope(self) -> str:
        return self.board.scope

    @strawberry.field(description="How many members are on the board.")
    async def size(self) -> int:
        return await boards.board_size(self.board)

    @strawberry.field(description="The board from the top, a page at a time.")
    async def entries(
        self, first: int = 10, after: str | None = None
    ) -> Connection[LeaderboardEntry]:
        offset, limit = page_bounds(first, after)
        found = await boards.top(self.board, offset, limit + 1)
        return connection([LeaderboardEntry(entry=e) for e in found], offset, limit)

    @strawberry.field(description="The viewer's place; null when not on the board.")
    async def viewer_entry(
        self, info: strawberry.Info[Context, Any]
    ) -> LeaderboardEntry | None:
        found = await boards.entry_of(self.board, info.context.viewer.member_id)
        return LeaderboardEntry(entry=found) if found else None

    @strawberry.field(
        description="The viewer and up to n entries either side (2n + 1 in "
        "all when the board has them, also at its top and bottom); empty "
        "when the viewer is not on the board."
    )
    async def around_viewer(
        self, info: strawberry.Info[Context, Any], n: int = 2
    ) -> list[LeaderboardEntry]:
        centre = await boards.entry_of(self.board, info.context.viewer.member_id)
        if centre is None:
            return []
        found = await boards.around(self.board, centre, n)
        return [LeaderboardEntry(entry=e) for e in found]

    @strawberry.field(
        description="The viewer's final place on this board in each of the "
        "last periods before this one, most recent first."
    )
    async def viewer_history(
        self, info: strawberry.Info[Context, Any], last: int = 6
    ) -> list[LeaderboardHistoryPoint]:
        points = await boards.history(self.board, info.context.viewer.member_id, last)
        return [
            LeaderboardHistoryPoint(
                period=Period.of(p.period),
                entry=LeaderboardEntry(entry=p.entry) if p.entry else None,
            )
            for p in points
        ]


def team_id_of(global_id: strawberry.ID | None) -> int | None:
    """The team's primary key from a Team global id."""
    if global_id is None:
        return None
    try:
        decoded = relay.GlobalID.from_id(str(global_id))
    except (ValueError, TypeError) as error:
        raise BadUserInput("teamId is not a Team id.", field="teamId") from error
    if decoded.type_name != "Team" or not is_key_text(decoded.node_id):
        raise BadUserInput("teamId is not a Team id.", field="teamId")
    return row_key(decoded.node_id)


@strawberry.type
class LeaderboardQuery:
    @strawberry.field(
        description="A leaderboard: the company's by default, a team's with "
        "teamId, a segment's (age:30-, age:35+, market:<code>) with segment; "
        "the current period, or the one holding `at`. Salespeople read the "
        "company, its segments and their own team; partner apps no money.",
        permission_classes=[IsAuthenticated],
    )
    async def leaderboard(
        self,
        info: strawberry.Info[Context, Any],
        metric: str,
        period: PeriodKind,
        team_id: strawberry.ID | None = None,
        segment: str | None = None,
        at: datetime | None = None,
    ) -> Leaderboard:
        ctx = info.context
        if at is not None and at.tzinfo is None:
            raise BadUserInput("at needs a time zone offset.", field="at")
        if at is not None and not in_calendar(at.date()):
            raise BadUserInput("at is outside the supported calendar.", field="at")
        when = at if at is not None else ctx.services.clock()
        board = await boards.open_board(
            ctx.viewer, metric, period, team_id_of(team_id), segment, when
        )
        return Leaderboard(board=board)
