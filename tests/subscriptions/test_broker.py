"""The in-process broker: fan-out, bounded buffers, clean unsubscription."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import pytest

from spur.subscriptions.broker import (
    BrokerClosed,
    MemoryBroker,
    SubscriberOverflow,
    Subscription,
    company_channel,
)

WaitUntil = Callable[[Callable[[], bool]], Awaitable[None]]


async def collect(subscription: Subscription, count: int) -> list[dict[str, Any]]:
    return [await anext(subscription) for _ in range(count)]


def test_company_channel_names_the_company() -> None:
    assert company_channel(42) == "company:42"


async def test_every_subscriber_gets_every_message_in_order() -> None:
    broker = MemoryBroker()
    async with (
        broker.subscribe("a") as first,
        broker.subscribe("a") as second,
        broker.subscribe("a") as third,
    ):
        for n in range(5):
            await broker.publish("a", {"n": n})

        for subscription in (first, second, third):
            assert await collect(subscription, 5) == [{"n": n} for n in range(5)]


async def test_many_subscribers_each_receive_the_message() -> None:
    broker = MemoryBroker()
    received: list[dict[str, Any]] = []

    async def listen(ready: asyncio.Event) -> None:
        async with broker.subscribe("a") as subscription:
            ready.set()
            received.append(await anext(subscription))

    events = [asyncio.Event() for _ in range(200)]
    tasks = [asyncio.create_task(listen(ready)) for ready in events]
    await asyncio.gather(*(ready.wait() for ready in events))
    await broker.publish("a", {"hello": "world"})
    await asyncio.gather(*tasks)

    assert received == [{"hello": "world"}] * 200
    assert broker.subscriber_count() == 0


async def test_channels_are_separate() -> None:
    broker = MemoryBroker()
    async with broker.subscribe("a") as a, broker.subscribe("b") as b:
        await broker.publish("a", {"to": "a"})
        await broker.publish("b", {"to": "b"})

        assert await anext(a) == {"to": "a"}
        assert await anext(b) == {"to": "b"}
        assert broker.subscriber_count("a") == 1
        assert broker.subscriber_count() == 2


async def test_publishing_without_subscribers_is_a_no_op() -> None:
    broker = MemoryBroker()

    await broker.publish("nobody", {"n": 1})

    assert broker.subscriber_count() == 0


async def test_subscribers_get_their_own_copy() -> None:
    broker = MemoryBroker()
    async with broker.subscribe("a") as first, broker.subscribe("a") as second:
        await broker.publish("a", {"n": 1})

        (await anext(first))["n"] = 99

        assert await anext(second) == {"n": 1}


async def test_slow_subscriber_overflows_without_blocking_others() -> None:
    broker = MemoryBroker(queue_size=3)
    fast_got: list[int] = []
    async with broker.subscribe("a") as slow, broker.subscribe("a") as fast:
        for n in range(10):
            async with asyncio.timeout(1):
                await broker.publish("a", {"n": n})
            fast_got.append((await anext(fast))["n"])

        assert fast_got == list(range(10))
        with pytest.raises(SubscriberOverflow):
            await anext(slow)
        with pytest.raises(SubscriberOverflow):
            await anext(slow)
        assert broker.subscriber_count("a") == 2
    assert broker.subscriber_count() == 0


async def test_consumer_within_its_buffer_does_not_overflow() -> None:
    broker = MemoryBroker(queue_size=3)
    async with broker.subscribe("a") as subscription:
        for n in range(3):
            await broker.publish("a", {"n": n})

        assert await collect(subscription, 3) == [{"n": 0}, {"n": 1}, {"n": 2}]


async def test_subscription_removed_when_consumer_is_cancelled(
    wait: WaitUntil,
) -> None:
    broker = MemoryBroker()
    first_seen = asyncio.Event()

    async def consume() -> None:
        async with broker.subscribe("a") as subscription:
            async for _ in subscription:
                first_seen.set()

    tasks = [asyncio.create_task(consume()) for _ in range(10)]
    await wait(lambda: broker.subscriber_count("a") == 10)
    await broker.publish("a", {"n": 1})
    await first_seen.wait()

    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert broker.subscriber_count() == 0


async def test_subscription_removed_when_generator_is_closed(
    wait: WaitUntil,
) -> None:
    broker = MemoryBroker()

    async def relay_messages() -> AsyncGenerator[dict[str, Any], None]:
        async with broker.subscribe("a") as subscription:
            async for message in subscription:
                yield message

    stream = relay_messages()
    waiting = asyncio.ensure_future(anext(stream))
    await wait(lambda: broker.subscriber_count("a") == 1)
    await broker.publish("a", {"n": 1})
    assert await waiting == {"n": 1}

    await stream.aclose()

    assert broker.subscriber_count() == 0


async def test_subscription_removed_when_block_raises() -> None:
    broker = MemoryBroker()

    with pytest.raises(RuntimeError, match="boom"):
        async with broker.subscribe("a"):
            raise RuntimeError("boom")

    assert broker.subscriber_count() == 0


async def test_close_ends_iteration_and_refuses_more() -> None:
    broker = MemoryBroker()
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


async def test_queue_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        MemoryBroker(queue_size=0)
