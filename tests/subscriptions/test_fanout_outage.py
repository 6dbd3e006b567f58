"""The fan-out hub while its broker is unavailable: a company's feed polls the
event table, its groups keep their members, and it rejoins live delivery
once the broker is back, with nothing lost or repeated."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from spur.models import AchievementEvent
from spur.subscriptions.broker import (
    BrokerUnavailable,
    MemoryBroker,
    Outage,
    Subscription,
)
from spur.subscriptions.fanout import FanoutHub, Route, Ticket, current_live
from spur.subscriptions.relay import Relay
from spur.subscriptions.sink import Sink

if TYPE_CHECKING:
    from conftest import NewEvent, People, WaitUntil


class FlakyBroker(MemoryBroker):
    """A memory broker that can go away, as Redis does, and come back."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        if self.down:
            raise BrokerUnavailable("down")
        await super().publish(channel, message)

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        if self.down:
            raise BrokerUnavailable("down")
        return super().subscribe(channel)

    def go_down(self) -> None:
        """Refuse everything and end the live subscriptions (a lost link)."""
        self.down = True
        for subscriptions in self._channels.values():
            for subscription in subscriptions:
                subscription.lose_connection()


async def execute(document: str, variables: Any, name: Any, context: Any) -> Any:
    """A stand-in for the schema: each shared item becomes `{"seq": n}`."""
    live = current_live()
    assert live is not None

    async def results() -> AsyncIterator[Any]:
        async for event in live.events((), lambda message: True, None, _no_replay):
            yield SimpleNamespace(data={"seq": event.seq}, errors=None)

    return results()


async def _no_replay(after: int, limit: int) -> list[AchievementEvent]:
    raise AssertionError("a group never replays")


class Socket:
    """One subscriber: its sink's frames, and whether it was given up."""

    def __init__(self, hub: FanoutHub, people: People, operation_id: str) -> None:
        self.frames: list[dict[str, Any]] = []
        self.given_up = False
        self.sink = Sink(self._send, self._give_up)
        member = people.alice
        self.ticket = Ticket(
            hub=hub,
            sink=self.sink,
            operation_id=operation_id,
            document="subscription",
            variables=None,
            operation_name=None,
            company_id=member.company_id,
            member_id=member.id,
            key="shared",
            context=lambda: None,
            finish=lambda operation: None,
        )
        self.routes: tuple[Route, ...] = (("member", member.id),)
        self.member_id = member.id

    async def _send(self, frame: str) -> None:
        self.frames.append(json.loads(frame))

    def _give_up(self) -> None:
        self.given_up = True

    async def replay(self, after: int, limit: int) -> list[AchievementEvent]:
        query = AchievementEvent.filter(member_id=self.member_id, seq__gt=after)
        return await query.order_by("seq").limit(limit)

    async def subscribe(self, after: int | None) -> list[int]:
        """What the resolver does: replay individually, then hand over."""
        stream: AsyncGenerator[AchievementEvent, None] = self.ticket.events(
            self.routes,
            lambda message: message.get("member_id") == self.member_id,
            after,
            self.replay,
        )
        return [event.seq async for event in stream if event.seq is not None]

    def seqs(self) -> list[int]:
        return [frame["payload"]["data"]["seq"] for frame in self.frames]


async def test_a_group_is_fed_from_the_table_while_the_broker_is_away(
    people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker = FlakyBroker()
    relay = Relay(broker)
    hub = FanoutHub(broker, execute, outage=lambda: Outage(0.05, 0.2))
    for _ in range(3):
        await new_event(people.alice)
    await relay.drain()
    broker.go_down()

    # A cursor on an instance whose broker is down: the replay is served.
    first, second = Socket(hub, people, "1"), Socket(hub, people, "2")
    async with asyncio.timeout(5):
        assert await first.subscribe(1) == [2, 3]
        assert await second.subscribe(None) == []
    assert hub.gauges() == {"feeds": 1, "polling": 1, "groups": 1, "members": 2}

    # Recorded while the broker stays down: polled from the table.
    for _ in range(2):
        await new_event(people.alice)
    assert await relay.drain() == 2
    await wait(lambda: first.seqs() == [4, 5] and second.seqs() == [4, 5])

    broker.down = False
    await wait(lambda: hub.gauges()["polling"] == 0)
    await new_event(people.alice)
    await relay.drain()  # announces 4 and 5 (already dealt with), then 6
    await wait(lambda: first.seqs() == [4, 5, 6])

    # A live feed that loses its broker keeps its members.
    broker.go_down()
    await new_event(people.alice)
    await relay.drain()
    await wait(lambda: first.seqs() == [4, 5, 6, 7])
    assert hub.gauges()["polling"] == 1
    broker.down = False
    await wait(lambda: hub.gauges()["polling"] == 0)
    await new_event(people.alice)
    await relay.drain()
    await wait(lambda: first.seqs() == [4, 5, 6, 7, 8])
    await asyncio.sleep(0.3)  # a few polls' worth: nothing comes twice

    assert first.seqs() == second.seqs() == [4, 5, 6, 7, 8]
    assert not first.given_up
    assert not second.given_up
    assert hub.counters.executions == 5
    assert hub.gauges()["members"] == 2
    first.ticket.leave()
    second.ticket.leave()
    await wait(lambda: hub.gauges()["feeds"] == 0)
    await hub.close()
    await broker.close()
