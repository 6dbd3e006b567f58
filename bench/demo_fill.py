"""How long filling the demo takes, against bulk-inserting its activity rows.

    .venv/bin/python -m bench.demo_fill [--database sqlite|postgres]

The baseline is the cheapest write of the same data, in the same run and the
same database: a copy of every demo activity row (under another source)
written with one bulk insert.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from bench.common import scratch_database, table
from spur.demo import fill_demo
from spur.models import Activity
from spur.models.config import tortoise_config
from spur.models.database import migrate_database


async def measure(url: str) -> tuple[float, float, int]:
    """Seconds to fill the demo, seconds to bulk-copy its activities, rows."""
    await migrate_database(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        start = time.perf_counter()
        await fill_demo(datetime.now(UTC))
        fill_seconds = time.perf_counter() - start
        rows = await Activity.all()
        copies = [_copy(row) for row in rows]
        start = time.perf_counter()
        async with in_transaction():
            await Activity.bulk_create(copies, batch_size=2000)
        return fill_seconds, time.perf_counter() - start, len(rows)


def _copy(row: Activity) -> Activity:
    values = {name: getattr(row, name) for name in Activity._meta.db_fields}
    values.pop("id")
    values["source"] = "bench-copy"
    return Activity(**values)


async def main(kind: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            fill, copy, count = await measure(url)
    print(
        table(
            f"Demo fill on {kind}: {count} activities with their totals, goals, "
            "ledger and events",
            ["what", "seconds", "x baseline"],
            [
                ["fill_demo", fill, fill / copy],
                ["baseline: bulk insert of the same activity rows", copy, 1.0],
            ],
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    asyncio.run(main(parser.parse_args().database))
