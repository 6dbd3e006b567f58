"""Activities per second through recordActivity with every demo plan active.

    .venv/bin/python -m bench.ingest [--database sqlite|postgres] [--count N]

On a freshly filled demo, N generated activities (the demo's own mix of
inquiries, replies, platform sessions, product work, follow-ups and orders in
market currencies) are recorded one at a time by their salespeople through
`spur.resolvers.activity.record_activity`, the code behind the mutation:
totals, goals, the incentive plans, ledger, events and the relay. The
baseline, in the same run and database, writes the same rows again (under
another source) with one bare INSERT each, each in its own transaction, so
both sides commit as often.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.datastructures import Secret
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from bench.common import scratch_database, table
from spur.api.app import create_app
from spur.api.context import Viewer
from spur.api.services import Services
from spur.api.settings import load_settings
from spur.demo.activity import generate_activities
from spur.demo.calendar import Window
from spur.demo.drafts import Draft
from spur.demo.people import Person
from spur.demo.plan import DemoPlan, build_plan
from spur.models import Activity, Company, IncentivePlan, Member
from spur.models.upserts import placeholders
from spur.resolvers.activity import ACTIVITY_COLUMNS, record_activity
from spur.resolvers.activity_input import ActivityDraft

SEED = 2026
SOURCE = "bench-ingest"


def fresh_drafts(demo: DemoPlan, count: int) -> list[Draft]:
    """The newest `count` of another seed's activity for the demo's staff."""
    window = Window(demo.now, demo.tz)
    drafts = generate_activities(demo.people, window, demo.rates, SEED + 1)
    if len(drafts) < count:
        raise SystemExit(f"only {len(drafts)} activities can be generated")
    return drafts[-count:]


def as_input(number: int, draft: Draft) -> ActivityDraft:
    """The draft as a client would send it: amounts in the order's currency."""
    return ActivityDraft(
        kind=draft.kind,
        occurred_at=draft.at,
        source=SOURCE,
        external_id=f"{SOURCE}-{number}",
        quantity=float(draft.quantity),
        amount=draft.amount,
        currency=draft.currency,
        market=draft.market,
        product_category=draft.product_category,
        customer_ref=draft.customer_ref,
        new_customer=draft.new_customer,
        response_minutes=draft.response_minutes,
        rating=None if draft.rating is None else float(draft.rating),
    )


async def viewers(people: list[Person]) -> dict[int, Viewer]:
    """Everyone signed in, by their index among the demo's people."""
    company = await Company.get()
    members = {m.email: m for m in await Member.filter(company_id=company.id)}
    found = {}
    for owner, person in enumerate(people):
        member = members[person.email]
        found[owner] = Viewer(
            member_id=member.id,
            company_id=company.id,
            role=member.role,
            team_id=member.team_id,
            managed_team_ids=frozenset(),
            language=member.language,
            timezone=ZoneInfo(company.timezone),
            currency=company.currency,
            token_expires_at=float("inf"),
        )
    return found


async def record_all(
    services: Services, drafts: list[Draft], people: list[Person]
) -> float:
    """Seconds to record every draft through the mutation's code path."""
    signed_in = await viewers(people)
    start = time.perf_counter()
    for number, draft in enumerate(drafts, start=1):
        recorded = await record_activity(
            services, signed_in[draft.owner], None, as_input(number, draft)
        )
        if recorded.duplicate:
            raise RuntimeError(f"activity {number} was taken for a duplicate")
    return time.perf_counter() - start


async def insert_bare(count: int) -> float:
    """Seconds to insert copies of the recorded rows, one transaction each."""
    rows = (
        await Activity.filter(source=SOURCE)
        .order_by("id")
        .values_list(*ACTIVITY_COLUMNS)
    )
    if len(rows) != count:
        raise RuntimeError(f"{len(rows)} activities recorded, {count} expected")
    source = ACTIVITY_COLUMNS.index("source")
    conn = Tortoise.get_connection("default")
    marks = ", ".join(placeholders(conn, len(ACTIVITY_COLUMNS)))
    # Fixed column names and bind markers only.
    sql = f"INSERT INTO activity ({', '.join(ACTIVITY_COLUMNS)}) VALUES ({marks})"  # noqa: S608
    fields = Activity._meta.fields_map
    start = time.perf_counter()
    for row in rows:
        values = [
            fields[name].to_db_value(value, Activity)
            for name, value in zip(ACTIVITY_COLUMNS, row, strict=True)
        ]
        values[source] = f"{SOURCE}-bare"
        async with in_transaction() as tx:
            await tx.execute_query(sql, values)
    return time.perf_counter() - start


async def measure(url: str, count: int) -> tuple[float, float, int]:
    """Seconds through recordActivity, seconds of bare inserts, active plans."""
    now = datetime.now(UTC).replace(microsecond=0)
    settings = load_settings(env_file=None).with_overrides(
        database_url=url, jwt_secret=Secret("b" * 48)
    )
    app = create_app(settings, demo=True)
    services: Services = app.state.services
    services.clock = lambda: now
    demo = build_plan(now, SEED)
    drafts = fresh_drafts(demo, count)
    async with app.router.lifespan_context(app):
        plans = await IncentivePlan.filter(is_active=True).count()
        recorded = await record_all(services, drafts, demo.people)
        bare = await insert_bare(count)
    return recorded, bare, plans


async def main(kind: str, count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_database(kind, Path(folder)) as url:
            recorded, bare, plans = await measure(url, count)
    print(
        table(
            f"Ingest on {kind}: {count} activities, one at a time, "
            f"{plans} incentive plans active",
            ["what", "seconds", "activities/s", "x baseline"],
            [
                ["recordActivity path", recorded, count / recorded, recorded / bare],
                ["baseline: bare INSERT per transaction", bare, count / bare, 1.0],
            ],
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--count", type=int, default=2000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database, arguments.count))
