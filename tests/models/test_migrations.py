"""Migrations create an empty database and upgrade one that holds rows."""

from __future__ import annotations

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate

from spur.models import Activity, EntryCause, Goal, LedgerEntry
from spur.models.config import tortoise_config
from spur.models.database import migrate_database

ROWS = (
    "INSERT INTO company (name, timezone, currency, created_at) "
    "VALUES ('Acme', 'Asia/Shanghai', 'CNY', '2026-01-01 00:00:00+00:00');"
    "INSERT INTO metric_definition (company_id, key, name, unit, activity_kind, "
    "aggregation) VALUES (1, 'orders', 'Orders', '', 'ORDER_CLOSED', 'COUNT');"
    "INSERT INTO goal (company_id, metric_id, title, period_kind, target, "
    "active_from, created_at) VALUES (1, 1, 'Ten orders', 'WEEK', 100000, "
    "'2026-01-05', '2026-01-01 00:00:00+00:00');"
    "INSERT INTO member (company_id, email, name, role, password_hash, language, "
    "is_active, created_at) VALUES (1, 'a@example.com', 'A', 'SALESPERSON', 'x', "
    "'en', TRUE, '2026-01-01 00:00:00+00:00');"
    "INSERT INTO activity (company_id, member_id, kind, occurred_at, recorded_at, "
    "source, external_id, quantity) VALUES (1, 1, 'ORDER_CLOSED', "
    "'2026-01-05 01:00:00+00:00', '2026-01-05 01:00:00+00:00', 'api', 'o-1', "
    "10000);"
    "INSERT INTO ledger_entry (company_id, member_id, key, kind, title, amount, "
    "currency, status, source_activity_id, rule_ref, inputs, earned_at, "
    "created_at) VALUES (1, 1, 'k', 'CASH', 'Bonus', 5000000, 'CNY', "
    "'APPROVED', 1, 'goal:1', '{}', '2026-01-05 01:00:00+00:00', "
    "'2026-01-05 01:00:00+00:00');"
)


async def test_an_initial_database_with_rows_upgrades_to_the_latest(
    database_url: str,
) -> None:
    config = tortoise_config(database_url)
    async with TortoiseContext():
        await migrate(config=config, target="models.0001_initial")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await ctx.db().execute_script(ROWS)

    await migrate_database(database_url)
    await migrate_database(database_url)  # a second run has nothing to do

    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        entry = await LedgerEntry.get(id=1)
        assert (entry.cause, entry.plan_version_id) == (EntryCause.EARNED, None)
        assert (await Activity.get(id=1)).voided_at is None
        goal = await Goal.get(id=1)
        assert (goal.title, goal.titles) == ("Ten orders", {})
        added = await Goal.create(
            company_id=1,
            metric_id=1,
            title="Five",
            period_kind="WEEK",
            target=5,
            active_from="2026-01-05",
            titles={"zh-CN": "五单"},
        )
        assert (await Goal.get(id=added.id)).titles == {"zh-CN": "五单"}
