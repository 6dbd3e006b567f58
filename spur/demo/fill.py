"""Filling an empty database with the demo company, in one transaction.

Rows go in with bulk inserts in foreign-key order; ids the database assigns
are read back with one query per table. The generated history (totals,
progress, ledger and events) is computed in memory from the stored ids.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.auth import hash_password
from spur.demo.appraisals import cast_of, store_appraisals
from spur.demo.calendar import Window, local_date
from spur.demo.catalogue import METRICS
from spur.demo.goal_store import Owners, store_goals
from spur.demo.history import EventLine, MemberRef, Recorder, replay
from spur.demo.incentive_store import store_plans
from spur.demo.people import (
    COMPANY_CURRENCY,
    COMPANY_NAME,
    COMPANY_TIMEZONE,
    HR_EMAIL,
    TEAMS,
    feed_language,
)
from spur.demo.plan import DemoPlan, build_plan
from spur.demo.plan_ledger import store_plan_history
from spur.demo.scores import DAY_BOARD_DAYS, store_scores
from spur.demo.store import (
    BATCH,
    store_activities,
    store_events,
    store_ledger,
    store_progress,
    store_totals,
)
from spur.demo.surveys import store_surveys
from spur.models import Company, ExchangeRate, Member, MetricDefinition, Team

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of demo accounts


@dataclass(frozen=True)
class DemoSummary:
    """What `fill_demo` created, or `skipped` when a company already existed."""

    company_id: int
    members: int
    activities: int
    ledger_entries: int
    events: int
    skipped: bool


async def fill_demo(now: datetime, *, seed: int = 2026) -> DemoSummary:
    """Fill an empty database with the demo company and 90 days up to `now`.

    Does nothing when any company exists, so it is safe to call on every
    start. Everything is written in one transaction: a failure leaves the
    database empty rather than half a demo that would then be skipped.
    Raises ValueError if `now` is naive.
    """
    existing = await Company.all().order_by("id").first()
    if existing is not None:
        logger.info("demo not filled: company %s already exists", existing.id)
        return DemoSummary(existing.id, 0, 0, 0, 0, skipped=True)

    # Generation and hashing are CPU work; keep the event loop free meanwhile.
    plan = await asyncio.to_thread(build_plan, now, seed)
    # One hash for everyone: hashing is deliberately slow.
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    async with in_transaction() as conn:
        summary = await _store(conn, plan, password_hash, seed)
    logger.info(
        "demo filled: %s members, %s activities, %s ledger entries, %s events",
        summary.members,
        summary.activities,
        summary.ledger_entries,
        summary.events,
    )
    return summary


async def _store(
    conn: BaseDBAsyncClient, plan: DemoPlan, password_hash: str, seed: int
) -> DemoSummary:
    company = await Company.create(
        name=COMPANY_NAME, timezone=COMPANY_TIMEZONE, currency=COMPANY_CURRENCY
    )
    members, team_ids = await _store_people(company.id, plan, password_hash)
    await store_surveys(company.id, plan.people, plan.now, plan.tz)
    metric_ids = await _store_metrics(company.id)
    await _store_rates(company.id, plan)
    author = next(i for i, p in enumerate(plan.people) if p.email == HR_EMAIL)
    await store_plans(
        company.id, plan.incentives, metric_ids, members[author].id, plan.now
    )
    owners = Owners(members, team_ids)
    goals = await store_goals(company.id, plan.goals, owners, metric_ids)
    activity_ids = await store_activities(company.id, plan.activities, members)

    recorder = Recorder(plan.tz, plan.now, [m.spec for m in METRICS], members, goals)
    history = await asyncio.to_thread(
        replay, recorder, zip(activity_ids, plan.activities, strict=True)
    )

    await store_totals(company.id, history, metric_ids)
    days_since = local_date(plan.now, plan.tz) - timedelta(days=DAY_BOARD_DAYS - 1)
    await store_scores(
        conn, company.id, history.totals, history.reached, metric_ids, days_since
    )
    await store_progress(history)
    goal_entries = await store_ledger(company.id, history)
    first = local_date(Window(plan.now, plan.tz).start, plan.tz)
    paid = await store_plan_history(conn, company, members.values(), first, plan.now)
    history.events = in_order(history.events, paid.events)
    await store_events(company.id, history, goal_entries | paid.entry_ids)
    cast = cast_of(company.id, plan.tz, company.currency, plan.people, members)
    appraised = await store_appraisals(cast, plan.now, seed)
    return DemoSummary(
        company.id,
        len(members),
        len(activity_ids),
        len(goal_entries) + len(paid.entry_ids) + appraised.entries,
        len(history.events) + appraised.events,
        skipped=False,
    )


def in_order(goals: list[EventLine], plans: list[EventLine]) -> list[EventLine]:
    """Both kinds of events as the live path sequences them: by activity, and
    within one activity the goals' events before the plans'."""
    keyed = [(e.occurred_at, e.activity_id or 0, 0, n, e) for n, e in enumerate(goals)]
    keyed += [(e.occurred_at, e.activity_id or 0, 1, n, e) for n, e in enumerate(plans)]
    return [item[-1] for item in sorted(keyed, key=lambda item: item[:4])]


async def _store_people(
    company_id: int, plan: DemoPlan, password_hash: str
) -> tuple[dict[int, MemberRef], dict[str, int]]:
    """Teams, members and managers.

    Returns the members by their index in the plan and team ids by market.
    """
    teams = {
        spec.market: await Team.create(
            company_id=company_id, name=spec.name, market=spec.market
        )
        for spec in TEAMS
    }
    rows = [
        Member(
            company_id=company_id,
            team_id=teams[p.market].id if p.market else None,
            email=p.email.lower(),
            name=p.name,
            role=p.role,
            password_hash=password_hash,
            birth_date=p.birth_date,
            hire_date=p.hire_date,
            language=p.language,
            incentive_preference=p.preference,
        )
        for p in plan.people
    ]
    await Member.bulk_create(rows, batch_size=BATCH)
    ids = dict(await Member.filter(company_id=company_id).values_list("email", "id"))
    for spec in TEAMS:
        manager_id = ids[spec.manager_email]
        await Team.filter(id=teams[spec.market].id).update(manager_id=manager_id)
    members = {
        owner: MemberRef(
            ids[p.email.lower()],
            teams[p.market].id if p.market else None,
            p.name,
            p.language,
            feed_language(p, plan.people),
        )
        for owner, p in enumerate(plan.people)
    }
    return members, {market: team.id for market, team in teams.items()}


async def _store_metrics(company_id: int) -> dict[str, int]:
    rows = [
        MetricDefinition(
            company_id=company_id,
            key=m.key,
            name=m.name,
            titles=m.titles,
            unit=m.unit,
            activity_kind=m.spec.activity_kind,
            aggregation=m.spec.aggregation,
            market=m.spec.market,
            product_category=m.spec.product_category,
            new_customer=m.spec.new_customer,
            reply_within_minutes=m.spec.reply_within_minutes,
        )
        for m in METRICS
    ]
    await MetricDefinition.bulk_create(rows, batch_size=BATCH)
    pairs = await MetricDefinition.filter(company_id=company_id).values_list(
        "key", "id"
    )
    return dict(pairs)


async def _store_rates(company_id: int, plan: DemoPlan) -> None:
    rows = [
        ExchangeRate(company_id=company_id, currency=currency, on_date=day, rate=rate)
        for (currency, day), rate in sorted(plan.rates.items())
    ]
    await ExchangeRate.bulk_create(rows, batch_size=BATCH)
