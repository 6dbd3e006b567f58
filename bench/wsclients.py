"""Many cheap websocket clients in one process, for the live-feed benchmarks.

Each client is a bare asyncio protocol: an HTTP upgrade, `connection_init`
and one `subscribe` sent at once, then it only counts the text frames it
receives (answering pings), stamping each arrival. Parsing nothing but frame
headers keeps the client side cheap enough to watch 10,000 sockets.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import resource
import socket
import struct
import time
from collections.abc import Callable
from typing import Any, cast

import httpx

_KEY = base64.b64encode(b"spur-bench-key!!").decode()


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit toward `wanted`; the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def client_frame(text: str) -> bytes:
    """A masked text frame (mask key zero, so the payload reads as is)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    return head + b"\0\0\0\0" + payload


def server_frame(text: str) -> bytes:
    """The unmasked text frame a server writes for `text`."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", 0x81, size) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


class Client(asyncio.Protocol):
    """One subscribed socket that counts (and stamps) the frames it gets."""

    def __init__(self, host: str, port: int, messages: list[str]) -> None:
        self.request = (
            f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {_KEY}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        ).encode()
        self.messages = messages
        self.buffer = bytearray()
        self.upgraded = False
        self.frames = 0
        self.arrivals: list[float] = []
        self.sample: bytes | None = None
        self.transport: asyncio.Transport | None = None
        self.on_frame: Callable[[Client], None] | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(bytes(self.buffer[:200]).decode(errors="replace"))
            del self.buffer[: end + 4]
            self.upgraded = True
            assert self.transport is not None
            self.transport.write(b"".join(client_frame(m) for m in self.messages))
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            size = buffer[1] & 0x7F
            head = 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, head = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, head = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < head + size:
                return
            opcode = buffer[0] & 0x0F
            if opcode == 1:
                self._text(bytes(buffer[: head + size]))
            elif opcode == 9 and self.transport is not None:
                pong = bytes(buffer[head : head + size])
                self.transport.write(bytes([0x8A, 0x80 | len(pong)]) + b"\0" * 4 + pong)
            del buffer[: head + size]

    def _text(self, frame: bytes) -> None:
        self.frames += 1
        self.arrivals.append(time.perf_counter())
        if self.sample is None and b'"next"' in frame:
            self.sample = frame
        if self.on_frame is not None:
            self.on_frame(self)

    def reset(self) -> None:
        """Abort the TCP connection (a reset, no close frame, no FIN)."""
        if self.transport is None or self.transport.is_closing():
            return
        raw = self.transport.get_extra_info("socket")
        with contextlib.suppress(OSError):
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


async def open_clients(
    host: str, port: int, count: int, messages: list[str], batch: int = 200
) -> list[Client]:
    """`count` connected clients, opened `batch` at a time."""
    loop = asyncio.get_running_loop()
    clients: list[Client] = []
    while len(clients) < count:
        wave = min(batch, count - len(clients))
        made = await asyncio.gather(
            *(
                loop.create_connection(lambda: Client(host, port, messages), host, port)
                for _ in range(wave)
            )
        )
        opened = [protocol for _, protocol in made]
        clients += opened
        # The next wave once this one is answered (upgraded, and acknowledged
        # when it signs in), so a busy server is never flooded.
        await wait_until(_answered(opened, 1 if messages else 0), 120, "a wave")
    return clients


def _answered(clients: list[Client], frames: int) -> Callable[[], bool]:
    return lambda: all(c.upgraded and c.frames >= frames for c in clients)


def subscription_messages(token: str, query: str, **variables: Any) -> list[str]:
    """`connection_init` with the token, then one `subscribe` as operation 1."""
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    payload = {"query": query, "variables": variables}
    return [
        json.dumps(init),
        json.dumps({"id": "1", "type": "subscribe", "payload": payload}),
    ]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_bytes(pid: int) -> int:
    """Resident memory of a process."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def server_stats(server: Any) -> dict[str, Any]:
    """The server's `/stats`, patient with a server busy opening sockets."""
    for _ in range(60):
        try:
            found: dict[str, Any] = await server.stats()
            return found
        except httpx.TimeoutException:
            await asyncio.sleep(1)
    raise TimeoutError("/stats did not answer")


async def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `check` (cheap, in-process) until true; TimeoutError naming `what`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)
