"""Live feeds at scale: one execution and one serialisation per shared payload.

A `FanoutHub` holds, per process, one broker subscription per company
(`ChannelFeed`) and the `Group`s listening on it. Subscribers whose payload
cannot differ (same document and shared variables, same audience, same
visibility class; see `spur.subscriptions.shape`) are `Member`s of one group.
For each live event the group runs its document once through the schema with
a representative context, encodes the result once, and offers the `next`
frame to each member's socket `Sink`; a sink that is full gives its socket up
without slowing the others.

A subscriber's replay after its cursor is its own: it joins its group first
(the group holds what arrives meanwhile), replays from the table, then goes
live and gets the held frames newer than its last replayed event, so nothing
is missed or repeated. The feed reads gaps from the table (`prev_seq`), as
`spur.subscriptions.feed` does per subscriber without the hub.

While the broker is unavailable (Redis down) a company's feed polls the event
table about once a second through the same gap path and tries the broker
again with a bounded backoff (`Outage`); its groups and members stay, and
once it is subscribed again it reads the gap from the table and is live.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Mapping,
)
from contextlib import aclosing, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final

from spur.api.errors import RateLimited
from spur.models.event import AchievementEvent
from spur.subscriptions.broker import (
    Broker,
    BrokerClosed,
    BrokerUnavailable,
    Outage,
    SubscriberOverflow,
    company_channel,
)
from spur.subscriptions.relay import event_message
from spur.subscriptions.sink import Sink

logger = logging.getLogger(__name__)

Route = tuple[str, int]
Audience = Callable[[Mapping[str, Any]], bool]
Replay = Callable[[int, int], Awaitable[list[AchievementEvent]]]
# Runs a document with a context: Strawberry's `schema.stream`, in practice.
Execute = Callable[[str, dict[str, Any] | None, str | None, Any], Awaitable[Any]]

REPLAY_PAGE_SIZE: Final = 100
DEFAULT_GROUP_BACKLOG: Final = 1000
DEFAULT_PER_MEMBER: Final = 100
_EVENT_COLUMNS: Final = (
    "id",
    "seq",
    "company_id",
    "kind",
    "member_id",
    "team_id",
    "goal_id",
)


@dataclass
class Counters:
    """Cumulative work, for tests and benchmarks (gauges come from the hub)."""

    executions: int = 0
    deliveries: int = 0
    given_up: int = 0


@dataclass
class Ticket:
    """One socket operation's way into the hub.

    `key` names what its payload depends on besides the audience (document,
    shared variables, visibility class); `context` builds the context a
    group executes with (the subscriber's, with the group's ticket inside).
    """

    hub: FanoutHub
    sink: Sink
    operation_id: str
    document: str
    variables: dict[str, Any] | None
    operation_name: str | None
    company_id: int
    member_id: int
    key: Hashable
    context: Callable[[], Any]
    finish: Callable[[str], None]
    handed_over: bool = False
    member: Member | None = None

    async def events(
        self,
        routes: tuple[Route, ...],
        audience: Audience,
        after: int | None,
        replay: Replay,
    ) -> AsyncGenerator[AchievementEvent, None]:
        """Replayed events after `after` (individually), then the group's."""
        member = await self.hub.join(self, "event", routes, audience)
        try:
            last = 0 if after is None else after
            if after is not None:
                async for event in _replayed(replay, after):
                    last = event.seq or last
                    yield event
            member.go_live(last)
            self.handed_over = True
        finally:
            if not self.handed_over:
                member.leave()

    async def progress(
        self, routes: tuple[Route, ...], audience: Audience
    ) -> AsyncGenerator[Any, None]:
        """Live progress notices: straight into the group (nothing to replay)."""
        member = await self.hub.join(self, "progress", routes, audience)
        member.go_live(0)
        self.handed_over = True
        return
        yield  # an async generator that yields nothing

    def leave(self) -> None:
        """The operation ended (completed, socket gone): stop receiving."""
        if self.member is not None:
            self.member.leave()


@dataclass
class GroupTicket:
    """The ticket inside a group's own execution: it streams the group's items."""

    group: Group

    def events(
        self,
        routes: tuple[Route, ...],
        audience: Audience,
        after: int | None,
        replay: Replay,
    ) -> AsyncGenerator[Any, None]:
        return self.group.items()

    def progress(
        self, routes: tuple[Route, ...], audience: Audience
    ) -> AsyncGenerator[Any, None]:
        return self.group.items()


# The live ticket of the operation running in this task: the socket handler
# sets it around each operation, a group around its own execution. Resolvers
# read it through `current_live`; outside a socket it is None.
LIVE: ContextVar[Ticket | GroupTicket | None] = ContextVar("spur_live", default=None)


def current_live() -> Ticket | GroupTicket | None:
    """The fan-out ticket of the running operation, if it runs on a socket."""
    return LIVE.get()


async def _replayed(replay: Replay, after: int) -> AsyncIterator[AchievementEvent]:
    position = after
    while True:
        page = await replay(position, REPLAY_PAGE_SIZE)
        for event in page:
            if event.seq is not None and event.seq > position:
                position = event.seq
                yield event
        if len(page) < REPLAY_PAGE_SIZE:
            return


@dataclass(eq=False)
class Member:
    """One operation in a group: its socket, its id and how far it has got."""

    group: Group
    ticket: Ticket
    floor: int = 0
    held: list[tuple[int | None, str]] | None = field(default_factory=list)
    ended: bool = False

    def go_live(self, last: int) -> None:
        """Leave replay: send held frames newer than `last`, then live ones."""
        self.floor = last
        held, self.held = self.held or [], None
        for seq, frame in held:
            if seq is None or seq > last:
                self.ticket.sink.offer(frame)
        if self.ended:
            self.end()

    def end(self) -> None:
        """The group's stream ended: complete the operation once it is live."""
        self.ended = True
        if self.held is None:
            self.leave()
            self.ticket.finish(self.ticket.operation_id)

    def leave(self) -> None:
        self.group.remove(self)


class Group:
    """Subscribers sharing one execution per item, and that execution's task."""

    def __init__(
        self,
        feed: ChannelFeed,
        key: Hashable,
        kind: str,
        routes: tuple[Route, ...],
        audience: Audience,
        founder: Ticket,
    ) -> None:
        self.feed = feed
        self.key = key
        self.kind = kind
        self.routes = routes
        self.audience = audience
        self.members: dict[Member, None] = {}
        self._items: deque[tuple[Any, int | None]] = deque()
        self._wake = asyncio.Event()
        self._current: int | None = None
        self._overflowed = False
        self.task = asyncio.create_task(self._run(founder), name=f"fanout {kind}")

    def add(self, ticket: Ticket) -> Member:
        member = Member(self, ticket)
        self.members[member] = None
        ticket.member = member
        self.feed.hub.count_member(ticket.member_id, +1)
        return member

    def remove(self, member: Member) -> None:
        if self.members.pop(member, False) is not False:
            self.feed.hub.count_member(member.ticket.member_id, -1)
            member.ticket.member = None
        if not self.members:
            self.stop()

    def push(self, item: Any, seq: int | None) -> None:
        """An item for the execution; a backlog past the limit ends the group."""
        if len(self._items) >= self.feed.hub.group_backlog:
            self._overflowed = True
        else:
            self._items.append((item, seq))
        self._wake.set()

    def stop(self) -> None:
        self.feed.remove(self)
        self.task.cancel()

    async def items(self) -> AsyncGenerator[Any, None]:
        """The execution's source: pushed items, one at a time."""
        while True:
            while not self._items and not self._overflowed:
                self._wake.clear()
                await self._wake.wait()
            if self._overflowed:
                raise SubscriberOverflow("a shared live feed fell behind")
            item, self._current = self._items.popleft()
            yield item

    async def _run(self, founder: Ticket) -> None:
        hub = self.feed.hub
        context = founder.context()
        LIVE.set(GroupTicket(self))
        try:
            stream = await hub.execute(
                founder.document, founder.variables, founder.operation_name, context
            )
            async with aclosing(stream):
                async for result in stream:
                    hub.counters.executions += 1
                    self._deliver(self._current, json.dumps(_payload(result), **_JSON))
        except asyncio.CancelledError:
            raise
        except Exception:  # the members must hear of it, not hang
            logger.exception("shared execution failed")
        self.feed.remove(self)
        for member in tuple(self.members):
            member.end()

    def _deliver(self, seq: int | None, payload: str) -> None:
        """Offer one encoded payload to every member, framed with its id."""
        frames: dict[str, str] = {}
        counters = self.feed.hub.counters
        for member in tuple(self.members):
            if seq is not None and seq <= member.floor:
                continue
            operation_id = member.ticket.operation_id
            frame = frames.get(operation_id)
            if frame is None:
                frame = frames[operation_id] = _next_frame(operation_id, payload)
            if member.held is not None:
                member.held.append((seq, frame))
            elif member.ticket.sink.offer(frame):
                counters.deliveries += 1


_JSON: Final[dict[str, Any]] = {"separators": (",", ":")}


def _payload(result: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if getattr(result, "extensions", None):
        payload["extensions"] = result.extensions
    return payload


def _next_frame(operation_id: str, payload: str) -> str:
    head = json.dumps(operation_id)
    return f'{{"id":{head},"type":"next","payload":{payload}}}'


class ChannelFeed:
    """One company's broker subscription, routing its messages to groups."""

    def __init__(self, hub: FanoutHub, company_id: int) -> None:
        self.hub = hub
        self.company_id = company_id
        self.groups: dict[Hashable, Group] = {}
        self.routes: dict[Route, set[Group]] = {}
        self.seen: int | None = None
        self.ready = asyncio.Event()
        self.failure: BaseException | None = None
        # True while the broker is unavailable and the table is polled.
        self.polling = False
        # Set once the last group left: the task must end even if its
        # cancellation is swallowed on the way (a timeout expiring at the
        # same moment turns it into a TimeoutError on Python 3.11).
        self.stopped = False
        self.task = asyncio.create_task(self._run(), name=f"fanout {company_id}")

    def add(self, group: Group) -> None:
        self.groups[group.key] = group
        for route in group.routes:
            self.routes.setdefault(route, set()).add(group)

    def remove(self, group: Group) -> None:
        if self.groups.get(group.key) is not group:
            return
        del self.groups[group.key]
        for route in group.routes:
            routed = self.routes.get(route)
            if routed is not None:
                routed.discard(group)
                if not routed:
                    del self.routes[route]
        if not self.groups:
            self.stopped = True
            self.hub.drop_feed(self)
            self.task.cancel()

    async def wait_ready(self) -> None:
        await self.ready.wait()
        if self.failure is not None:
            raise self.failure

    async def _run(self) -> None:
        channel = company_channel(self.company_id)
        outage = self.hub.outage()
        lost: BrokerUnavailable | None = None
        failures = 0
        while not self.stopped:
            try:
                if lost is not None:
                    await self._poll(outage, lost)
                    lost = None
                    continue
                async with self.hub.broker.subscribe(channel) as messages:
                    self.polling = False
                    await self._catch_up()
                    if outage.recovered():
                        logger.info("fan-out feed of %s is live again", channel)
                    self.ready.set()
                    failures = 0
                    async for message in messages:
                        if self.stopped:
                            return
                        await self._route(message)
                return self._end_groups()
            except SubscriberOverflow:
                # Resubscribe, then read what was missed from the table.
                logger.warning("fan-out feed of %s fell behind", channel)
            except BrokerClosed as error:
                return self._fail(error)
            except BrokerUnavailable as error:
                # Members stay: the table feeds them until the broker is back.
                lost = error
            except Exception as error:
                if not self.ready.is_set():
                    return self._fail(error)
                # The database, say: retry from `seen`; members keep waiting.
                failures += 1
                logger.exception("fan-out feed of %s failed; retrying", channel)
                await asyncio.sleep(min(5.0, 0.1 * 2 ** min(failures, 6)))

    async def _poll(self, outage: Outage, error: BrokerUnavailable) -> None:
        """Without the broker: dispatch from the table until the next attempt.

        The first poll fixes `seen` (the head) for a feed that never listened,
        so its joiners go on as if subscribed; then each poll dispatches what
        was stamped since, through the same path as a gap.
        """
        if outage.failures == 0:
            logger.warning(
                "fan-out feed of company %s polls the event table: %r",
                self.company_id,
                error,
            )
        self.polling = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + outage.next_retry()
        while not self.stopped:
            await self._catch_up()
            self.ready.set()
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(outage.poll_interval, left))

    def _fail(self, error: BaseException) -> None:
        """The feed cannot go on: joiners get the error, members a 1013 close.

        Before the feed was ready the error is the joining operations' own
        (Strawberry masks and reports it); once live, every member's socket
        is closed so that its client comes back and resumes by cursor.
        """
        logger.warning("fan-out feed of company %s lost: %r", self.company_id, error)
        was_ready = self.ready.is_set()
        self.failure = error
        self.ready.set()
        self.hub.drop_feed(self)
        if not was_ready:
            return
        for group in tuple(self.groups.values()):
            for member in tuple(group.members):
                member.ticket.sink.give_up()

    def _end_groups(self) -> None:
        self.hub.drop_feed(self)
        for group in tuple(self.groups.values()):
            group.task.cancel()
            for member in tuple(group.members):
                member.end()

    async def _catch_up(self) -> None:
        """Dispatch what the table holds past `seen` (the head, the first time)."""
        if self.seen is None:
            self.seen = await _company_head(self.company_id)
            return
        while True:
            query = AchievementEvent.filter(
                company_id=self.company_id, seq__gt=self.seen
            ).order_by("seq")
            rows = await query.limit(REPLAY_PAGE_SIZE).values(*_EVENT_COLUMNS)
            for row in rows:
                await self._dispatch(event_message(row, None))
            if len(rows) < REPLAY_PAGE_SIZE:
                return

    async def _route(self, message: Mapping[str, Any]) -> None:
        if message.get("type") == "progress":
            for group in self._candidates(message, "progress"):
                group.push(message["goals"], None)
            return
        seq = message.get("seq")
        if message.get("type") != "event" or not isinstance(seq, int):
            return
        assert self.seen is not None
        if seq <= self.seen:
            return
        prev_seq = message.get("prev_seq")
        if isinstance(prev_seq, int) and prev_seq > self.seen:
            await self._catch_up()
            return
        await self._dispatch(message)

    async def _dispatch(self, message: Mapping[str, Any]) -> None:
        """Load the event once and push it to every group it is for."""
        seq = int(message["seq"])
        groups = self._candidates(message, "event")
        if groups:
            event = await AchievementEvent.get_or_none(
                id=message["id"], company_id=self.company_id
            )
            if event is None or event.seq != seq:
                logger.warning("event %s announced as seq %s not found", message, seq)
            else:
                for group in groups:
                    group.push(event, seq)
        self.seen = max(self.seen or 0, seq)

    def _candidates(self, message: Mapping[str, Any], kind: str) -> list[Group]:
        found: dict[Group, None] = {}
        for route_kind in ("member", "team"):
            key = message.get(f"{route_kind}_id")
            if not isinstance(key, int):
                continue
            for group in self.routes.get((route_kind, key), ()):
                if group.kind == kind and group.audience(message):
                    found[group] = None
        return list(found)


async def _company_head(company_id: int) -> int:
    query = AchievementEvent.filter(company_id=company_id, seq__isnull=False)
    found = await query.order_by("-seq").limit(1).values("seq")
    return int(found[0]["seq"]) if found else 0


class FanoutHub:
    """Per-process fan-out of live feeds; see the module's docstring."""

    def __init__(
        self,
        broker: Broker,
        execute: Execute,
        *,
        per_member: int = DEFAULT_PER_MEMBER,
        group_backlog: int = DEFAULT_GROUP_BACKLOG,
        outage: Callable[[], Outage] = Outage,
    ) -> None:
        self.broker = broker
        self.execute = execute
        self.per_member = per_member
        self.group_backlog = group_backlog
        # Makes each feed's polling and retry policy for broker outages.
        self.outage = outage
        self.counters = Counters()
        self._feeds: dict[int, ChannelFeed] = {}
        self._per_member: dict[int, int] = {}

    async def join(
        self, ticket: Ticket, kind: str, routes: tuple[Route, ...], audience: Audience
    ) -> Member:
        """Enter (or found) the group for `ticket`; live items are held for now.

        Returns once the company's feed listens, so every event stamped after
        this point reaches the member. Refuses one subscription past the
        per-member limit with `RATE_LIMITED`.
        """
        self.admit(ticket.member_id)
        feed = self._feeds.get(ticket.company_id)
        if feed is None:
            feed = self._feeds[ticket.company_id] = ChannelFeed(self, ticket.company_id)
        key = (kind, routes, ticket.key)
        group = feed.groups.get(key)
        if group is None:
            group = Group(feed, key, kind, routes, audience, ticket)
            feed.add(group)
        member = group.add(ticket)
        try:
            await feed.wait_ready()
        except BaseException:
            member.leave()
            raise
        return member

    def admit(self, member_id: int) -> None:
        """Refuse one more live subscription past the per-member limit with
        `RATE_LIMITED` (feeds outside the hub, such as `alerts`, check too)."""
        if self._per_member.get(member_id, 0) >= self.per_member:
            raise RateLimited(
                f"A member may hold {self.per_member} live subscriptions at once.",
                reason="TOO_MANY_LIVE_SUBSCRIPTIONS",
            )

    def count_member(self, member_id: int, change: int) -> None:
        count = self._per_member.get(member_id, 0) + change
        if count > 0:
            self._per_member[member_id] = count
        else:
            self._per_member.pop(member_id, None)

    def drop_feed(self, feed: ChannelFeed) -> None:
        if self._feeds.get(feed.company_id) is feed:
            del self._feeds[feed.company_id]

    def gauges(self) -> dict[str, int]:
        """What is open now: feeds, groups and members (live subscriptions)."""
        groups = [
            group for feed in self._feeds.values() for group in feed.groups.values()
        ]
        return {
            "feeds": len(self._feeds),
            "polling": sum(feed.polling for feed in self._feeds.values()),
            "groups": len(groups),
            "members": sum(len(group.members) for group in groups),
        }

    async def close(self) -> None:
        """End every feed and group (on shutdown)."""
        feeds = list(self._feeds.values())
        self._feeds.clear()
        tasks = [feed.task for feed in feeds]
        tasks += [group.task for feed in feeds for group in feed.groups.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(BaseException):
                await task
