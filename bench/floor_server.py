"""The floor of fan-out: a server that only writes pre-framed bytes.

    .venv/bin/python -m bench.floor_server PORT

Accepts websocket upgrades on loopback (uvloop, as `spur serve` runs), reads
and ignores what clients send, and for each line `fire <hex frame>` on its
standard input writes those exact bytes to every connection, then prints
`done`. The fan-out benchmark drives the same client sockets against it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sys
from typing import ClassVar, cast

import uvloop

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Bare(asyncio.Protocol):
    connections: ClassVar[set[Bare]] = set()

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self in Bare.connections:
            return  # frames from the client: ignored
        self.buffer += data
        if b"\r\n\r\n" not in self.buffer:
            return
        key = next(
            line.split(b":", 1)[1].strip()
            for line in self.buffer.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + _GUID, usedforsecurity=False).digest()
        )
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        Bare.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        Bare.connections.discard(self)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Bare, "127.0.0.1", port, backlog=4096)
    print("listening", flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while line := await reader.readline():
        command, _, argument = line.decode().strip().partition(" ")
        if command == "fire":
            frame = bytes.fromhex(argument)
            for connection in Bare.connections:
                assert connection.transport is not None
                connection.transport.write(frame)
        print(f"done {len(Bare.connections)}", flush=True)
    server.close()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
