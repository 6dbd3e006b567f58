"""Subscription streams: stored events after a cursor, then live ones.

`event_feed` subscribes to the company channel before it reads the table, so
an event stamped meanwhile is both buffered and replayed; it is yielded once
because everything at or below the last yielded `seq` is skipped. Live
messages name their company's previous event (`prev_seq`); when one arrives
whose predecessor was never seen, the feed reads the gap from the table
instead of trusting the broker's order.

While the broker is unavailable the feed polls the table (`Outage`), through
the same replay, and tries the broker again now and then; subscribed again,
it reads the gap from the table as it does after its first subscription.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Mapping,
)
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Final

from spur.api.errors import BadUserInput
from spur.models.event import AchievementEvent
from spur.subscriptions.broker import (
    Broker,
    BrokerUnavailable,
    Outage,
    company_channel,
)

logger = logging.getLogger(__name__)

Audience = Callable[[Mapping[str, Any]], bool]
Replay = Callable[[int, int], Awaitable[list[AchievementEvent]]]

REPLAY_PAGE_SIZE: Final = 100
# A BIGINT holds at most 19 digits.
_MAX_CURSOR_DIGITS: Final = 19
_MAX_SEQ: Final = 2**63 - 1


def parse_cursor(cursor: str | None) -> int | None:
    """The `seq` a client's `after` cursor names; None for no cursor.

    Raises `BadUserInput` for anything but a short run of ASCII digits.
    """
    if cursor is None:
        return None
    digits = cursor.isascii() and cursor.isdigit()
    if not digits or len(cursor) > _MAX_CURSOR_DIGITS or int(cursor) > _MAX_SEQ:
        raise BadUserInput("This cursor is not valid.", argument="after")
    return int(cursor)


def format_cursor(seq: int) -> str:
    """The cursor a client receives for the event stamped `seq`."""
    return str(seq)


@dataclass
class _Position:
    """How far a feed has got in its company's sequence.

    `seen`: every company event up to here has been dealt with (yielded or
    not for this audience). `last`: the highest `seq` yielded or declared
    seen by the client's cursor; nothing at or below it is yielded again.
    `page_size`: rows per replay query.
    """

    seen: int
    last: int
    page_size: int = REPLAY_PAGE_SIZE


async def event_feed(
    broker: Broker,
    company_id: int,
    after: int | None,
    audience: Audience,
    replay: Replay,
    *,
    page_size: int = REPLAY_PAGE_SIZE,
    outage: Outage | None = None,
) -> AsyncGenerator[AchievementEvent, None]:
    """Achievement events for one audience: those after `after`, then live.

    `after` is the `seq` of the last event the client saw (its cursor). With
    None the feed is live only: it starts after the company's latest event
    when called, read before subscribing so that nothing stamped while the
    subscription is set up is lost. `audience` filters broker messages
    (member_id, team_id, ...); `replay(after_seq, limit)` returns the same
    audience's stamped events with `seq > after_seq` in `seq` order.

    While the broker is unavailable the feed polls `replay` per `outage`
    (a fresh `Outage()` by default) instead of failing. Raises
    `SubscriberOverflow` when the consumer falls too far behind; the client
    then reconnects with its cursor. Closing or cancelling the generator
    releases the broker subscription.
    """
    if after is None:
        after = await _company_head(company_id)
    position = _Position(seen=after, last=after, page_size=page_size)
    outage = outage if outage is not None else Outage()
    while True:
        try:
            live = _subscribed(broker, company_id, audience, replay, position, outage)
            async with aclosing(live) as events:
                async for event in events:
                    yield event
            return
        except BrokerUnavailable as error:
            lost = error
        if outage.failures == 0:
            logger.warning("feed of company %s polls the table: %r", company_id, lost)
        async with aclosing(_polled(position, replay, outage)) as polled:
            async for event in polled:
                yield event


async def _subscribed(
    broker: Broker,
    company_id: int,
    audience: Audience,
    replay: Replay,
    position: _Position,
    outage: Outage,
) -> AsyncGenerator[AchievementEvent, None]:
    """Subscribe, read the table past `position`, then follow the broker."""
    async with broker.subscribe(company_channel(company_id)) as messages:
        if outage.recovered():
            logger.info("feed of company %s is live again", company_id)
        head = await _company_head(company_id)
        position.seen = max(position.seen, head)
        async with aclosing(_replay_from(position, replay)) as stored:
            async for event in stored:
                yield event
        async for message in messages:
            if _is_gap(message, position):
                async with aclosing(_replay_from(position, replay)) as gap:
                    async for event in gap:
                        yield event
            elif live := await _announced(message, company_id, position, audience):
                yield live
            _advance(message, position)


async def _polled(
    position: _Position, replay: Replay, outage: Outage
) -> AsyncGenerator[AchievementEvent, None]:
    """The table's events past `position`, read every poll until a retry."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + outage.next_retry()
    while True:
        async with aclosing(_replay_from(position, replay)) as stored:
            async for event in stored:
                yield event
        left = deadline - loop.time()
        if left <= 0:
            return
        await asyncio.sleep(min(outage.poll_interval, left))


async def progress_feed(
    broker: Broker, company_id: int, audience: Audience
) -> AsyncGenerator[list[tuple[int, str]], None]:
    """Goal keys (goal id, period start ISO date) whose progress changed.

    Live only and transient; a client that reconnects reads its goals anew.
    """
    async with broker.subscribe(company_channel(company_id)) as messages:
        async for message in messages:
            if message.get("type") == "progress" and audience(message):
                yield [(int(goal), str(start)) for goal, start in message["goals"]]


async def _replay_from(
    position: _Position, replay: Replay
) -> AsyncGenerator[AchievementEvent, None]:
    """Every stored event of the audience after `position.last`, in order."""
    page_size = position.page_size
    while True:
        page = await replay(position.last, page_size)
        for event in page:
            if event.seq is not None and event.seq > position.last:
                position.last = event.seq
                yield event
        if len(page) < page_size:
            return


async def _announced(
    message: Mapping[str, Any],
    company_id: int,
    position: _Position,
    audience: Audience,
) -> AchievementEvent | None:
    """The event an in-order live message announces, if new and for us."""
    seq = _seq_of(message)
    if seq is None or seq <= max(position.seen, position.last):
        return None
    if not audience(message):
        return None
    event = await AchievementEvent.get_or_none(id=message["id"], company_id=company_id)
    if event is None or event.seq != seq:
        logger.warning("event %s announced as seq %s not found", message["id"], seq)
        return None
    position.last = seq
    return event


def _is_gap(message: Mapping[str, Any], position: _Position) -> bool:
    """True when the message's predecessor has not been dealt with yet."""
    seq = _seq_of(message)
    if seq is None or seq <= position.seen:
        return False
    prev_seq = message.get("prev_seq")
    return isinstance(prev_seq, int) and prev_seq > position.seen


def _advance(message: Mapping[str, Any], position: _Position) -> None:
    seq = _seq_of(message)
    if seq is not None:
        position.seen = max(position.seen, seq)


def _seq_of(message: Mapping[str, Any]) -> int | None:
    """The `seq` of an event message; None for anything else."""
    seq = message.get("seq")
    if message.get("type") != "event" or not isinstance(seq, int):
        return None
    return seq


async def _company_head(company_id: int) -> int:
    """The company's highest stamped `seq` (0 before its first event)."""
    query = AchievementEvent.filter(company_id=company_id, seq__isnull=False)
    found = await query.order_by("-seq").limit(1).values("seq")
    return int(found[0]["seq"]) if found else 0
