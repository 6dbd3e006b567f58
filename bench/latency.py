"""How long an achievement takes to reach a subscribed socket.

    .venv/bin/python -m bench.latency [--database sqlite|postgres] [--runs N]

Starts `spur serve` in a child process on a loopback port, exactly as the
end-to-end tests do, subscribes the seller with OnAchievement over
`graphql-transport-ws`, then sends RecordActivity (a small order, which
always yields one ORDER_CLOSED event and never a goal line) one call at a
time, waiting for its event before the next. For each call it notes when the
request left, when the HTTP response arrived and when the event arrived on
the socket. The same-run baseline is the HTTP round trip of `{ __typename }`
to the same server over the same connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection

from bench.common import percentile, scratch_database, table, timed
from tests.e2e.client import (
    Api,
    document,
    init_message,
    order,
    raw_socket,
    subscribe_message,
    wait_for_subscriptions,
)
from tests.e2e.seed import seed_world
from tests.e2e.server import Server, start_server, stop_server

WARM_UP = 10
EVENT_TIMEOUT = 10.0


@dataclass
class Sample:
    """One RecordActivity call, in perf_counter seconds."""

    sent: float
    responded: float
    event: float


class Listener:
    """Reads the socket in its own task and stamps each `next` on arrival."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.arrivals: asyncio.Queue[float] = asyncio.Queue()

    async def run(self) -> None:
        async for raw in self.socket:
            arrived = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") == "next":
                assert "errors" not in message["payload"], message
                await self.arrivals.put(arrived)
            elif message.get("type") in ("error", "complete"):
                raise RuntimeError(f"subscription ended: {message}")


async def measure(server: Server, runs: int) -> dict[str, list[float]]:
    """Seconds per sample for each measured path."""
    await seed_world(server.database_url)
    api = Api(server)
    try:
        token = await api.login("seller@example.com")
        socket = await raw_socket(server)
        await socket.send(init_message(token))
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
        await socket.send(subscribe_message("1", document("OnAchievement")))
        await wait_for_subscriptions(server, 1)
        listener = Listener(socket)
        reader = asyncio.create_task(listener.run())
        try:
            samples = await _record(api, token, listener, runs)
            baseline = await timed(lambda: _typename(api.http), runs)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await socket.close()
    finally:
        await api.close()
    return {
        "HTTP response -> event on socket": [s.event - s.responded for s in samples],
        "request sent -> event on socket": [s.event - s.sent for s in samples],
        "request sent -> HTTP response": [s.responded - s.sent for s in samples],
        "baseline: { __typename } round trip": baseline,
    }


async def _record(api: Api, token: str, listener: Listener, runs: int) -> list[Sample]:
    samples = []
    for n in range(WARM_UP + runs):
        activity = order(f"bench-{n}", "1.00")
        sent = time.perf_counter()
        payload = await api.record(token, activity)
        responded = time.perf_counter()
        assert [a["kind"] for a in payload["achievements"]] == ["ORDER_CLOSED"]
        event = await asyncio.wait_for(listener.arrivals.get(), EVENT_TIMEOUT)
        if n >= WARM_UP:
            samples.append(Sample(sent, responded, event))
    return samples


async def _typename(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


def report(kind: str, runs: int, results: dict[str, list[float]]) -> str:
    rows: list[Sequence[object]] = [
        [name, percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000]
        for name, values in results.items()
    ]
    early = sum(1 for value in results["HTTP response -> event on socket"] if value < 0)
    return table(
        f"Achievement latency, real server on {kind}, {runs} RecordActivity calls "
        f"(event before the HTTP response in {early} of {runs})",
        ["path", "median ms", "p99 ms"],
        rows,
    )


async def main(kind: str, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            server = await start_server(url, Path(folder) / "server.log")
            try:
                results = await measure(server, runs)
            finally:
                stop_server(server)
    print(report(kind, runs, results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database, arguments.runs))
