"""From RecordActivity's commit to the event's arrival at 1,000 subscribers.

    .venv/bin/python -m bench.commit_to_arrival [--database sqlite|postgres]
        [--subscribers N] [--events N]

Starts `spur serve` in a child process and opens N bare websocket clients in
this process, each a manager's screen subscribed to TeamFeed. It records
small orders one at a time; each makes an ORDER_CLOSED event (sometimes a
rank change too). The commit happens inside the call, so every arrival is
measured from both ends of it: from the request leaving (an upper bound of
commit -> arrival) and from the HTTP response (sent after the commit; the
event may even come first). Percentiles run over every (event, socket)
arrival. Same-run baselines: one subscriber alone, and the HTTP round trip
of `{ __typename }`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.common import percentile, scratch_database, table, timed
from bench.wsclients import (
    Client,
    open_clients,
    raise_fd_limit,
    server_stats,
    subscription_messages,
)
from tests.e2e.client import Api, document, global_id, order
from tests.e2e.seed import seed_world
from tests.e2e.server import Server, start_server, stop_server

HOST = "127.0.0.1"
LIMITS = {"SPUR_WS_LIVE_PER_MEMBER": "1000000", "SPUR_WS_INIT_SECONDS": "60"}


async def arrivals(
    server: Server,
    api: Api,
    tokens: dict[str, str],
    team: str,
    count: int,
    events: int,
    prefix: str,
) -> dict[str, list[float]]:
    """Seconds from request sent and from response to each arrival."""
    messages = subscription_messages(
        tokens["manager"], document("TeamFeed"), teamId=team
    )
    clients = await open_clients(HOST, server.port, count, messages)
    try:
        await _subscribed(server, count)
        from_sent: list[float] = []
        from_response: list[float] = []
        for n in range(events):
            made = [client.frames for client in clients]
            sent = time.perf_counter()
            await api.record(tokens["seller"], order(f"{prefix}{n}", "1.00"))
            responded = time.perf_counter()
            first = await _first_arrivals(clients, made)
            # A rank change may follow the order's event; let it land.
            await asyncio.sleep(0.05)
            from_sent += [arrived - sent for arrived in first]
            from_response += [arrived - responded for arrived in first]
        return {"sent": from_sent, "response": from_response}
    finally:
        for client in clients:
            client.reset()


async def _subscribed(server: Server, count: int) -> None:
    while (await server_stats(server))["subscriptions"] < count:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


async def _first_arrivals(clients: list[Client], made: list[int]) -> list[float]:
    """Each client's arrival time of the event's first frame (ORDER_CLOSED)."""
    deadline = time.monotonic() + 30
    while any(c.frames <= m for c, m in zip(clients, made, strict=True)):
        if time.monotonic() > deadline:
            raise TimeoutError("events did not arrive")
        await asyncio.sleep(0.002)
    return [c.arrivals[m] for c, m in zip(clients, made, strict=True)]


async def measure(server: Server, count: int, events: int) -> list[list[object]]:
    ids = await seed_world(server.database_url)
    api = Api(server)
    try:
        tokens = {
            "seller": await api.login("seller@example.com"),
            "manager": await api.login("manager@example.com"),
        }
        team = global_id("Team", ids.team)
        one = await arrivals(server, api, tokens, team, 1, events, "one")
        many = await arrivals(server, api, tokens, team, count, events, "many")
        typename = await timed(lambda: _typename(api.http), events)
    finally:
        await api.close()
    rows: list[list[object]] = []
    for label, found in ((f"{count} subscribers", many), ("1 subscriber", one)):
        for end, name in (("sent", "request sent"), ("response", "HTTP response")):
            values = found[end]
            rows.append([label, f"{name} -> arrival", len(values), *_ms(values)])
    rows.append(["baseline", "{ __typename } round trip", events, *_ms(typename)])
    return rows


def _ms(values: Sequence[float]) -> list[float]:
    return [percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000]


async def _typename(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def main(kind: str, count: int, events: int) -> None:
    raise_fd_limit(count * 2 + 1000)
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            server = await start_server(url, Path(folder) / "server.log", LIMITS)
            try:
                rows = await measure(server, count, events)
            finally:
                stop_server(server)
    print(
        table(
            f"RecordActivity commit -> TeamFeed arrival, real server on {kind}, "
            f"{events} orders (the commit lies between request sent and response)",
            ["subscribers", "interval", "samples", "p50 ms", "p99 ms"],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database, arguments.subscribers, arguments.events))
