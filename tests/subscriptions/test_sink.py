"""A socket's outgoing queue: order, waiting producers, and giving up."""

from __future__ import annotations

import asyncio

import pytest

from spur.subscriptions.sink import Sink


class Socket:
    """A fake socket whose writes can be held up."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.given_up = 0

    async def send(self, frame: str) -> None:
        await self.flowing.wait()
        self.written.append(frame)

    def give_up(self) -> None:
        self.given_up += 1


async def drained(sink: Sink) -> None:
    for _ in range(100):
        if not sink.pending:
            return
        await asyncio.sleep(0)


async def test_frames_go_out_in_order_whoever_queued_them() -> None:
    socket = Socket()
    sink = Sink(socket.send, socket.give_up, limit=8)
    sink.offer("a")
    await sink.put("b")
    sink.offer("c")
    await drained(sink)
    await asyncio.sleep(0)
    assert socket.written == ["a", "b", "c"]
    assert socket.given_up == 0


async def test_a_full_queue_gives_the_socket_up_without_waiting() -> None:
    socket = Socket()
    socket.flowing.clear()
    sink = Sink(socket.send, socket.give_up, limit=3)
    # The writer takes one frame and blocks on the socket; three more fit.
    assert sink.offer("0")
    await asyncio.sleep(0)
    assert all(sink.offer(str(n)) for n in range(1, 4))
    assert sink.offer("over") is False
    assert socket.given_up == 1
    assert sink.dead
    assert sink.offer("later") is False
    assert socket.given_up == 1


async def test_the_sockets_own_producer_waits_for_room() -> None:
    socket = Socket()
    socket.flowing.clear()
    sink = Sink(socket.send, socket.give_up, limit=2)
    for n in range(3):
        await sink.put(str(n))
    waiting = asyncio.create_task(sink.put("3"))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    socket.flowing.set()
    await asyncio.wait_for(waiting, 1)
    await drained(sink)
    await asyncio.sleep(0)
    assert socket.written == ["0", "1", "2", "3"]
    assert socket.given_up == 0


async def test_a_writable_socket_is_written_in_place_without_a_task() -> None:
    socket = Socket()
    sink = Sink(socket.send, socket.give_up)
    before = len(asyncio.all_tasks())
    sink.offer("x")
    assert socket.written == ["x"]
    assert len(asyncio.all_tasks()) == before


async def test_a_send_that_must_wait_finishes_in_a_task_then_the_rest() -> None:
    socket = Socket()
    socket.flowing.clear()
    sink = Sink(socket.send, socket.give_up)
    before = len(asyncio.all_tasks())
    sink.offer("x")
    sink.offer("y")
    assert len(asyncio.all_tasks()) == before + 1
    socket.flowing.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert socket.written == ["x", "y"]
    assert len(asyncio.all_tasks()) == before


async def test_a_failing_send_drops_the_queue() -> None:
    async def broken(frame: str) -> None:
        raise ConnectionResetError

    sink = Sink(broken, lambda: None)
    sink.offer("x")
    assert sink.dead


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Sink(Socket().send, lambda: None, limit=0)
