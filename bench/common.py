"""Helpers shared by the benchmarks: timing, tables, throw-away databases."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

POSTGRES_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


async def timed(action: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    """Wall seconds of each of `runs` awaited calls."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - start)
    return samples


def percentile(samples: Sequence[float], share: float) -> float:
    """The `share` quantile (0.5 for the median) of the samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, columns padded to their widest cell."""
    cells = [list(map(str, header))] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return f"{title}\n" + "\n".join(lines)


def _cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


@asynccontextmanager
async def scratch_database(kind: str, folder: Path) -> AsyncIterator[str]:
    """A URL of an empty SQLite file or PostgreSQL database, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite://{folder / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    name = f"spur_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
