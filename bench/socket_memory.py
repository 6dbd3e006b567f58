"""Memory per idle subscribed socket, and what dropped sockets leave behind.

    .venv/bin/python -m bench.socket_memory [--database sqlite|postgres]
        [--sockets N]

Starts `spur serve` in a child process and opens N sockets from this
process, each signed in (as the same seller) with OnAchievement running, and
reads the server's resident memory before and after: the growth per socket.
Same-run baseline: the same uvicorn (websockets-sansio, uvloop, no
compression) serving a bare ASGI app that accepts each websocket and waits,
with as many sockets open. Then every Spur socket is reset (no close frame,
no FIN), and the server's counters (sockets, live subscriptions, fan-out
groups and feeds, asyncio tasks) are read until they are back to where they
were before the sockets opened.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import scratch_database, table
from bench.wsclients import (
    open_clients,
    raise_fd_limit,
    rss_bytes,
    server_stats,
    subscription_messages,
    wait_until,
)
from tests.e2e.client import Api, document
from tests.e2e.seed import seed_world
from tests.e2e.server import Server, free_port, start_server, stop_server

HOST = "127.0.0.1"
LIMITS = {"SPUR_WS_LIVE_PER_MEMBER": "1000000", "SPUR_WS_INIT_SECONDS": "60"}
GAUGES = ("sockets", "subscriptions", "groups", "feeds", "tasks")


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept a websocket and wait for it to go: the baseline connection."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def settle_rss(pid: int) -> int:
    """Resident memory once it stops moving (0.5 s apart)."""
    last = rss_bytes(pid)
    for _ in range(20):
        await asyncio.sleep(0.5)
        now = rss_bytes(pid)
        if abs(now - last) < 256 * 1024:
            return now
        last = now
    return last


async def bare_per_socket(count: int) -> float:
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before timing
        [sys.executable, "-m", "bench.socket_memory", "--bare-server", str(port)],
        cwd=Path(__file__).parents[1],
    )
    try:
        await _listening(port)
        before = await settle_rss(process.pid)
        clients = await open_clients(HOST, port, count, [])
        await wait_until(lambda: all(c.upgraded for c in clients), 120, "upgrades")
        after = await settle_rss(process.pid)
        for client in clients:
            client.reset()
        return (after - before) / count
    finally:
        process.kill()
        process.wait()


async def _listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise TimeoutError("bare server did not start")


async def gauges(server: Server) -> dict[str, int]:
    stats = await server_stats(server)
    return {name: int(stats[name]) for name in GAUGES}


async def spur_per_socket(
    server: Server, count: int
) -> tuple[float, list[list[object]]]:
    await seed_world(server.database_url)
    api = Api(server)
    try:
        token = await api.login("seller@example.com")
    finally:
        await api.close()
    baseline = await gauges(server)
    before = await settle_rss(server.process.pid)
    messages = subscription_messages(token, document("OnAchievement"))
    clients = await open_clients(HOST, server.port, count, messages)
    while (await server_stats(server))["subscriptions"] < count:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    after = await settle_rss(server.process.pid)
    live = await gauges(server)
    for client in clients:
        client.reset()
    started = time.monotonic()
    dropped = await gauges(server)
    while dropped != baseline and time.monotonic() - started < 120:
        await asyncio.sleep(0.2)
        dropped = await gauges(server)
    waited = time.monotonic() - started
    rows: list[list[object]] = [
        ["before the sockets", *baseline.values()],
        [f"{count} sockets subscribed", *live.values()],
        [f"{waited:.1f} s after resetting them", *dropped.values()],
    ]
    return (after - before) / count, rows


async def main(kind: str, count: int) -> None:
    raise_fd_limit(count * 2 + 1000)
    bare = await bare_per_socket(count)
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            server = await start_server(url, Path(folder) / "server.log", LIMITS)
            try:
                spur, rows = await spur_per_socket(server, count)
            finally:
                stop_server(server)
    print(
        table(
            f"Resident memory per idle socket, {count} sockets ({kind})",
            ["server", "KiB per socket", "ratio to bare"],
            [
                ["bare uvicorn websocket (accept, wait)", bare / 1024, 1.0],
                ["spur serve, OnAchievement subscribed", spur / 1024, spur / bare],
            ],
        )
    )
    print()
    print(table("Server counters as sockets drop", ["moment", *GAUGES], rows))


def serve_bare(port: int) -> None:
    import uvicorn

    uvicorn.run(
        bare_app,
        host=HOST,
        port=port,
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_ping_interval=15,
        backlog=4096,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--bare-server", type=int, default=0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.bare_server:
        serve_bare(arguments.bare_server)
    else:
        asyncio.run(main(arguments.database, arguments.sockets))
