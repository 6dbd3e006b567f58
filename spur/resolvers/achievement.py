"""Live feeds: whose events a subscriber gets, replay queries, token expiry."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from starlette.websockets import WebSocket

from spur.api.context import Context
from spur.api.errors import Forbidden, NotFound
from spur.models import AchievementEvent, Team
from spur.resolvers.goal import GoalInPeriod, goal_in_period
from spur.resolvers.loaders import Loaders
from spur.subscriptions.feed import event_feed, parse_cursor, progress_feed

logger = logging.getLogger(__name__)

T = TypeVar("T")
TOKEN_EXPIRED = 4403
Replay = Callable[[int, int], Awaitable[list[AchievementEvent]]]


def member_feed(ctx: Context, after: str | None) -> AsyncIterator[AchievementEvent]:
    """The viewer's own events: replayed after `after`, then live."""
    viewer = ctx.viewer
    member_id = viewer.member_id

    def audience(message: Mapping[str, Any]) -> bool:
        return message.get("member_id") == member_id

    async def replay(after_seq: int, limit: int) -> list[AchievementEvent]:
        return await _replay(after_seq, limit, member_id=member_id)

    return _fresh(
        ctx,
        event_feed(
            ctx.services.broker,
            viewer.company_id,
            parse_cursor(after),
            audience,
            replay,
        ),
    )


async def team_feed(
    ctx: Context, team_id: int, after: str | None
) -> AsyncIterator[AchievementEvent]:
    """A team's events for its managers and HR, replayed then live."""
    viewer = ctx.viewer
    team = await Team.get_or_none(id=team_id, company_id=viewer.company_id)
    if team is None:
        raise NotFound("No such team.")
    if not viewer.can_watch_team(team.id):
        raise Forbidden("Only the team's managers and HR may watch its feed.")

    def audience(message: Mapping[str, Any]) -> bool:
        return message.get("team_id") == team_id

    async def replay(after_seq: int, limit: int) -> list[AchievementEvent]:
        return await _replay(after_seq, limit, team_id=team_id)

    cursor = parse_cursor(after)
    return _fresh(
        ctx,
        event_feed(ctx.services.broker, viewer.company_id, cursor, audience, replay),
    )


async def goal_changes(ctx: Context) -> AsyncIterator[GoalInPeriod]:
    """The viewer's goals (own and team) each time their progress moves."""
    viewer = ctx.viewer

    def audience(message: Mapping[str, Any]) -> bool:
        team = viewer.team_id
        mine = message.get("member_id") == viewer.member_id
        return mine or (team is not None and message.get("team_id") == team)

    feed = progress_feed(ctx.services.broker, viewer.company_id, audience)
    async for keys in _fresh(ctx, feed):
        for goal_id, start in keys:
            item = await goal_in_period(ctx, f"{goal_id}@{start}")
            if item is not None:
                yield item


async def _replay(
    after_seq: int, limit: int, **audience: int
) -> list[AchievementEvent]:
    return (
        await AchievementEvent.filter(seq__gt=after_seq, **audience)
        .order_by("seq")
        .limit(limit)
    )


async def _fresh(ctx: Context, stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """Items with fresh loaders each (a socket's context lives for hours), and
    the socket closed when its access token expires."""
    deadline = asyncio.get_running_loop().time() + _seconds_left(ctx)
    try:
        async with asyncio.timeout_at(deadline):
            async for item in stream:
                ctx.loaders = Loaders()
                yield item
    except TimeoutError:
        await _close_expired(ctx)
    finally:
        await _close_stream(stream)


def _seconds_left(ctx: Context) -> float:
    return max(0.0, ctx.viewer.token_expires_at - time.time())


async def _close_expired(ctx: Context) -> None:
    if isinstance(ctx.request, WebSocket):
        logger.info("closing socket of member %s: token expired", ctx.viewer.member_id)
        await ctx.request.close(code=TOKEN_EXPIRED, reason="Token expired")


async def _close_stream(stream: AsyncIterator[Any]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
