"""Fan-out of live messages between the relay and the open subscriptions.

The protocol is deliberately small (publish, a scoped subscription, close) so
that Redis pub/sub fits it as well as the in-process `MemoryBroker`. A broker
carries notifications only; the event table stays the source of truth, so a
subscriber that falls behind is cut off and resumes from its cursor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeAlias

logger = logging.getLogger(__name__)

Message: TypeAlias = dict[str, Any]
Subscription: TypeAlias = AsyncIterator[Message]

DEFAULT_QUEUE_SIZE: Final = 1000
DEFAULT_POLL_INTERVAL: Final = 1.0
DEFAULT_RETRY_LIMIT: Final = 5.0


class SubscriberOverflow(Exception):
    """A subscriber fell so far behind that its buffer filled up.

    Raised by the subscription's iterator: the socket should be closed so the
    client reconnects with its last cursor and is served from the database.
    """


class BrokerClosed(RuntimeError):
    """The broker was closed; it neither publishes nor subscribes any more."""


class BrokerUnavailable(Exception):
    """The broker's backend (Redis) cannot be reached.

    Raised by `publish` (nothing was delivered: the caller keeps the event
    for later), by entering `subscribe`, and by a live subscription's
    iterator when its connection was lost. The event table still holds
    everything, so a client resumes from its cursor once the broker is back.
    """


class Broker(Protocol):
    """Where the relay publishes and subscriptions listen, per channel."""

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        """Deliver `message` to every current subscriber of `channel`."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """A scoped subscription: messages published after entry, until exit.

        Once `__aenter__` returns, nothing published to `channel` afterwards
        is missed (short of an overflow); leaving the block unsubscribes.
        """
        ...

    async def close(self) -> None:
        """End every subscription (their iterators stop) and refuse new ones."""
        ...

    def subscriber_count(self, channel: str | None = None) -> int:
        """Open subscriptions on `channel`, or on all channels with None."""
        ...


@dataclass
class Outage:
    """How a feed carries on while its broker is unavailable.

    It reads the event table every `poll_interval` seconds (the table holds
    everything the broker would have announced) and tries the broker again
    after one poll interval, then twice as long each time, at most
    `retry_limit` seconds. Once subscribed again it reads the gap from the
    table and is live. One instance per feed: it counts that feed's attempts.
    """

    poll_interval: float = DEFAULT_POLL_INTERVAL
    retry_limit: float = DEFAULT_RETRY_LIMIT
    failures: int = 0

    def next_retry(self) -> float:
        """Seconds of polling before the next attempt (a failure was seen)."""
        self.failures += 1
        delay: float = self.poll_interval * 2 ** min(self.failures - 1, 16)
        return min(self.retry_limit, delay)

    def recovered(self) -> bool:
        """Reset after a subscription succeeded; True if it ended an outage."""
        was_out, self.failures = self.failures > 0, 0
        return was_out


def company_channel(company_id: int) -> str:
    """The channel that carries one company's events and progress."""
    return f"company:{company_id}"


# Queue markers that end a subscription's iteration.
_CLOSED: Final = object()
_OVERFLOW: Final = object()
_UNAVAILABLE: Final = object()


class LocalSubscription:
    """One subscriber's bounded buffer in this process, and its async iterator.

    Shared by the brokers: whatever carries a message here, each subscriber
    reads it from its own queue, so a slow one never holds up the others.
    """

    def __init__(self, channel: str, maxsize: int) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize)
        self._ended: object | None = None

    def offer(self, message: Mapping[str, Any]) -> None:
        """Buffer a copy of `message` without waiting; cut off when full."""
        if self._ended is not None:
            return
        try:
            self._queue.put_nowait(dict(message))
        except asyncio.QueueFull:
            logger.warning("subscriber of %s overflowed; cut off", self.channel)
            self.end(_OVERFLOW)

    def end(self, signal: object) -> None:
        """Drop what is buffered and wake the consumer with `signal`."""
        if self._ended is not None:
            return
        self._ended = signal
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(signal)

    def lose_connection(self) -> None:
        """End with `BrokerUnavailable`: the broker lost what fed this buffer."""
        self.end(_UNAVAILABLE)

    def close(self) -> None:
        """End the iteration: the broker was closed."""
        self.end(_CLOSED)

    def __aiter__(self) -> LocalSubscription:
        return self

    async def __anext__(self) -> Message:
        item = await self._queue.get()
        if item is _OVERFLOW:
            self._queue.put_nowait(item)
            raise SubscriberOverflow(f"subscriber of {self.channel} fell behind")
        if item is _UNAVAILABLE:
            self._queue.put_nowait(item)
            raise BrokerUnavailable(f"subscription to {self.channel} lost its feed")
        if item is _CLOSED:
            self._queue.put_nowait(item)
            raise StopAsyncIteration
        assert isinstance(item, dict)
        return item


class MemoryBroker:
    """In-process fan-out: one bounded queue per subscription.

    Publishing never waits for a consumer. A subscriber whose queue is full
    is cut off (its iterator raises `SubscriberOverflow`) and no longer
    receives messages; it still counts until its context is left.
    """

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._queue_size = queue_size
        self._channels: dict[str, set[LocalSubscription]] = {}
        self._closed = False

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        """Copy `message` into every subscriber's buffer of `channel`."""
        if self._closed:
            raise BrokerClosed("publish on a closed broker")
        for subscription in tuple(self._channels.get(channel, ())):
            subscription.offer(message)

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """A subscription to `channel`, registered on entry, removed on exit."""
        return self._subscription(channel)

    async def close(self) -> None:
        """Stop every open subscription; later publishes and subscribes fail."""
        self._closed = True
        for subscriptions in self._channels.values():
            for subscription in subscriptions:
                subscription.close()

    def subscriber_count(self, channel: str | None = None) -> int:
        """Open subscriptions on `channel`, or on every channel."""
        if channel is not None:
            return len(self._channels.get(channel, ()))
        return sum(len(subscriptions) for subscriptions in self._channels.values())

    @asynccontextmanager
    async def _subscription(self, channel: str) -> AsyncIterator[Subscription]:
        if self._closed:
            raise BrokerClosed("subscribe on a closed broker")
        subscription = LocalSubscription(channel, self._queue_size)
        self._channels.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            self._detach(subscription)

    def _detach(self, subscription: LocalSubscription) -> None:
        subscribers = self._channels.get(subscription.channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._channels[subscription.channel]
