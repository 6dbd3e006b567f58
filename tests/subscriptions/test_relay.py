"""The outbox relay on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from spur.models import AchievementEvent, EventKind, Member
from spur.subscriptions.broker import BrokerUnavailable, MemoryBroker, company_channel
from spur.subscriptions.relay import Relay, event_message, publish_progress

if TYPE_CHECKING:
    from conftest import MakePeople, People

NewEvent = Callable[[Member], Awaitable[AchievementEvent]]
WaitUntil = Callable[[Callable[[], bool]], Awaitable[None]]


class RecordingBroker(MemoryBroker):
    """A memory broker that remembers what was published, and can fail."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.failures_left = 0
        self.unavailable = False
        self.before_publish: Callable[[], Awaitable[None]] | None = None

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        if self.before_publish is not None:
            hook, self.before_publish = self.before_publish, None
            await hook()
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("broker unavailable")
        if self.unavailable:
            raise BrokerUnavailable("redis is restarting")
        self.published.append((channel, dict(message)))
        await super().publish(channel, message)

    def seqs(self) -> list[int]:
        return [message["seq"] for _, message in self.published]


async def stamped() -> list[tuple[int, int | None]]:
    """(id, seq) of every event, in id order."""
    rows = await AchievementEvent.all().order_by("id").values("id", "seq")
    return [(row["id"], row["seq"]) for row in rows]


async def test_pass_stamps_in_id_order_and_publishes(
    any_people: People, new_event: NewEvent
) -> None:
    broker = RecordingBroker()
    events = [await new_event(any_people.alice) for _ in range(5)]

    assert await Relay(broker).drain() == 5

    assert await stamped() == [(event.id, n) for n, event in enumerate(events, 1)]
    assert broker.seqs() == [1, 2, 3, 4, 5]
    channel, first = broker.published[0]
    assert channel == company_channel(any_people.company.id)
    assert first == {
        "type": "event",
        "seq": 1,
        "prev_seq": None,
        "id": events[0].id,
        "kind": "GOAL_COMPLETED",
        "member_id": any_people.alice.id,
        "team_id": any_people.team.id,
        "goal_id": None,
        "company_id": any_people.company.id,
    }
    assert not await AchievementEvent.filter(published_at__isnull=True).exists()


async def test_numbering_continues_from_the_highest_seq(
    any_people: People, new_event: NewEvent
) -> None:
    broker = RecordingBroker()
    relay = Relay(broker)
    await new_event(any_people.alice)
    await relay.drain()

    later = [await new_event(any_people.bob) for _ in range(3)]
    assert await relay.drain() == 3

    assert [seq for _, seq in await stamped()] == [1, 2, 3, 4]
    assert [m["id"] for _, m in broker.published[1:]] == [e.id for e in later]
    assert [m["prev_seq"] for _, m in broker.published] == [None, 1, 2, 3]


async def test_small_batches_still_number_in_order(
    any_people: People, new_event: NewEvent
) -> None:
    broker = RecordingBroker()
    events = [await new_event(any_people.alice) for _ in range(10)]

    assert await Relay(broker, batch_size=3).drain() == 10

    assert await stamped() == [(event.id, n) for n, event in enumerate(events, 1)]
    assert broker.seqs() == list(range(1, 11))


async def test_prev_seq_follows_each_company(
    any_people: People, new_event: NewEvent, people_factory: MakePeople
) -> None:
    other = await people_factory("Globex")
    broker = RecordingBroker()
    for member in [any_people.alice, other.alice, any_people.bob, other.bob]:
        await new_event(member)

    await Relay(broker).drain()

    prev = {m["seq"]: (m["company_id"], m["prev_seq"]) for _, m in broker.published}
    mine, theirs = any_people.company.id, other.company.id
    assert prev == {1: (mine, None), 2: (theirs, None), 3: (mine, 1), 4: (theirs, 2)}


async def test_concurrent_relays_never_share_a_seq(
    any_people: People, new_event: NewEvent
) -> None:
    broker = RecordingBroker()
    first, second = Relay(broker, batch_size=7), Relay(broker, batch_size=5)
    await first.start()
    await second.start()

    async def produce() -> None:
        for n in range(60):
            await new_event(any_people.alice if n % 2 else any_people.bob)
            first.poke()
            second.poke()
            if n % 10 == 0:
                await asyncio.gather(first.drain(), second.drain(), first.drain())

    await asyncio.gather(produce(), first.drain(), second.drain())
    await asyncio.gather(first.drain(), second.drain())
    await first.stop()
    await second.stop()

    rows = await stamped()
    assert [seq for _, seq in rows] == list(range(1, 61))
    assert set(broker.seqs()) == set(range(1, 61))


async def test_rows_inserted_during_a_pass_get_the_next_numbers(
    any_people: People, new_event: NewEvent
) -> None:
    broker = RecordingBroker()
    early = [await new_event(any_people.alice) for _ in range(3)]
    late: list[AchievementEvent] = []

    async def insert_meanwhile() -> None:
        late.append(await new_event(any_people.bob))

    broker.before_publish = insert_meanwhile
    assert await Relay(broker).drain() == 4

    expected = [*early, *late]
    assert await stamped() == [(event.id, n) for n, event in enumerate(expected, 1)]
    assert broker.seqs() == [1, 2, 3, 4]


async def test_background_task_publishes_after_a_poke(
    any_people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker = RecordingBroker()
    relay = Relay(broker)
    await relay.start()
    await relay.start()

    event = await new_event(any_people.alice)
    relay.poke()
    await wait(lambda: broker.seqs() == [1])
    await relay.stop()
    await relay.stop()

    assert (await AchievementEvent.get(id=event.id)).seq == 1
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "spur-outbox-relay"]


async def test_stop_is_prompt_while_backing_off(
    any_people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker = RecordingBroker()
    broker.failures_left = 1_000_000
    relay = Relay(broker, max_backoff=60)
    await new_event(any_people.alice)
    await relay.start()
    await wait(lambda: broker.failures_left < 1_000_000 - 2)

    async with asyncio.timeout(2):
        await relay.stop()

    assert broker.published == []


async def test_stamped_but_unpublished_rows_are_published_on_start(
    any_people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    events = [await new_event(any_people.alice) for _ in range(4)]
    # A relay that crashed after its commit: two rows stamped, one announced.
    now = datetime.now(UTC)
    await AchievementEvent.filter(id=events[0].id).update(seq=1, published_at=now)
    await AchievementEvent.filter(id=events[2].id).update(seq=3)
    await AchievementEvent.filter(id=events[1].id).update(seq=2)
    broker = RecordingBroker()
    relay = Relay(broker)

    await relay.start()
    await wait(lambda: len(broker.published) == 3)
    await relay.stop()

    assert broker.seqs() == [2, 3, 4]
    assert [m["prev_seq"] for _, m in broker.published] == [1, 2, 3]
    assert not await AchievementEvent.filter(published_at__isnull=True).exists()


async def test_failed_pass_is_logged_and_retried(
    any_people: People,
    new_event: NewEvent,
    wait: WaitUntil,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = RecordingBroker()
    broker.failures_left = 2
    relay = Relay(broker, max_backoff=0.01)
    await new_event(any_people.alice)
    await new_event(any_people.alice)

    with caplog.at_level(logging.ERROR, logger="spur.subscriptions.relay"):
        await relay.start()
        await wait(lambda: sorted(set(broker.seqs())) == [1, 2])
        await relay.stop()

    failures = [r for r in caplog.records if "relay pass failed" in r.getMessage()]
    assert len(failures) == 2
    assert all(r.exc_info and r.exc_info[0] is ConnectionError for r in failures)
    assert not await AchievementEvent.filter(published_at__isnull=True).exists()


async def test_database_failure_does_not_kill_the_task(
    any_people: People,
    new_event: NewEvent,
    wait: WaitUntil,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = RecordingBroker()
    relay = Relay(broker, max_backoff=0.01)
    real_stamp = relay._stamp_batch
    outages = iter([True, True])

    async def flaky_stamp() -> list[dict[str, Any]]:
        if next(outages, False):
            raise OSError("database is down")
        return await real_stamp()

    monkeypatch.setattr(relay, "_stamp_batch", flaky_stamp)
    await new_event(any_people.alice)

    with caplog.at_level(logging.ERROR, logger="spur.subscriptions.relay"):
        await relay.start()
        await wait(lambda: broker.seqs() == [1])
        await relay.stop()

    assert sum("relay pass failed" in r.getMessage() for r in caplog.records) == 2


async def test_unavailable_broker_leaves_stamped_rows_for_a_later_pass(
    any_people: People, new_event: NewEvent, caplog: pytest.LogCaptureFixture
) -> None:
    broker = RecordingBroker()
    relay = Relay(broker, batch_size=2)
    broker.unavailable = True
    for _ in range(3):
        await new_event(any_people.alice)

    with caplog.at_level(logging.WARNING, logger="spur.subscriptions.relay"):
        assert await relay.drain() == 3
        await new_event(any_people.alice)
        assert await relay.drain() == 1

    # Numbered in commit order although nothing could be announced.
    assert [seq for _, seq in await stamped()] == [1, 2, 3, 4]
    assert await AchievementEvent.filter(published_at__isnull=True).count() == 4
    assert broker.published == []
    assert "left 2 events unannounced" in caplog.text

    broker.unavailable = False
    await new_event(any_people.alice)
    assert await relay.drain() == 1

    assert broker.seqs() == [1, 2, 3, 4, 5]
    assert [m["prev_seq"] for _, m in broker.published] == [None, 1, 2, 3, 4]
    assert not await AchievementEvent.filter(published_at__isnull=True).exists()


async def test_unannounced_rows_are_retried_soon_without_a_poke(
    any_people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    broker = RecordingBroker()
    broker.unavailable = True
    # The long poll cannot be what announces them within the test.
    relay = Relay(broker, poll_interval=60, retry_interval=0.05)
    await new_event(any_people.alice)
    await relay.start()
    await asyncio.sleep(0.3)
    assert broker.published == []
    assert await AchievementEvent.filter(seq=1, published_at__isnull=True).exists()

    broker.unavailable = False
    await wait(lambda: broker.seqs() == [1])
    await asyncio.sleep(0.2)  # announced once, then back to the long poll
    await relay.stop()

    assert broker.seqs() == [1]
    assert not await AchievementEvent.filter(published_at__isnull=True).exists()


async def test_progress_is_dropped_while_the_broker_is_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = RecordingBroker()
    broker.unavailable = True

    with caplog.at_level(logging.WARNING, logger="spur.subscriptions.relay"):
        await publish_progress(broker, 7, [(3, "2026-12-01")], 11, 5)

    assert broker.published == []
    assert "progress of company 7 not announced" in caplog.text


async def test_stop_without_start_is_harmless() -> None:
    await Relay(MemoryBroker()).stop()


async def test_progress_message_names_goal_periods() -> None:
    broker = RecordingBroker()

    await publish_progress(broker, 7, [(3, "2026-12-01"), (4, "2026-11-30")], 11, 5)

    assert broker.published == [
        (
            "company:7",
            {
                "type": "progress",
                "goals": [[3, "2026-12-01"], [4, "2026-11-30"]],
                "member_id": 11,
                "team_id": 5,
                "company_id": 7,
            },
        )
    ]


def test_event_message_uses_the_kind_name() -> None:
    row = {
        "id": 9,
        "seq": 4,
        "company_id": 1,
        "kind": EventKind.REWARD_EARNED,
        "member_id": 2,
        "team_id": None,
        "goal_id": 3,
    }

    assert event_message(row, 2)["kind"] == "REWARD_EARNED"
