"""One socket's outgoing frames: a bounded queue and a writer made on demand.

Everything a socket is sent goes through its `Sink`, so frames keep their
order whoever produced them. The fan-out hub `offer`s and never waits: when
the queue is full the socket is too slow, and the sink gives up on it (the
owner closes the socket with a retryable code and the client resumes by
cursor) instead of stalling the other subscribers. The socket's own work
(acknowledgements, replayed events, answers) `put`s and waits for room.

No task exists while the queue is empty, so an idle socket costs no task,
and a frame offered to an idle, writable socket is written at once, without
a task at all: the socket's send is stepped in place and only handed to a
task if it has to wait (the peer is slow to read).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Final

logger = logging.getLogger(__name__)

Send = Callable[[str], Coroutine[Any, Any, None]]
GiveUp = Callable[[], None]

DEFAULT_FRAMES: Final = 256


class Sink:
    """A bounded queue of text frames in front of one socket."""

    def __init__(self, send: Send, give_up: GiveUp, limit: int = DEFAULT_FRAMES):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.dead = False
        self._send = send
        self._give_up = give_up
        self._frames: deque[str] = deque()
        self._room = asyncio.Event()
        self._room.set()
        self._writer: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Frames queued and not yet handed to the socket."""
        return len(self._frames)

    def offer(self, frame: str) -> bool:
        """Queue `frame` without waiting; a full queue gives the socket up."""
        if self.dead:
            return False
        if len(self._frames) >= self.limit:
            logger.warning("socket fell %s frames behind; giving it up", self.limit)
            self.give_up()
            return False
        self._frames.append(frame)
        self._start_writer()
        return True

    async def put(self, frame: str) -> None:
        """Queue `frame`, waiting while the queue is full."""
        while not self.dead and len(self._frames) >= self.limit:
            self._room.clear()
            await self._room.wait()
        if not self.dead:
            self._frames.append(frame)
            self._start_writer()

    def give_up(self) -> None:
        """Stop serving this socket; its owner closes it (retryable)."""
        if not self.dead:
            self.kill()
            self._give_up()

    def kill(self) -> None:
        """Drop what is queued, stop writing and refuse any further frame."""
        self.dead = True
        self._frames.clear()
        self._room.set()
        writer, self._writer = self._writer, None
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()

    def _start_writer(self) -> None:
        if self._writer is not None:
            return
        if len(self._frames) == 1:
            self._send_in_place(self._frames.popleft())
        elif self._frames:
            self._writer = asyncio.create_task(self._write())

    def _send_in_place(self, frame: str) -> None:
        """Write `frame` now if the socket takes it without waiting."""
        sending = self._send(frame)
        try:
            waiting = sending.send(None)
        except StopIteration:
            return
        except Exception:
            logger.debug("socket write failed; dropping its queue", exc_info=True)
            self.kill()
            return
        self._writer = asyncio.create_task(self._resume(sending, waiting))

    async def _resume(self, sending: Coroutine[Any, Any, None], waiting: Any) -> None:
        """Finish a send that had to wait, as a task would, then keep writing."""
        try:
            while True:
                try:
                    if waiting is None:
                        await asyncio.sleep(0)
                    else:
                        # Taken over as a task takes a yielded future.
                        waiting._asyncio_future_blocking = False
                        await waiting
                except BaseException as error:
                    waiting = sending.throw(error)
                else:
                    waiting = sending.send(None)
        except StopIteration:
            pass
        except BaseException:
            sending.close()
            if self._writer is asyncio.current_task():
                self._writer = None
            self.kill()
            raise
        await self._write()

    async def _write(self) -> None:
        try:
            while self._frames:
                frame = self._frames.popleft()
                self._room.set()
                await self._send(frame)
        except Exception:  # the socket went away mid-send; nothing to tell
            logger.debug("socket write failed; dropping its queue", exc_info=True)
            self.kill()
        finally:
            if self._writer is asyncio.current_task():
                self._writer = None
