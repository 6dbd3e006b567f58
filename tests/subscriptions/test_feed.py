"""Replay then live: every event after the cursor once, in order, no gap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from spur.api.errors import BadUserInput
from spur.models import AchievementEvent, Member
from spur.subscriptions.broker import MemoryBroker, SubscriberOverflow, company_channel
from spur.subscriptions.feed import (
    event_feed,
    format_cursor,
    parse_cursor,
    progress_feed,
)
from spur.subscriptions.relay import Relay, event_message, publish_progress

if TYPE_CHECKING:
    from conftest import MakePeople, People

NewEvent = Callable[[Member], Awaitable[AchievementEvent]]
WaitUntil = Callable[[Callable[[], bool]], Awaitable[None]]
Replay = Callable[[int, int], Awaitable[list[AchievementEvent]]]
Feed = AsyncGenerator[AchievementEvent, None]


def member_audience(member: Member) -> Callable[[Mapping[str, Any]], bool]:
    return lambda message: message.get("member_id") == member.id


def member_replay(member: Member, calls: list[int] | None = None) -> Replay:
    """The member's stamped events after a seq; records each `after` served.

    The record is made as the page is returned: from then on, with nothing
    else to await, the feed is waiting on the broker.
    """

    async def replay(after_seq: int, limit: int) -> list[AchievementEvent]:
        query = AchievementEvent.filter(member_id=member.id, seq__gt=after_seq)
        page = await query.order_by("seq").limit(limit)
        if calls is not None:
            calls.append(after_seq)
        return page

    return replay


def member_feed(
    broker: MemoryBroker,
    member: Member,
    after: int | None,
    replay: Replay | None = None,
    page_size: int = 100,
) -> Feed:
    return event_feed(
        broker,
        member.company_id,
        after,
        member_audience(member),
        replay or member_replay(member),
        page_size=page_size,
    )


def watched_feed(
    broker: MemoryBroker, member: Member, after: int | None = None
) -> tuple[Feed, list[int]]:
    """A member's feed and the list of the cursors its replays served."""
    calls: list[int] = []
    return member_feed(broker, member, after, member_replay(member, calls)), calls


async def take(feed: Feed, count: int) -> list[int]:
    """The seqs of the next `count` events, failing if they do not come."""
    seqs = []
    async with asyncio.timeout(5):
        for _ in range(count):
            event = await anext(feed)
            assert event.seq is not None
            seqs.append(event.seq)
    return seqs


async def nothing_yet(feed: Feed) -> asyncio.Future[AchievementEvent]:
    """Check the feed has nothing to yield now; the future gets its next event.

    Cancelling that future closes the feed.
    """
    following = asyncio.ensure_future(anext(feed))
    await asyncio.sleep(0.05)
    assert not following.done()
    return following


async def stop(following: asyncio.Future[AchievementEvent]) -> None:
    """Close a feed that is waiting for its next event, as a dropped socket."""
    following.cancel()
    await asyncio.gather(following, return_exceptions=True)


async def start(
    feed: Feed, wait: WaitUntil, calls: list[int]
) -> asyncio.Future[AchievementEvent]:
    """Run the feed until it waits on the broker; the future gets its next event."""
    replays = len(calls)
    following = asyncio.ensure_future(anext(feed))
    await wait(lambda: len(calls) > replays or following.done())
    return following


async def stamp_for(relay: Relay, new_event: NewEvent, *members: Member) -> None:
    for member in members:
        await new_event(member)
    await relay.drain()


@pytest.mark.parametrize(
    ("cursor", "seq"), [(None, None), ("0", 0), ("42", 42), ("007", 7)]
)
def test_parse_cursor_reads_a_seq(cursor: str | None, seq: int | None) -> None:
    assert parse_cursor(cursor) == seq


@pytest.mark.parametrize(
    "cursor",
    ["", "-1", "abc", "1.5", " 1", "1 ", "+1", "１２", "²", "1" * 20, str(2**63)],
)
def test_parse_cursor_refuses_junk(cursor: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        parse_cursor(cursor)

    assert caught.value.extensions["code"] == "BAD_USER_INPUT"


def test_cursor_round_trips() -> None:
    assert parse_cursor(format_cursor(123)) == 123


async def test_no_cursor_gets_only_live_events(
    any_people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker, alice = MemoryBroker(), any_people.alice
    relay = Relay(broker)
    await stamp_for(relay, new_event, alice, alice)
    feed, calls = watched_feed(broker, alice)

    first = await start(feed, wait, calls)
    await stamp_for(relay, new_event, any_people.bob, alice)

    assert (await first).seq == 4
    assert calls == [2]
    await stamp_for(relay, new_event, alice)
    assert await take(feed, 1) == [5]
    await feed.aclose()
    assert broker.subscriber_count() == 0


async def test_cursor_replays_later_events_in_order_then_live(
    any_people: People, new_event: NewEvent
) -> None:
    broker, alice, bob = MemoryBroker(), any_people.alice, any_people.bob
    relay = Relay(broker)
    await stamp_for(relay, new_event, alice, bob, alice, alice, bob, alice)
    feed, calls = watched_feed(broker, alice, after=3)

    assert await take(feed, 2) == [4, 6]
    await stamp_for(relay, new_event, bob, alice, alice)

    assert await take(feed, 2) == [8, 9]
    assert calls == [3]
    await stop(await nothing_yet(feed))


async def test_event_in_both_replay_and_buffer_comes_once(
    people: People, new_event: NewEvent
) -> None:
    broker, alice = MemoryBroker(), people.alice
    relay = Relay(broker)
    await stamp_for(relay, new_event, alice, alice)
    real_replay = member_replay(alice)

    async def replay_while_one_lands(after_seq: int, limit: int) -> list[Any]:
        # Subscribed already: this event is buffered and also in the table.
        await stamp_for(relay, new_event, alice)
        return await real_replay(after_seq, limit)

    feed = member_feed(broker, alice, after=0, replay=replay_while_one_lands)

    assert await take(feed, 3) == [1, 2, 3]
    following = await nothing_yet(feed)
    await stamp_for(relay, new_event, alice)
    assert (await following).seq == 4
    await feed.aclose()


async def test_events_during_paged_replay_leave_no_gap(
    any_people: People, new_event: NewEvent
) -> None:
    broker, alice, bob = MemoryBroker(), any_people.alice, any_people.bob
    relay = Relay(broker)
    await stamp_for(relay, new_event, alice, alice, alice, bob, alice)
    calls: list[int] = []
    real_replay = member_replay(alice, calls)

    async def busy_replay(after_seq: int, limit: int) -> list[AchievementEvent]:
        page = await real_replay(after_seq, limit)
        if len(calls) <= 3:
            await stamp_for(relay, new_event, alice, bob)
        return page

    feed = member_feed(broker, alice, after=1, replay=busy_replay, page_size=2)

    assert await take(feed, 6) == [2, 3, 5, 6, 8, 10]
    assert calls == [1, 3, 6]
    mine = await AchievementEvent.filter(member_id=alice.id).order_by("seq")
    assert [event.seq for event in mine] == [1, 2, 3, 5, 6, 8, 10]
    await stop(await nothing_yet(feed))


async def test_lost_broker_message_is_filled_from_the_table(
    people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker, alice = MemoryBroker(), people.alice
    feed, calls = watched_feed(broker, alice)
    first = await start(feed, wait, calls)

    # Stamped by a relay whose messages never arrived.
    await stamp_for(Relay(MemoryBroker()), new_event, alice, alice)
    await stamp_for(Relay(broker), new_event, alice)

    assert (await first).seq == 1
    assert await take(feed, 2) == [2, 3]
    assert calls == [0, 0]
    await stop(await nothing_yet(feed))


async def test_messages_out_of_order_are_put_back_in_order(
    people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker, alice = MemoryBroker(), people.alice
    feed, calls = watched_feed(broker, alice)
    first = await start(feed, wait, calls)
    await stamp_for(Relay(MemoryBroker()), new_event, alice, alice, alice)
    rows = (
        await AchievementEvent.all()
        .order_by("seq")
        .values("id", "seq", "company_id", "kind", "member_id", "team_id", "goal_id")
    )

    channel = company_channel(people.company.id)
    for row, prev in reversed(list(zip(rows, [None, 1, 2], strict=True))):
        await broker.publish(channel, event_message(row, prev))

    assert (await first).seq == 1
    assert await take(feed, 2) == [2, 3]
    assert calls == [0, 0]
    await stop(await nothing_yet(feed))


async def test_team_audience_sees_the_whole_team(
    people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker = MemoryBroker()
    relay = Relay(broker)
    team_id = people.team.id

    async def team_replay(after_seq: int, limit: int) -> list[AchievementEvent]:
        query = AchievementEvent.filter(team_id=team_id, seq__gt=after_seq)
        return await query.order_by("seq").limit(limit)

    feed = event_feed(
        broker,
        people.company.id,
        None,
        lambda message: message.get("team_id") == team_id,
        team_replay,
    )
    first = asyncio.ensure_future(anext(feed))
    await wait(lambda: broker.subscriber_count() == 1)
    await stamp_for(relay, new_event, people.alice, people.bob)

    assert (await first).member_id == people.alice.id
    assert (await anext(feed)).member_id == people.bob.id
    await feed.aclose()


async def test_other_company_is_never_yielded(
    people: People,
    new_event: NewEvent,
    wait: WaitUntil,
    people_factory: MakePeople,
) -> None:
    other = await people_factory("Globex")
    broker, alice = MemoryBroker(), people.alice
    feed, calls = watched_feed(broker, alice)
    first = await start(feed, wait, calls)
    await stamp_for(Relay(MemoryBroker()), new_event, other.alice)
    foreign = await AchievementEvent.get(member_id=other.alice.id)

    forged = {
        "type": "event",
        "seq": foreign.seq,
        "prev_seq": None,
        "id": foreign.id,
        "member_id": alice.id,
    }
    await broker.publish(company_channel(people.company.id), forged)
    await stamp_for(Relay(broker), new_event, alice)

    assert (await first).seq == 2
    assert calls == [0]
    await feed.aclose()


async def test_closing_a_suspended_feed_unsubscribes(
    people: People, new_event: NewEvent
) -> None:
    broker = MemoryBroker()
    await stamp_for(Relay(broker), new_event, people.alice)
    feed = member_feed(broker, people.alice, after=0)

    assert await take(feed, 1) == [1]
    assert broker.subscriber_count() == 1
    await feed.aclose()

    assert broker.subscriber_count() == 0


async def test_cancelled_consumer_leaves_no_subscription(
    people: People, wait: WaitUntil
) -> None:
    broker = MemoryBroker()
    feeds = [member_feed(broker, people.alice, after=None) for _ in range(5)]
    waiting = [asyncio.ensure_future(anext(feed)) for feed in feeds]
    await wait(lambda: broker.subscriber_count() == 5)

    for pending in waiting:
        pending.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)

    assert broker.subscriber_count() == 0
    for feed in feeds:
        await feed.aclose()


async def test_overflow_ends_the_feed_and_unsubscribes(
    people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker = MemoryBroker(queue_size=2)
    feed, calls = watched_feed(broker, people.alice)
    first = await start(feed, wait, calls)
    relay = Relay(broker)

    await stamp_for(relay, new_event, people.bob, people.bob, people.bob)

    with pytest.raises(SubscriberOverflow):
        await first
    assert broker.subscriber_count() == 0


async def test_progress_feed_yields_goal_keys_for_the_audience(
    wait: WaitUntil,
) -> None:
    broker = MemoryBroker()
    feed = progress_feed(broker, 1, lambda message: message["member_id"] == 10)
    first = asyncio.ensure_future(anext(feed))
    await wait(lambda: broker.subscriber_count() == 1)

    await publish_progress(broker, 1, [(5, "2026-12-01")], member_id=11, team_id=2)
    await publish_progress(broker, 1, [(3, "2026-11-30"), (4, "2026-12-01")], 10, 2)

    assert await first == [(3, "2026-11-30"), (4, "2026-12-01")]
    await feed.aclose()
    assert broker.subscriber_count() == 0
