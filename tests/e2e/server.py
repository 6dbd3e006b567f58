"""A real `spur serve` process on a loopback port, for end-to-end tests and bench.

The server is started the way an operator starts it (the `spur` console
script's entry point, in a child process), with the test secret in its
environment and its log written to a file the tests read afterwards.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

JWT_SECRET = "e2e-" + "0123456789abcdef" * 2 + "ghijklmnopqr"
assert len(JWT_SECRET) == 48

STARTUP_SECONDS = 30.0
STOP_SECONDS = 15.0

# The same entry point the `spur` console script calls; `python -m
# spur.api.cli` would need a `__main__` guard in that module.
_ENTRY = "import sys; from spur.api.cli import main; main(sys.argv[1:])"
_RECORD = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<logger>[\w.]+): .*$", re.M)
# Strawberry logs every GraphQL error a client receives (FORBIDDEN included)
# at ERROR; those lines are answers, not server faults.
_CLIENT_ERROR_LOGGERS = frozenset({"strawberry.execution"})


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """One running server: its URLs, its database and its log file."""

    process: subprocess.Popen[bytes]
    port: int
    database_url: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def faults(self) -> list[str]:
        """Log records at ERROR or above that are not a client's GraphQL error."""
        return [
            match.group(0)
            for match in _RECORD.finditer(self.log())
            if match["level"] in ("ERROR", "CRITICAL")
            and match["logger"] not in _CLIENT_ERROR_LOGGERS
        ] + (["Traceback"] if self._stray_traceback() else [])

    def _stray_traceback(self) -> bool:
        # A traceback printed outside logging (an unhandled task error, say)
        # follows no record of an allowed logger.
        last_logger = ""
        for line in self.log().splitlines():
            if record := _RECORD.match(line + " "):
                last_logger = record["logger"]
            elif line.startswith("Traceback") and last_logger not in (
                _CLIENT_ERROR_LOGGERS
            ):
                return True
        return False

    async def stats(self) -> dict[str, Any]:
        """The server's live counters (needs SPUR_EXPOSE_STATS=1)."""
        async with httpx.AsyncClient(base_url=self.base_url, trust_env=False) as client:
            response = await client.get("/stats")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


async def start_server(
    database_url: str, log_path: Path, env: Mapping[str, str] | None = None
) -> Server:
    """Start `spur serve` on a free port and return once /healthz says ok."""
    port = free_port()
    arguments = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    arguments += ["--database-url", database_url]
    process = spawn(arguments, log_path, env)
    server = Server(process, port, database_url, log_path)
    try:
        await _wait_healthy(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def spawn(
    arguments: list[str], log_path: Path, env: Mapping[str, str] | None
) -> subprocess.Popen[bytes]:
    """`spur <arguments>` in a child process, its output appended to the log."""
    environment = {
        **os.environ,
        "SPUR_JWT_SECRET": JWT_SECRET,
        "SPUR_EXPOSE_STATS": "1",
        **(env or {}),
    }
    environment.pop("SPUR_DATABASE_URL", None)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-c", _ENTRY, *arguments],
            cwd=Path(__file__).parents[2],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=2.0, trust_env=False
    ) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"spur serve exited early:\n{server.log()}")
            try:
                response = await client.get("/healthz")
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"spur serve not healthy in {STARTUP_SECONDS}s:\n{server.log()}")


def stop_server(server: Server) -> int:
    """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it hangs."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
