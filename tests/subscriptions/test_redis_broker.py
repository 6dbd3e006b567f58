"""The broker contract on both brokers, and what only Redis adds: delivery
between processes, one pub/sub connection per process, and outages.

Contract tests run on MemoryBroker and on RedisBroker against the shared
Redis (a channel prefix per test keeps parallel tests apart); outage tests
start a private redis-server and kill, freeze or restart it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from redis.asyncio import Redis

from spur.api.app import make_broker as make_app_broker
from spur.api.settings import load_settings
from spur.models import AchievementEvent
from spur.subscriptions.broker import (
    Broker,
    BrokerClosed,
    BrokerUnavailable,
    LocalSubscription,
    MemoryBroker,
    Outage,
    SubscriberOverflow,
    Subscription,
    company_channel,
)
from spur.subscriptions.feed import event_feed
from spur.subscriptions.redis_broker import RedisBroker, _Link
from spur.subscriptions.relay import Relay
from tests.redis_server import RedisServer, shared_redis_url, unique_prefix

if TYPE_CHECKING:
    from conftest import NewEvent, People, WaitUntil

MakeBroker = Callable[..., Broker]


@pytest.fixture(params=["memory", "redis"])
async def make_broker(request: pytest.FixtureRequest) -> AsyncIterator[MakeBroker]:
    """Builds brokers of one kind; Redis ones share a prefix of this test's."""
    made: list[Broker] = []
    url = shared_redis_url() if request.param == "redis" else ""
    prefix = unique_prefix()

    def build(**options: Any) -> Broker:
        broker: Broker
        if request.param == "memory":
            broker = MemoryBroker(**options)
        else:
            broker = RedisBroker(url, prefix=prefix, **options)
        made.append(broker)
        return broker

    yield build
    for broker in made:
        await broker.close()


@pytest.fixture
async def redis_pair() -> AsyncIterator[tuple[RedisBroker, RedisBroker]]:
    """Two processes' brokers on the shared Redis: A publishes, B listens."""
    url, prefix = shared_redis_url(), unique_prefix()
    a, b = RedisBroker(url, prefix=prefix), RedisBroker(url, prefix=prefix)
    yield a, b
    await a.close()
    await b.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which it may kill or freeze."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


async def collect(subscription: Subscription, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(5):
        return [await anext(subscription) for _ in range(count)]


async def numsub(url: str, channel: str) -> int:
    """How many connections Redis counts on `channel`."""
    client = Redis.from_url(url)
    try:
        ((_, count),) = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


# The contract, on both brokers.


async def test_every_subscriber_gets_every_message_in_order(
    make_broker: MakeBroker,
) -> None:
    broker = make_broker()
    async with (
        broker.subscribe("a") as first,
        broker.subscribe("a") as second,
        broker.subscribe("a") as third,
    ):
        for n in range(5):
            await broker.publish("a", {"n": n})

        for subscription in (first, second, third):
            assert await collect(subscription, 5) == [{"n": n} for n in range(5)]


async def test_many_subscribers_each_receive_the_message(
    make_broker: MakeBroker,
) -> None:
    broker = make_broker()
    received: list[dict[str, Any]] = []

    async def listen(ready: asyncio.Event) -> None:
        async with broker.subscribe("a") as subscription:
            ready.set()
            received.append(await anext(subscription))

    events = [asyncio.Event() for _ in range(200)]
    tasks = [asyncio.create_task(listen(ready)) for ready in events]
    await asyncio.gather(*(ready.wait() for ready in events))
    await broker.publish("a", {"hello": "world"})
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)

    assert received == [{"hello": "world"}] * 200
    assert broker.subscriber_count() == 0


async def test_channels_are_separate(make_broker: MakeBroker) -> None:
    broker = make_broker()
    async with broker.subscribe("a") as a, broker.subscribe("b") as b:
        await broker.publish("a", {"to": "a"})
        await broker.publish("b", {"to": "b"})

        assert await collect(a, 1) == [{"to": "a"}]
        assert await collect(b, 1) == [{"to": "b"}]
        assert broker.subscriber_count("a") == 1
        assert broker.subscriber_count() == 2


async def test_subscribers_get_their_own_copy(make_broker: MakeBroker) -> None:
    broker = make_broker()
    async with broker.subscribe("a") as first, broker.subscribe("a") as second:
        await broker.publish("a", {"n": 1})

        (mine,) = await collect(first, 1)
        mine["n"] = 99

        assert await collect(second, 1) == [{"n": 1}]


async def test_slow_subscriber_overflows_without_blocking_others(
    make_broker: MakeBroker,
) -> None:
    broker = make_broker(queue_size=3)
    fast_got: list[int] = []
    async with broker.subscribe("a") as slow, broker.subscribe("a") as fast:
        for n in range(10):
            async with asyncio.timeout(1):
                await broker.publish("a", {"n": n})
            fast_got += [message["n"] for message in await collect(fast, 1)]

        assert fast_got == list(range(10))
        with pytest.raises(SubscriberOverflow):
            await anext(slow)
        assert broker.subscriber_count("a") == 2
    assert broker.subscriber_count() == 0


async def test_subscription_removed_when_consumer_is_cancelled(
    make_broker: MakeBroker, wait: WaitUntil
) -> None:
    broker = make_broker()
    first_seen = asyncio.Event()

    async def consume() -> None:
        async with broker.subscribe("a") as subscription:
            async for _ in subscription:
                first_seen.set()

    tasks = [asyncio.create_task(consume()) for _ in range(10)]
    await wait(lambda: broker.subscriber_count("a") == 10)
    await broker.publish("a", {"n": 1})
    async with asyncio.timeout(5):
        await first_seen.wait()

    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert broker.subscriber_count() == 0
    if isinstance(broker, RedisBroker):
        assert broker.redis_channels() == 0


async def test_subscription_removed_when_generator_is_closed(
    make_broker: MakeBroker, wait: WaitUntil
) -> None:
    broker = make_broker()

    async def relay_messages() -> AsyncGenerator[dict[str, Any], None]:
        async with broker.subscribe("a") as subscription:
            async for message in subscription:
                yield message

    stream = relay_messages()
    waiting = asyncio.ensure_future(anext(stream))
    await wait(lambda: broker.subscriber_count("a") == 1)
    await asyncio.sleep(0.05)  # Redis: past the confirmation
    await broker.publish("a", {"n": 1})
    async with asyncio.timeout(5):
        assert await waiting == {"n": 1}

    await stream.aclose()

    assert broker.subscriber_count() == 0


async def test_subscription_removed_when_block_raises(make_broker: MakeBroker) -> None:
    broker = make_broker()

    with pytest.raises(RuntimeError, match="boom"):
        async with broker.subscribe("a"):
            raise RuntimeError("boom")

    assert broker.subscriber_count() == 0


async def test_close_ends_iteration_and_refuses_more(make_broker: MakeBroker) -> None:
    broker = make_broker()
    async with broker.subscribe("a") as subscription:
        waiting = asyncio.ensure_future(collect(subscription, 1))
        await asyncio.sleep(0)

        await broker.close()

        with pytest.raises(StopAsyncIteration):
            await waiting
        with pytest.raises(BrokerClosed):
            await broker.publish("a", {"n": 1})
        with pytest.raises(BrokerClosed):
            async with broker.subscribe("a"):
                pass
    assert broker.subscriber_count() == 0


async def test_queue_size_must_be_positive(make_broker: MakeBroker) -> None:
    with pytest.raises(ValueError, match="queue_size"):
        make_broker(queue_size=0)


# Between processes.


async def test_nothing_published_after_entry_is_missed_by_another_process(
    redis_pair: tuple[RedisBroker, RedisBroker],
) -> None:
    a, b = redis_pair
    for n in range(30):
        async with b.subscribe(f"c{n}") as subscription:
            await a.publish(f"c{n}", {"n": n})
            assert await collect(subscription, 1) == [{"n": n}]


async def test_resubscribing_right_after_leaving_waits_for_its_own_confirmation(
    redis_pair: tuple[RedisBroker, RedisBroker],
) -> None:
    # UNSUBSCRIBE then SUBSCRIBE of one channel on one connection: the second
    # entry must not return on the first SUBSCRIBE's confirmation.
    a, b = redis_pair
    for n in range(30):
        async with b.subscribe("c"):
            pass
        async with b.subscribe("c") as subscription:
            await a.publish("c", {"n": n})
            assert await collect(subscription, 1) == [{"n": n}]


async def test_concurrent_joins_and_leaves_of_one_channel(
    redis_pair: tuple[RedisBroker, RedisBroker],
) -> None:
    a, b = redis_pair

    async def join_and_leave() -> None:
        async with b.subscribe("c"):
            await asyncio.sleep(0)

    async def join_and_hear(n: int) -> dict[str, Any]:
        async with b.subscribe("c") as subscription:
            await a.publish("c", {"n": n})
            async for message in subscription:
                if message == {"n": n}:
                    return message
        raise AssertionError("subscription ended")

    for round_ in range(10):
        outcomes = await asyncio.gather(
            *(join_and_leave() for _ in range(5)),
            *(join_and_hear(round_ * 10 + k) for k in range(5)),
        )
        assert outcomes[5:] == [{"n": round_ * 10 + k} for k in range(5)]
    assert b.subscriber_count() == 0
    assert b.redis_channels() == 0


async def test_one_connection_per_process_subscribes_each_channel_once(
    redis_pair: tuple[RedisBroker, RedisBroker],
) -> None:
    a, b = redis_pair
    url, prefix = shared_redis_url(), b._prefix
    async with (
        b.subscribe("x") as x1,
        b.subscribe("x") as x2,
        b.subscribe("y") as y1,
        a.subscribe("x") as x3,
    ):
        assert await numsub(url, prefix + "x") == 2  # one per process
        assert await numsub(url, prefix + "y") == 1
        assert b.redis_channels() == 2
        await a.publish("x", {"n": 1})
        for subscription in (x1, x2, x3):
            assert await collect(subscription, 1) == [{"n": 1}]
        assert y1 is not None
    assert await numsub(url, prefix + "x") == 0
    assert await numsub(url, prefix + "y") == 0
    assert b.subscriber_count() == a.subscriber_count() == 0


async def test_a_malformed_message_is_skipped(
    redis_pair: tuple[RedisBroker, RedisBroker],
) -> None:
    _, b = redis_pair
    client = Redis.from_url(shared_redis_url())
    try:
        async with b.subscribe("x") as subscription:
            await client.publish(b._prefix + "x", b"not json")
            await b.publish("x", {"n": 2})
            assert await collect(subscription, 1) == [{"n": 2}]
    finally:
        await client.aclose()


class FakeConnection:
    """Records what a link sends; answers only what the test hands it."""

    is_connected = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, ...]] = []
        self._never = asyncio.Event()

    async def send_command(self, *command: str, check_health: bool = True) -> None:
        self.sent.append(command)

    async def read_response(self, disable_decoding: bool = False) -> Any:
        await self._never.wait()

    async def disconnect(self, nowait: bool = False) -> None:
        pass


async def test_a_stale_confirmation_does_not_release_a_new_subscriber() -> None:
    connection = FakeConnection()
    link = _Link(connection, "p:", 60.0, lambda link: None)  # type: ignore[arg-type]
    first, second = (LocalSubscription("c", 10) for _ in range(2))

    joining = asyncio.create_task(link.join("c", first))
    await asyncio.sleep(0)
    joining.cancel()
    await link.leave("c", first)
    rejoining = asyncio.create_task(link.join("c", second))
    await asyncio.sleep(0)
    assert connection.sent == [
        ("SUBSCRIBE", "p:c"),
        ("UNSUBSCRIBE", "p:c"),
        ("SUBSCRIBE", "p:c"),
    ]

    link._handle([b"subscribe", b"p:c", 1])
    link._handle([b"unsubscribe", b"p:c", 0])
    await asyncio.sleep(0)
    assert not rejoining.done()
    link._handle([b"subscribe", b"p:c", 1])
    await asyncio.wait_for(rejoining, 1)

    link._handle([b"message", b"p:c", b'{"n": 1}'])
    assert await collect(second, 1) == [{"n": 1}]
    await link.shut(RuntimeError("test over"))


async def test_entry_waits_until_redis_confirms(private_redis: RedisServer) -> None:
    a = RedisBroker(private_redis.url, prefix="p:", timeout=5.0)
    b = RedisBroker(private_redis.url, prefix="p:", timeout=5.0)
    entered = asyncio.Event()

    async def listen() -> list[dict[str, Any]]:
        async with b.subscribe("x") as subscription:
            entered.set()
            return await collect(subscription, 1)

    try:
        async with b.subscribe("warm"):
            pass  # the pub/sub connection is open
        private_redis.pause()
        listening = asyncio.create_task(listen())
        await asyncio.sleep(0.5)
        assert not entered.is_set()
        private_redis.resume()
        await asyncio.wait_for(entered.wait(), 3)
        await a.publish("x", {"n": 1})
        assert await listening == [{"n": 1}]
    finally:
        await a.close()
        await b.close()


# Redis going away.


async def test_lost_redis_ends_live_subscriptions_and_fails_fast(
    private_redis: RedisServer,
) -> None:
    a = RedisBroker(private_redis.url, prefix="p:", timeout=1.0)
    b = RedisBroker(private_redis.url, prefix="p:", timeout=1.0)
    try:
        async with b.subscribe("x") as first, b.subscribe("y") as second:
            private_redis.stop()
            for subscription in (first, second):
                with pytest.raises(BrokerUnavailable):
                    await collect(subscription, 1)
            async with asyncio.timeout(3):
                with pytest.raises(BrokerUnavailable):
                    await a.publish("x", {"n": 1})
                with pytest.raises(BrokerUnavailable):
                    async with b.subscribe("x"):
                        pass
            assert b.subscriber_count() == 2  # until the consumers leave
        assert b.subscriber_count() == 0

        private_redis.start()
        async with b.subscribe("x") as again:
            await a.publish("x", {"n": 2})
            assert await collect(again, 1) == [{"n": 2}]
        assert b.redis_channels() == 0
    finally:
        await a.close()
        await b.close()


async def test_frozen_redis_is_noticed_by_the_ping_watchdog(
    private_redis: RedisServer,
) -> None:
    a = RedisBroker(private_redis.url, prefix="p:", timeout=0.5)
    b = RedisBroker(private_redis.url, prefix="p:", timeout=0.5, ping_interval=0.2)
    try:
        async with b.subscribe("x") as subscription:
            private_redis.pause()
            async with asyncio.timeout(3):
                with pytest.raises(BrokerUnavailable):
                    await anext(subscription)
                with pytest.raises(BrokerUnavailable):
                    await a.publish("x", {"n": 1})

        async def enter() -> None:
            async with b.subscribe("x"):
                pass

        # Twenty subscribers meanwhile share one connect attempt and its
        # timeout, instead of queueing for one each.
        async with asyncio.timeout(2):
            outcomes = await asyncio.gather(
                *(enter() for _ in range(20)), return_exceptions=True
            )
        assert all(isinstance(o, BrokerUnavailable) for o in outcomes), outcomes
        assert b.subscriber_count() == 0
        private_redis.resume()
        async with b.subscribe("x") as again:
            await a.publish("x", {"n": 2})
            assert await collect(again, 1) == [{"n": 2}]
    finally:
        await a.close()
        await b.close()


# With the relay and the feed: what a client resuming by cursor sees.


class Watched:
    """A feed on process B over a private Redis, consumed by a task of its own."""

    def __init__(self, broker: RedisBroker, company: int) -> None:
        self.broker = broker
        self.company = company
        self.replays: list[int] = []
        self.seen: list[int] = []
        # Short polls and retries, so the test need not wait seconds.
        self.outage = Outage(poll_interval=0.1, retry_limit=0.3)
        self.task: asyncio.Task[None] | None = None

    async def replay(self, after: int, limit: int) -> list[AchievementEvent]:
        self.replays.append(after)
        query = AchievementEvent.filter(company_id=self.company, seq__gt=after)
        return await query.order_by("seq").limit(limit)

    def start(self, after: int | None) -> None:
        stream = event_feed(
            self.broker,
            self.company,
            after,
            lambda message: True,
            self.replay,
            outage=self.outage,
        )
        self.task = asyncio.create_task(self._consume(stream))

    async def _consume(self, stream: AsyncGenerator[AchievementEvent, None]) -> None:
        async for event in stream:
            assert event.seq is not None
            self.seen.append(event.seq)

    async def until(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.seen) < count:
                assert self.task is not None
                assert not self.task.done()
                await asyncio.sleep(0.01)

    async def quiet(self) -> None:
        """Nothing more comes for a few polls."""
        count = len(self.seen)
        await asyncio.sleep(0.4)
        assert len(self.seen) == count

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def unpublished() -> int:
    return await AchievementEvent.filter(published_at__isnull=True).count()


async def test_a_live_feed_polls_the_table_while_redis_is_down(
    private_redis: RedisServer, people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    a = RedisBroker(private_redis.url, prefix="p:", timeout=1.0)
    b = RedisBroker(private_redis.url, prefix="p:", timeout=1.0)
    relay = Relay(a)  # process A records and relays, process B serves feeds
    watched = Watched(b, people.company.id)
    try:
        watched.start(None)
        await wait(lambda: b.redis_channels() == 1)
        for _ in range(2):
            await new_event(people.alice)
        await relay.drain()
        await watched.until(2)

        private_redis.stop()
        # Recorded and stamped during the outage, and unannounced; the feed
        # goes on from the table instead of failing.
        for _ in range(3):
            await new_event(people.bob)
        assert await relay.drain() == 3
        assert await unpublished() == 3
        await watched.until(5)
        assert watched.outage.failures >= 1

        private_redis.start()
        await wait(lambda: b.redis_channels() == 1)
        await watched.quiet()
        assert watched.outage.failures == 0
        replays = len(watched.replays)
        await new_event(people.alice)
        await relay.drain()  # republishes the three, then the new one
        await watched.until(6)
        # Live again: the broker announced it, no poll read it.
        assert len(watched.replays) == replays
        assert await unpublished() == 0
        await watched.quiet()
    finally:
        await watched.stop()
        await a.close()
        await b.close()

    assert watched.seen == [1, 2, 3, 4, 5, 6]
    assert b.subscriber_count() == 0


async def test_a_cursor_is_served_from_the_table_while_redis_is_down(
    private_redis: RedisServer, people: People, new_event: NewEvent, wait: WaitUntil
) -> None:
    a = RedisBroker(private_redis.url, prefix="p:", timeout=1.0)
    b = RedisBroker(private_redis.url, prefix="p:", timeout=1.0)
    relay = Relay(a)
    watched = Watched(b, people.company.id)
    try:
        for _ in range(3):
            await new_event(people.alice)
        await relay.drain()
        private_redis.stop()

        watched.start(1)
        await watched.until(2)  # the stored events after the cursor
        for _ in range(2):
            await new_event(people.bob)
        await relay.drain()
        await watched.until(4)  # recorded while Redis stays down
        await watched.quiet()
        assert b.subscriber_count() == 0

        private_redis.start()
        await wait(lambda: b.redis_channels() == 1)
        await watched.quiet()  # back live, nothing comes twice
        replays = len(watched.replays)
        await new_event(people.alice)
        await relay.drain()
        await watched.until(5)
        assert len(watched.replays) == replays  # announced live
    finally:
        await watched.stop()
        await a.close()
        await b.close()

    assert watched.seen == [2, 3, 4, 5, 6]
    assert b.subscriber_count() == 0


async def test_an_event_relayed_by_one_process_reaches_another(
    redis_pair: tuple[RedisBroker, RedisBroker], people: People, new_event: NewEvent
) -> None:
    a, b = redis_pair
    company = people.company.id
    async with b.subscribe(company_channel(company)) as subscription:
        event = await new_event(people.alice)
        await Relay(a).drain()
        (message,) = await collect(subscription, 1)

    assert message["id"] == event.id
    assert message["seq"] == 1
    assert message["prev_seq"] is None
    assert message["member_id"] == people.alice.id


# Configuration.


async def test_the_app_picks_redis_only_when_a_url_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SPUR_REDIS_URL", raising=False)
    assert isinstance(make_app_broker(load_settings(env_file=None)), MemoryBroker)

    monkeypatch.setenv("SPUR_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("SPUR_REDIS_PREFIX", "acme:")
    settings = load_settings(env_file=None)
    broker = make_app_broker(settings)
    try:
        assert isinstance(broker, RedisBroker)
        assert (settings.redis_url, settings.redis_prefix) == (
            "redis://127.0.0.1:1/0",
            "acme:",
        )
        # Nothing listens on port 1: the broker says so instead of hanging.
        assert not await broker.reachable()
    finally:
        await broker.close()
