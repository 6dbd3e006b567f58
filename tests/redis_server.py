"""Redis for the tests: the shared server, or a private one a test may restart.

The shared Redis (SPUR_TEST_REDIS_URL, CI starts it on 127.0.0.1:6379) is
never restarted; tests keep apart on it with a channel prefix of their own
(pub/sub ignores database numbers). A test that takes Redis away starts its
own `redis-server` on a free loopback port, without persistence.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

SHARED_URL = os.environ.get("SPUR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STARTUP_SECONDS = 10.0


def unique_prefix() -> str:
    """A channel prefix no other test (or worker) uses."""
    return f"test-{uuid.uuid4().hex[:12]}:"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def shared_redis_url() -> str:
    """The shared Redis's URL; skips the test when nothing answers there."""
    host_port = SHARED_URL.split("//", 1)[1].split("/", 1)[0]
    port = int(host_port.rsplit(":", 1)[1]) if ":" in host_port else 6379
    if not _answers(port):
        pytest.skip(f"no Redis answers at {SHARED_URL}")
    return SHARED_URL


class RedisServer:
    """A private `redis-server` on loopback that the test stops and restarts."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("no redis-server binary")
        self.binary = binary
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (again) on the same port and wait until it answers PING."""
        arguments = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        arguments += ["--save", "", "--appendonly", "no"]
        arguments += ["--dir", str(self.directory)]
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(arguments, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Kill it at once, as a crash or a restart does to its clients."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)  # in case it was paused
            process.kill()
            process.wait(timeout=10)

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections stay open and nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)
