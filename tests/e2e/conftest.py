"""End-to-end fixtures: a real `spur serve` process per test on a fresh database
(SQLite, or PostgreSQL with SPUR_TEST_DATABASE=postgres), seeded from the test
process, and stopped afterwards. A test fails when the server logged a fault
(an ERROR record other than a client's GraphQL error, or a stray traceback).

The servers run with SPUR_EXPOSE_STATS=1, so `GET /stats` reports open
sockets, broker subscriptions and asyncio tasks. A test that breaks the
server on purpose is marked `server_faults_expected`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.e2e.client import Api
from tests.e2e.seed import Ids, seed_world
from tests.e2e.server import Server, start_server, stop_server

StartServer = Callable[..., Awaitable[Server]]
FAULTS_EXPECTED = "server_faults_expected"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{FAULTS_EXPECTED}: the test makes the server log faults"
    )


@pytest.fixture
async def start(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[StartServer]:
    """Starts servers on the test's database (one at a time); stops them all."""
    servers: list[Server] = []

    async def launch(**env: str) -> Server:
        log_path = tmp_path / f"server-{len(servers)}.log"
        server = await start_server(database_url, log_path, env)
        servers.append(server)
        return server

    yield launch
    for server in servers:
        stop_server(server)
    if request.node.get_closest_marker(FAULTS_EXPECTED):
        return
    faults = [fault for server in servers for fault in server.faults()]
    logs = "\n".join(server.log() for server in servers)
    assert not faults, f"server logged faults {faults}:\n{logs}"


@pytest.fixture
async def server(start: StartServer) -> Server:
    return await start()


@pytest.fixture
async def ids(server: Server) -> Ids:
    return await seed_world(server.database_url)


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    client = Api(server)
    yield client
    await client.close()
