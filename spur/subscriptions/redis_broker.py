"""The Redis broker: events between API processes over Redis pub/sub.

Each process keeps one pub/sub connection for all its subscriptions: a
channel is subscribed in Redis when its first local subscriber arrives and
unsubscribed after its last one leaves, and every message is decoded once and
copied into the local subscribers' bounded buffers, as `MemoryBroker` does.
Publishing goes through a separate small connection pool.

Redis carries notifications only; the event table is the source of truth.
So the broker never resubscribes behind its subscribers' backs: when the
pub/sub connection is lost (Redis restarts, the network drops, a PING goes
unanswered), every live subscription ends with `BrokerUnavailable` and its
client resumes from its cursor, served from the table. A later subscriber
opens a fresh connection. Publishing while Redis is away raises
`BrokerUnavailable` quickly instead of hanging the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from spur.subscriptions.broker import (
    DEFAULT_QUEUE_SIZE,
    BrokerClosed,
    BrokerUnavailable,
    LocalSubscription,
    Subscription,
)

logger = logging.getLogger(__name__)

DEFAULT_PREFIX: Final = "spur:"
DEFAULT_TIMEOUT: Final = 2.0
DEFAULT_PING_INTERVAL: Final = 5.0
# What a lost connection can raise, from the socket up to redis-py.
_LINK_ERRORS: Final = (RedisError, OSError, TimeoutError, ValueError)


class RedisBroker:
    """Fan-out across processes: Redis pub/sub in, bounded local queues out.

    `url` is a `redis://` (or `rediss://`) URL; `prefix` namespaces the
    channels, so deployments (or tests) can share one Redis. `timeout`
    bounds connecting, publishing and each subscription's confirmation;
    `ping_interval` is how often the pub/sub link is checked.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        timeout: float = DEFAULT_TIMEOUT,
        ping_interval: float = DEFAULT_PING_INTERVAL,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._prefix = prefix
        self._queue_size = queue_size
        self._timeout = timeout
        self._ping_interval = ping_interval
        # One immediate retry: after a Redis restart a pooled connection is
        # stale, and the retry opens a fresh one.
        self._publisher = Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 1),
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        # The listening connection never reconnects by itself (no retries, no
        # read timeout: the link's PING watchdog decides when it is dead). It
        # speaks RESP2, where pub/sub messages are plain replies; redis-py 8
        # defaults to RESP3, which hands them to a push callback instead.
        self._listeners = ConnectionPool.from_url(
            url,
            protocol=2,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=timeout,
        )
        self._subscriptions: dict[str, set[LocalSubscription]] = {}
        self._link: _Link | None = None
        self._connecting: asyncio.Task[_Link] | None = None
        self._closed = False

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        """Send `message` to every process subscribed to `channel`.

        Raises `BrokerUnavailable` when Redis does not take it in time.
        """
        if self._closed:
            raise BrokerClosed("publish on a closed broker")
        payload = json.dumps(message, separators=(",", ":"))
        try:
            async with asyncio.timeout(self._timeout):
                await self._publisher.publish(self._prefix + channel, payload)
        except _LINK_ERRORS as error:
            raise BrokerUnavailable(
                f"publish to {channel} failed: {error!r}"
            ) from error

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """A subscription to `channel`; entry returns once Redis confirmed it."""
        return self._subscription(channel)

    async def close(self) -> None:
        """End every subscription, drop the connections, refuse more work."""
        self._closed = True
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.close()
        link, self._link = self._link, None
        if link is not None:
            await link.shut(BrokerClosed("broker closed"))
        await self._publisher.aclose()
        await self._listeners.disconnect()

    def subscriber_count(self, channel: str | None = None) -> int:
        """Open subscriptions of this process on `channel`, or on every channel."""
        if channel is not None:
            return len(self._subscriptions.get(channel, ()))
        return sum(len(subscriptions) for subscriptions in self._subscriptions.values())

    def redis_channels(self) -> int:
        """Channels this process's pub/sub connection is subscribed to in Redis."""
        link = self._link
        return 0 if link is None or link.lost else len(link.requested)

    async def reachable(self) -> bool:
        """Whether Redis answers a PING within the timeout (for health checks)."""
        try:
            async with asyncio.timeout(self._timeout):
                return bool(await self._publisher.ping())
        except _LINK_ERRORS:
            return False

    @asynccontextmanager
    async def _subscription(self, channel: str) -> AsyncIterator[Subscription]:
        if self._closed:
            raise BrokerClosed("subscribe on a closed broker")
        subscription = LocalSubscription(channel, self._queue_size)
        self._subscriptions.setdefault(channel, set()).add(subscription)
        try:
            link = await self._current_link()
            try:
                await self._join(link, channel, subscription)
                yield subscription
            finally:
                # Forgotten locally at once; the UNSUBSCRIBE is shielded so a
                # cancelled consumer still sends it.
                self._forget(subscription)
                await asyncio.shield(link.leave(channel, subscription))
        finally:
            self._forget(subscription)

    async def _join(
        self, link: _Link, channel: str, subscription: LocalSubscription
    ) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await link.join(channel, subscription)
        except TimeoutError as error:
            # A Redis that does not confirm a SUBSCRIBE in time is not usable.
            await link.shut(error)
            raise BrokerUnavailable(f"subscribe to {channel} timed out") from error

    async def _current_link(self) -> _Link:
        link = self._link
        if link is not None and link.lost is None:
            return link
        # Subscribers arriving while Redis is away share one attempt, so
        # none waits for more than one connect timeout.
        if self._connecting is None:
            self._connecting = asyncio.create_task(self._connect())
            self._connecting.add_done_callback(self._connected)
        return await asyncio.shield(self._connecting)

    async def _connect(self) -> _Link:
        # A connection of its own, never returned to a pool.
        connection = self._listeners.make_connection()  # type: ignore[no-untyped-call]
        try:
            async with asyncio.timeout(self._timeout):
                await connection.connect()
        except _LINK_ERRORS as error:
            await connection.disconnect(nowait=True)
            raise BrokerUnavailable(f"cannot reach Redis: {error!r}") from error
        if self._closed:
            await connection.disconnect(nowait=True)
            raise BrokerClosed("subscribe on a closed broker")
        logger.info("redis pub/sub connection open")
        return _Link(connection, self._prefix, self._ping_interval, self._lost)

    def _connected(self, attempt: asyncio.Task[_Link]) -> None:
        self._connecting = None
        # Reading the exception also marks it retrieved when nobody waited.
        if not attempt.cancelled() and attempt.exception() is None:
            self._link = attempt.result()

    def _lost(self, link: _Link) -> None:
        if self._link is link:
            self._link = None

    def _forget(self, subscription: LocalSubscription) -> None:
        subscribers = self._subscriptions.get(subscription.channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._subscriptions[subscription.channel]


class _Link:
    """One pub/sub connection to Redis and the channels it carries.

    SUBSCRIBE and UNSUBSCRIBE go out in the order the bookkeeping changes
    (nothing awaits in between on a connected socket), and Redis confirms
    them in that order. Each SUBSCRIBE of a channel gets the next number;
    a subscriber waits until that many SUBSCRIBEs were confirmed, so a
    confirmation of an earlier SUBSCRIBE that an UNSUBSCRIBE undid never
    releases it early.
    """

    def __init__(
        self,
        connection: AbstractConnection,
        prefix: str,
        ping_interval: float,
        on_lost: Callable[[_Link], None],
    ) -> None:
        self.connection = connection
        self.prefix = prefix
        self.members: dict[str, set[LocalSubscription]] = {}
        self.requested: set[str] = set()
        self.lost: BaseException | None = None
        self._sent: Counter[str] = Counter()
        self._confirmed: Counter[str] = Counter()
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self._ping_interval = ping_interval
        self._awaiting_pong = False
        self._on_lost = on_lost
        self._tasks = [
            asyncio.create_task(self._read(), name="spur-redis-reader"),
            asyncio.create_task(self._watch(), name="spur-redis-watchdog"),
        ]

    async def join(self, channel: str, subscription: LocalSubscription) -> None:
        """Add a local subscriber; return once Redis confirmed the channel."""
        self._check()
        self.members.setdefault(channel, set()).add(subscription)
        if channel not in self.requested:
            self.requested.add(channel)
            self._sent[channel] += 1
            await self._send("SUBSCRIBE", self.prefix + channel)
        target = self._sent[channel]
        if self._confirmed[channel] >= target:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append((target, future))
        await future

    async def leave(self, channel: str, subscription: LocalSubscription) -> None:
        """Remove a local subscriber; unsubscribe Redis after the last one."""
        members = self.members.get(channel)
        if members is None:
            return
        members.discard(subscription)
        if members:
            return
        del self.members[channel]
        if self.lost is None and channel in self.requested:
            self.requested.discard(channel)
            with contextlib.suppress(BrokerUnavailable):
                await self._send("UNSUBSCRIBE", self.prefix + channel)

    async def shut(self, reason: BaseException) -> None:
        """End the link: its subscribers lose their feed, the socket closes."""
        if self.lost is not None:
            return
        self.lost = reason
        self._on_lost(self)
        for members in self.members.values():
            for subscription in members:
                subscription.lose_connection()
        for waiters in self._waiters.values():
            for _, future in waiters:
                if not future.done():
                    future.set_exception(BrokerUnavailable(f"{reason!r}"))
        self._waiters.clear()
        current = asyncio.current_task()
        others = [task for task in self._tasks if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self.connection.disconnect(nowait=True)

    def _check(self) -> None:
        if self.lost is not None:
            raise BrokerUnavailable(f"redis link lost: {self.lost!r}")

    async def _send(self, *command: str) -> None:
        # A disconnected redis-py connection would silently reconnect on
        # send, without the channels this link believes it has.
        self._check()
        if not self.connection.is_connected:
            await self._fail(ConnectionError("connection closed"))
            self._check()
        try:
            await self.connection.send_command(*command, check_health=False)
        except _LINK_ERRORS as error:
            await self._fail(error)
            self._check()

    async def _fail(self, error: BaseException) -> None:
        if self.lost is None:
            logger.warning("redis pub/sub connection lost: %r", error)
        await self.shut(error)

    async def _read(self) -> None:
        try:
            while True:
                reply = await self.connection.read_response(disable_decoding=True)
                self._handle(reply)
        except _LINK_ERRORS as error:
            await self._fail(error)

    async def _watch(self) -> None:
        # A dead peer that sent no FIN (a network partition) is noticed only
        # by a PING that never gets its answer.
        while True:
            await asyncio.sleep(self._ping_interval)
            if self._awaiting_pong:
                await self._fail(TimeoutError("redis did not answer PING"))
                return
            self._awaiting_pong = True
            with contextlib.suppress(BrokerUnavailable):
                await self._send("PING")

    def _handle(self, reply: Any) -> None:
        if reply == b"PONG":  # PING while subscribed to nothing
            self._awaiting_pong = False
            return
        if not isinstance(reply, list) or not reply:
            logger.warning("unexpected reply on the pub/sub connection: %r", reply)
            return
        kind = reply[0]
        if kind == b"message":
            self._deliver(reply[1], reply[2])
        elif kind == b"subscribe":
            self._confirm(self._channel(reply[1]))
        elif kind == b"pong":
            self._awaiting_pong = False

    def _deliver(self, raw_channel: bytes, payload: bytes) -> None:
        members = self.members.get(self._channel(raw_channel))
        if not members:
            return
        try:
            message = json.loads(payload)
        except ValueError:
            logger.warning("dropped a malformed message on %r", raw_channel)
            return
        for subscription in tuple(members):
            subscription.offer(message)

    def _confirm(self, channel: str) -> None:
        self._confirmed[channel] += 1
        confirmed = self._confirmed[channel]
        waiting = self._waiters.pop(channel, [])
        for target, future in waiting:
            if target <= confirmed:
                if not future.done():
                    future.set_result(None)
            else:
                self._waiters.setdefault(channel, []).append((target, future))

    def _channel(self, raw: bytes) -> str:
        return raw.decode().removeprefix(self.prefix)
