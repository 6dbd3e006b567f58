"""Fan-out of one live event to many subscribers, against the bytes-only floor.

    .venv/bin/python -m bench.fanout [--database sqlite|postgres]
        [--subscribers 1000 10000] [--events N]

Starts `spur serve` in a child process, opens N bare websocket clients in this
process (all the team's manager screens: TeamFeed, one visibility class),
then records orders one at a time (RecordActivity over HTTP) and waits until
every socket has every frame the server reports delivered. It measures the
deliveries per second and the server's CPU per delivery; the CPU of the same
number of RecordActivity calls with nobody subscribed (measured in the same
run) is taken off first, so what is left is the fan-out.

The floor, in the same run: a server that only writes pre-framed bytes
(`bench.floor_server`, uvloop like `spur serve`) is sent the exact frame the
clients received from Spur, once per event, for the same number of sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import scratch_database, table
from bench.wsclients import (
    Client,
    cpu_seconds,
    open_clients,
    raise_fd_limit,
    server_stats,
    subscription_messages,
    wait_until,
)
from tests.e2e.client import Api, document, global_id, order
from tests.e2e.seed import seed_world
from tests.e2e.server import Server, free_port, start_server, stop_server

HOST = "127.0.0.1"
# Every screen signs in as the team's manager: lift the per-member limit.
LIMITS = {"SPUR_WS_LIVE_PER_MEMBER": "1000000", "SPUR_WS_INIT_SECONDS": "60"}


@dataclass
class Run:
    """One measured path: deliveries, wall seconds, server CPU seconds."""

    deliveries: int
    wall: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.deliveries / self.wall

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.deliveries * 1e6


async def spur_run(
    server: Server,
    api: Api,
    tokens: dict[str, str],
    team: str,
    count: int,
    events: int,
    prefix: str,
) -> tuple[Run, bytes]:
    """Fan-out of `events` orders to `count` TeamFeed sockets."""
    messages = subscription_messages(
        tokens["manager"], document("TeamFeed"), teamId=team
    )
    clients = await open_clients(HOST, server.port, count, messages)
    try:
        await _wait_subscribed(server, count)
        delivered = await _delivered(server)
        cpu = cpu_seconds(server.process.pid)
        start = time.perf_counter()
        for n in range(events):
            await api.record(tokens["seller"], order(f"{prefix}{n}", "1.00"))
        total = await _settle(server, clients, delivered)
        wall = max(max(c.arrivals) for c in clients) - start
        used = cpu_seconds(server.process.pid) - cpu
        sample = next(c.sample for c in clients if c.sample)
        assert sample is not None
        return Run(total, wall, used), sample
    finally:
        for client in clients:
            client.reset()


async def _wait_subscribed(server: Server, count: int) -> None:
    deadline = time.monotonic() + 300
    while (await server_stats(server))["subscriptions"] < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} subscriptions never came up")
        await asyncio.sleep(0.2)


async def _delivered(server: Server) -> int:
    stats = await server_stats(server)
    return int(stats["counters"]["deliveries"])


async def _settle(server: Server, clients: list[Client], before: int) -> int:
    """Deliveries made since `before`, once every client has received them."""
    delivered = 0
    for _ in range(3000):
        delivered = await _delivered(server) - before
        received = sum(client.frames for client in clients) - len(clients)
        if delivered and received >= delivered:
            return delivered
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{delivered} delivered, clients have not got them")


async def mutation_cpu(server: Server, api: Api, seller: str, events: int) -> float:
    """Server CPU of `events` RecordActivity calls with nobody subscribed."""
    cpu = cpu_seconds(server.process.pid)
    for n in range(events):
        await api.record(seller, order(f"bare{n}", "1.00"))
    await asyncio.sleep(0.2)
    return cpu_seconds(server.process.pid) - cpu


async def floor_run(count: int, frame: bytes, events: int, per_event: int) -> Run:
    """The same frame written `events * per_event` times to `count` sockets."""
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before timing
        [sys.executable, "-m", "bench.floor_server", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parents[1],
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == b"listening"
        clients = await open_clients(HOST, port, count, [])
        await wait_until(lambda: all(c.upgraded for c in clients), 120, "upgrades")
        cpu = cpu_seconds(process.pid)
        start = time.perf_counter()
        for _ in range(events * per_event):
            process.stdin.write(b"fire " + frame.hex().encode() + b"\n")
            process.stdin.flush()
            await asyncio.to_thread(process.stdout.readline)
        total = events * per_event * count
        await wait_until(
            lambda: sum(c.frames for c in clients) >= total, 300, "floor frames"
        )
        wall = max(max(c.arrivals) for c in clients) - start
        used = cpu_seconds(process.pid) - cpu
        for client in clients:
            client.reset()
        return Run(total, wall, used)
    finally:
        process.kill()
        process.wait()


async def measure(
    server: Server, sizes: Sequence[int], events: int
) -> list[list[object]]:
    ids = await seed_world(server.database_url)
    api = Api(server)
    try:
        tokens = {
            "seller": await api.login("seller@example.com"),
            "manager": await api.login("manager@example.com"),
        }
        team = global_id("Team", ids.team)
        rows: list[list[object]] = []
        for count in sizes:
            bare = await mutation_cpu(server, api, tokens["seller"], events)
            spur, frame = await spur_run(
                server, api, tokens, team, count, events, f"n{count}-"
            )
            net = Run(spur.deliveries, spur.wall, max(0.0, spur.cpu - bare))
            per_event = round(spur.deliveries / events / count)
            floor = await floor_run(count, frame, events, per_event)
            rows.append(_row(count, events, spur, net, floor, bare))
            print(f"measured {count} subscribers: {rows[-1]}", flush=True)
        return rows
    finally:
        await api.close()


def _row(
    count: int, events: int, spur: Run, net: Run, floor: Run, bare: float
) -> list[object]:
    return [
        count,
        spur.deliveries,
        round(spur.per_second),
        round(floor.per_second),
        net.cpu_us,
        floor.cpu_us,
        net.cpu_us / floor.cpu_us if floor.cpu_us else float("nan"),
        bare / events * 1000,
    ]


async def main(kind: str, sizes: Sequence[int], events: int) -> None:
    raise_fd_limit(max(sizes) * 2 + 1000)
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            server = await start_server(url, Path(folder) / "server.log", LIMITS)
            try:
                rows = await measure(server, sizes, events)
            finally:
                stop_server(server)
    print(
        table(
            f"Fan-out of TeamFeed on one `spur serve` process ({kind}), "
            f"{events} RecordActivity events per size; floor = the same frame "
            "written by a bytes-only uvloop server to as many sockets",
            [
                "subscribers",
                "deliveries",
                "spur deliveries/s",
                "floor deliveries/s",
                "spur CPU us/delivery (net)",
                "floor CPU us/delivery",
                "CPU ratio spur/floor",
                "RecordActivity CPU ms (taken off)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--events", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database, arguments.subscribers, arguments.events))
