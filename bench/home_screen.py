"""Median time of the mobile app's HomeScreen for newhire on the demo.

    .venv/bin/python -m bench.home_screen [--database sqlite|postgres] [--runs N]

Served in-process over ASGI (no sockets), so the figure is the server's own
work. The baseline, in the same run and through the same stack, is the
smallest authenticated query there is: `{ viewer { id } }`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx
from starlette.datastructures import Secret

from bench.common import median_ms, percentile, scratch_database, table, timed
from spur.api.app import create_app
from spur.api.settings import load_settings

OPERATIONS = Path(__file__).parents[1] / "spur" / "schema" / "operations"
BASELINE = "{ viewer { id } }"


async def measure(url: str, runs: int) -> dict[str, list[float]]:
    settings = load_settings(env_file=None).with_overrides(
        database_url=url, jwt_secret=Secret("b" * 48)
    )
    app = create_app(settings, demo=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
            token = await _login(c)
            home = (OPERATIONS / "HomeScreen.graphql").read_text()
            await _query(c, token, home)  # warm caches once
            return {
                "HomeScreen": await timed(lambda: _query(c, token, home), runs),
                "baseline { viewer { id } }": await timed(
                    lambda: _query(c, token, BASELINE), runs
                ),
            }


async def _login(client: httpx.AsyncClient) -> str:
    login = (OPERATIONS / "Login.graphql").read_text()
    body = await _post(
        client, None, login, {"email": "newhire@example.com", "password": "demo"}
    )
    return str(body["data"]["login"]["accessToken"])


async def _query(client: httpx.AsyncClient, token: str, query: str) -> None:
    body = await _post(client, token, query, {})
    if "errors" in body:
        raise RuntimeError(body["errors"])


async def _post(
    client: httpx.AsyncClient, token: str | None, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", headers=headers, json={"query": query, "variables": variables}
    )
    result: dict[str, Any] = response.json()
    return result


async def main(kind: str, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            samples = await measure(url, runs)
    base = median_ms(samples["baseline { viewer { id } }"])
    print(
        table(
            f"HomeScreen for newhire on the demo ({kind}, {runs} runs each)",
            ["query", "median ms", "p99 ms", "x baseline"],
            [
                [name, median_ms(s), percentile(s, 0.99) * 1000, median_ms(s) / base]
                for name, s in samples.items()
            ],
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database, arguments.runs))
