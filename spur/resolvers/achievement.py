"""Live feeds: whose events a subscriber gets, and the replay queries.

The socket's own handler closes it when the access token expires
(`spur.api.app.TransportWSHandler`), which cancels these feeds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing, suppress
from typing import Any, Final, TypeVar

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from spur.api.context import Context
from spur.api.errors import Forbidden, NotFound, RateLimited
from spur.models import AchievementEvent, EventKind, Goal, Team
from spur.resolvers.goal import GoalInPeriod, goal_in_period
from spur.resolvers.loaders import Loaders, loaders_for_events
from spur.subscriptions.broker import BrokerUnavailable, SubscriberOverflow
from spur.subscriptions.fanout import Route, current_live
from spur.subscriptions.feed import event_feed, parse_cursor, progress_feed

logger = logging.getLogger(__name__)

T = TypeVar("T")
Replay = Callable[[int, int], Awaitable[list[AchievementEvent]]]

# RFC 6455 "Try Again Later": graphql-ws clients reconnect after it.
TRY_AGAIN_LATER: Final = 1013
# Events for a team's managers and HR only, never in a member's own feed.
TEAM_ONLY: Final = frozenset({EventKind.MANAGER_ALERT})


def member_feed(
    ctx: Context, after: str | None
) -> AsyncGenerator[AchievementEvent, None]:
    """The viewer's own events: replayed after `after`, then live.

    The cursor is checked now, before the caller starts streaming.
    """
    viewer = ctx.viewer
    member_id = viewer.member_id
    cursor = parse_cursor(after)

    def audience(message: Mapping[str, Any]) -> bool:
        # An alert names its subject, but is for the subject's managers.
        own = message.get("member_id") == member_id
        return own and message.get("kind") not in TEAM_ONLY

    pages = _ReplayPages(ctx, member_id=member_id)
    routes: tuple[Route, ...] = (("member", member_id),)
    pages.hidden = TEAM_ONLY
    return pages.fresh(_events(ctx, cursor, audience, pages, routes))


async def team_feed(
    ctx: Context, team_id: int, after: str | None
) -> AsyncGenerator[AchievementEvent, None]:
    """A team's events for its managers and HR, replayed then live.

    Awaiting it checks the team, the viewer's right and the cursor.
    """
    viewer = ctx.viewer
    cursor = parse_cursor(after)
    team = await Team.get_or_none(id=team_id, company_id=viewer.company_id)
    if team is None:
        raise NotFound("No such team.")
    if not viewer.can_watch_team(team.id):
        raise Forbidden("Only the team's managers and HR may watch its feed.")

    def audience(message: Mapping[str, Any]) -> bool:
        return message.get("team_id") == team_id

    pages = _ReplayPages(ctx, team_id=team_id)
    routes: tuple[Route, ...] = (("team", team_id),)
    return pages.fresh(_events(ctx, cursor, audience, pages, routes))


async def goal_changes(ctx: Context) -> AsyncGenerator[GoalInPeriod, None]:
    """The viewer's goals (own and team) each time their progress moves."""
    viewer = ctx.viewer

    def audience(message: Mapping[str, Any]) -> bool:
        team = viewer.team_id
        mine = message.get("member_id") == viewer.member_id
        return mine or (team is not None and message.get("team_id") == team)

    def owned(goal: Goal) -> bool:
        # A manager may *see* a teammate's goal, but it is not theirs to push.
        team = viewer.team_id
        return goal.member_id == viewer.member_id or (
            team is not None and goal.team_id == team
        )

    routes: tuple[Route, ...] = (("member", viewer.member_id),)
    if viewer.team_id is not None:
        routes += (("team", viewer.team_id),)
    live = current_live()
    feed = (
        progress_feed(ctx.services.broker, viewer.company_id, audience)
        if live is None
        else live.progress(routes, audience)
    )
    async with aclosing(_fresh(ctx, feed)) as changes:
        async for keys in changes:
            for goal_id, start in keys:
                item = await goal_in_period(ctx, f"{goal_id}@{start}")
                if item is not None and owned(item.goal):
                    yield item


def _events(
    ctx: Context,
    cursor: int | None,
    audience: Callable[[Mapping[str, Any]], bool],
    replay: Replay,
    routes: tuple[Route, ...],
) -> AsyncIterator[AchievementEvent]:
    """On a socket, the fan-out hub's feed (replay alone, then shared);
    elsewhere (tests, scripts) a feed of its own over the broker."""
    live = current_live()
    if live is None:
        broker = ctx.services.broker
        return event_feed(broker, ctx.viewer.company_id, cursor, audience, replay)
    return live.events(routes, audience, cursor, replay)


class _ReplayPages:
    """Replays an audience's stored events a page at a time.

    Each page comes with loaders already holding what its events show (member,
    goal, progress, reward), so replaying costs a fixed number of statements
    per page however many events it holds.
    """

    def __init__(self, ctx: Context, **audience: int) -> None:
        self.ctx = ctx
        self.audience = audience
        self.hidden: frozenset[EventKind] = frozenset()
        self.primed: set[int] = set()

    async def __call__(self, after_seq: int, limit: int) -> list[AchievementEvent]:
        query = AchievementEvent.filter(seq__gt=after_seq, **self.audience)
        if self.hidden:
            query = query.exclude(kind__in=list(self.hidden))
        events = await query.order_by("seq").limit(limit)
        self.ctx.loaders = await loaders_for_events(events)
        self.primed = {event.id for event in events}
        return events

    def fresh(
        self, stream: AsyncIterator[AchievementEvent]
    ) -> AsyncGenerator[AchievementEvent, None]:
        """The feed, with fresh loaders for every live event."""
        return _fresh(self.ctx, stream, lambda event: event.id in self.primed)


async def _fresh(
    ctx: Context,
    stream: AsyncIterator[T],
    primed: Callable[[T], bool] = lambda item: False,
) -> AsyncGenerator[T, None]:
    """Items with fresh loaders each: a socket's context lives for hours.

    Closing this generator closes `stream`, releasing its broker subscription.
    """
    try:
        async for item in stream:
            if not primed(item):
                ctx.loaders = Loaders()
            yield item
    except SubscriberOverflow as error:
        raise RateLimited(
            "This subscription fell too far behind; subscribe again with `after` "
            "set to the last cursor you received.",
            reason="SUBSCRIBER_TOO_SLOW",
        ) from error
    except BrokerUnavailable as error:
        await _resume_later(ctx, error)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def _resume_later(ctx: Context, error: BrokerUnavailable) -> None:
    """A feed that cannot poll lost its broker: the client should come back.

    Event feeds (the hub's and `event_feed`) read the event table while the
    broker is away and never end this way; a broker-only feed outside the
    hub (`progress_feed`) does. On a socket the whole socket goes (1013); the
    client reconnects and subscribes with the cursor it last received.
    """
    logger.warning("live feed interrupted (request %s): %s", ctx.request_id, error)
    socket = ctx.request
    if not isinstance(socket, WebSocket):
        raise RateLimited(
            "The live feed was interrupted; subscribe again later with `after` "
            "set to the last cursor you received.",
            reason="LIVE_FEED_INTERRUPTED",
        ) from error
    if socket.application_state is WebSocketState.CONNECTED:
        # Another feed of the same socket may be closing it right now.
        with suppress(WebSocketDisconnect, RuntimeError):
            await socket.close(TRY_AGAIN_LATER, "Live feed interrupted")
