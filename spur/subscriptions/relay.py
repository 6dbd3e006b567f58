"""The outbox relay: stamps committed achievement events with `seq`, then publishes.

Producers insert events with `seq` NULL inside their own transaction. A pass
takes the unstamped rows in id order and numbers them from one counter in a
single transaction, serialised between passes (an asyncio lock in-process, an
advisory lock on PostgreSQL). Because each pass commits before the next one
can read the counter, every committed `seq` has all smaller ones committed
too, so a client resuming with `seq > cursor` never skips a late event.

Only after that commit are the events published and marked `published_at`;
a relay that starts publishes whatever an earlier one stamped but never
announced. While the broker is unavailable (Redis restarting) the relay goes
on stamping, leaves those rows unpublished and tries them again every
`retry_interval` (pokes still start a pass at once) until a pass announces
them; the feeds meanwhile poll the table, so nobody waits for that, and a
feed that is live again skips announcements of events it already read.

Each message carries `prev_seq`, the company's previous event, so
a subscriber can notice messages that arrive out of order (two relay
processes) or not at all (a broker hiccup) and fill the gap from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.models.event import AchievementEvent
from spur.subscriptions.broker import Broker, BrokerUnavailable, company_channel

logger = logging.getLogger(__name__)

# Key of the PostgreSQL transaction-level advisory lock taken by every pass
# (the bytes "spur-seq"); any constant works as long as all processes agree.
OUTBOX_LOCK_KEY: Final = 0x7370_7572_2D73_6571

DEFAULT_BATCH_SIZE: Final = 500
_EVENT_COLUMNS: Final = (
    "id",
    "seq",
    "company_id",
    "kind",
    "member_id",
    "team_id",
    "goal_id",
)


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


class Relay:
    """Moves achievement events from the outbox table to the broker.

    `poke()` after a commit that inserted events; `start()` once per process
    to run the background task, `stop()` on shutdown. `drain()` does the
    work in the caller's task and returns when nothing is pending.
    """

    def __init__(
        self,
        broker: Broker,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        logger: logging.Logger | None = None,
        poll_interval: float = 5.0,
        retry_interval: float = 1.0,
        max_backoff: float = 5.0,
        stop_timeout: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._broker = broker
        self._batch_size = batch_size
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._poll_interval = poll_interval
        self._retry_interval = retry_interval
        self._max_backoff = max_backoff
        self._stop_timeout = stop_timeout
        self._clock = clock
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # A new relay first announces what a crashed predecessor left behind.
        self._recover = True

    def poke(self) -> None:
        """Ask for a pass soon; cheap and safe to call after every commit."""
        self._wake.set()

    async def start(self) -> None:
        """Start the background task (no-op when it already runs)."""
        if self._task is not None and not self._task.done():
            return
        self._recover = True
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="spur-outbox-relay")

    async def stop(self) -> None:
        """Let the background task finish its pass and end; rows left wait.

        The task is cancelled only if the pass outlasts `stop_timeout`.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        self._wake.set()
        try:
            async with asyncio.timeout(self._stop_timeout):
                await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def drain(self) -> int:
        """Stamp and publish until no unstamped event is left; the count stamped."""
        async with self._lock:
            try:
                return await self._drain_locked()
            except BaseException:
                self._recover = True
                raise

    async def _drain_locked(self) -> int:
        if self._recover:
            self._recover = not await self._republish()
        stamped = 0
        # Shielded: Tortoise's SQLite transaction keeps the database's write
        # lock for good if it is cancelled while it begins.
        while batch := await asyncio.shield(self._stamp_batch()):
            if not await self._announce(batch):
                self._recover = True
            stamped += len(batch)
        return stamped

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self.drain()
            except Exception:
                failures += 1
                await self._back_off(failures)
                continue
            failures = 0
            await self._wait_for_poke()

    async def _back_off(self, failures: int) -> None:
        delay = min(self._max_backoff, 0.1 * 2 ** min(failures - 1, 16))
        self._log.exception("outbox relay pass failed; retrying in %.1fs", delay)
        # Pokes do not cut this short: they come with every activity.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stopping.wait()

    async def _wait_for_poke(self) -> None:
        # The timeout also picks up rows another process inserted but never
        # stamped (it crashed between its commit and its pass); rows left
        # unannounced (no broker) are tried again sooner.
        delay = self._retry_interval if self._recover else self._poll_interval
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(delay, self._poll_interval)):
                await self._wake.wait()

    async def _stamp_batch(self) -> list[dict[str, Any]]:
        async with in_transaction() as connection:
            await _serialise_passes(connection)
            rows = await _unstamped(connection, self._batch_size)
            if not rows:
                return []
            top = await _top_seq(connection)
            for offset, row in enumerate(rows, start=1):
                row["seq"] = top + offset
            await _write_seqs(connection, rows)
        return rows

    async def _republish(self) -> bool:
        """Announce what was stamped but never published; False if that failed."""
        while rows := await _stamped_unpublished(self._batch_size):
            self._log.info("relay republishing %s unannounced events", len(rows))
            if not await self._announce(rows):
                return False
        return True

    async def _announce(self, rows: Sequence[dict[str, Any]]) -> bool:
        """Publish stamped rows and mark them; False (rows left) without a broker."""
        previous = await _previous_seqs(rows)
        try:
            for row in rows:
                message = event_message(row, previous[row["id"]])
                channel = company_channel(row["company_id"])
                await self._broker.publish(channel, message)
        except BrokerUnavailable as error:
            # Stamped rows stay in the table; a later pass announces them.
            self._log.warning("relay left %s events unannounced: %s", len(rows), error)
            return False
        ids = [row["id"] for row in rows]
        await AchievementEvent.filter(id__in=ids).update(published_at=self._clock())
        return True


def event_message(row: dict[str, Any], prev_seq: int | None) -> dict[str, Any]:
    """The broker message announcing one stamped event."""
    return {
        "type": "event",
        "seq": row["seq"],
        "prev_seq": prev_seq,
        "id": row["id"],
        "kind": str(row["kind"]),
        "member_id": row["member_id"],
        "team_id": row["team_id"],
        "goal_id": row["goal_id"],
        "company_id": row["company_id"],
    }


async def publish_progress(
    broker: Broker,
    company_id: int,
    goal_ids: Iterable[tuple[int, str]],
    member_id: int,
    team_id: int | None,
) -> None:
    """Announce that goals changed: (goal id, period start ISO date) pairs.

    Transient: nothing is stored, a client that misses it reads the goal, so
    an unavailable broker only costs a log line (the caller's work committed).
    """
    message = {
        "type": "progress",
        "goals": [[goal_id, period_start] for goal_id, period_start in goal_ids],
        "member_id": member_id,
        "team_id": team_id,
        "company_id": company_id,
    }
    try:
        await broker.publish(company_channel(company_id), message)
    except BrokerUnavailable as error:
        logger.warning(
            "goal progress of company %s not announced: %s", company_id, error
        )


async def _serialise_passes(connection: BaseDBAsyncClient) -> None:
    # SQLite allows one writer at a time; PostgreSQL needs the lock so two
    # processes never read the same top seq. It must be the transaction's
    # first statement: the reads after it then see the previous pass.
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query(
            "SELECT pg_advisory_xact_lock($1)", [OUTBOX_LOCK_KEY]
        )


async def _unstamped(connection: BaseDBAsyncClient, limit: int) -> list[dict[str, Any]]:
    query = AchievementEvent.filter(seq__isnull=True).order_by("id").limit(limit)
    return await query.using_db(connection).values(*_EVENT_COLUMNS)


async def _top_seq(connection: BaseDBAsyncClient) -> int:
    query = AchievementEvent.filter(seq__isnull=False).order_by("-seq").limit(1)
    tops = await query.using_db(connection).values("seq")
    return int(tops[0]["seq"]) if tops else 0


async def _write_seqs(
    connection: BaseDBAsyncClient, rows: Sequence[dict[str, Any]]
) -> None:
    # Stubs carry just the key and the new value; one CASE update writes all.
    stubs = [AchievementEvent(id=row["id"], seq=row["seq"]) for row in rows]
    await AchievementEvent.bulk_update(stubs, fields=["seq"], using_db=connection)


async def _stamped_unpublished(limit: int) -> list[dict[str, Any]]:
    query = AchievementEvent.filter(seq__isnull=False, published_at__isnull=True)
    return await query.order_by("seq").limit(limit).values(*_EVENT_COLUMNS)


async def _previous_seqs(rows: Sequence[dict[str, Any]]) -> dict[int, int | None]:
    """For each row, the seq of its company's event just before it."""
    previous: dict[int, int | None] = {}
    last_by_company: dict[int, int | None] = {}
    for row in sorted(rows, key=lambda row: int(row["seq"])):
        company_id = row["company_id"]
        if company_id not in last_by_company:
            last_by_company[company_id] = await _seq_before(company_id, row["seq"])
        previous[row["id"]] = last_by_company[company_id]
        last_by_company[company_id] = row["seq"]
    return previous


async def _seq_before(company_id: int, seq: int) -> int | None:
    query = AchievementEvent.filter(company_id=company_id, seq__lt=seq)
    found = await query.order_by("-seq").limit(1).values("seq")
    return int(found[0]["seq"]) if found else None
