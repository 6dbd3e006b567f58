"""Filling an empty database with the demo company, in one transaction.

Rows go in with bulk inserts in foreign-key order; ids the database assigns
are read back with one query per table. The generated history (totals,
progress, ledger and events) is computed in memory from the stored ids.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from spur.api.auth import hash_password
from spur.demo.catalogue import METRICS, GoalPlan
from spur.demo.history import GoalRef, MemberRef, Recorder, RewardRef, replay
from spur.demo.people import (
    COMPANY_CURRENCY,
    COMPANY_NAME,
    COMPANY_TIMEZONE,
    TEAMS,
    feed_language,
)
from spur.demo.plan import DemoPlan, build_plan
from spur.demo.store import (
    BATCH,
    store_activities,
    store_events,
    store_ledger,
    store_progress,
    store_totals,
)
from spur.models import (
    Company,
    ExchangeRate,
    Goal,
    GoalReward,
    Member,
    MetricDefinition,
    RewardKind,
    Team,
)

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
    async with in_transaction():
        summary = await _store(plan, password_hash)
    logger.info(
        "demo filled: %s members, %s activities, %s ledger entries, %s events",
        summary.members,
        summary.activities,
        summary.ledger_entries,
        summary.events,
    )
    return summary


async def _store(plan: DemoPlan, password_hash: str) -> DemoSummary:
    company = await Company.create(
        name=COMPANY_NAME, timezone=COMPANY_TIMEZONE, currency=COMPANY_CURRENCY
    )
    members = await _store_people(company.id, plan, password_hash)
    metric_ids = await _store_metrics(company.id)
    await _store_rates(company.id, plan)
    goals = await _store_goals(company.id, plan.goals, members, metric_ids)
    activity_ids = await store_activities(company.id, plan.activities, members)

    recorder = Recorder(plan.tz, plan.now, [m.spec for m in METRICS], members, goals)
    history = await asyncio.to_thread(
        replay, recorder, zip(activity_ids, plan.activities, strict=True)
    )

    await store_totals(company.id, history, metric_ids)
    await store_progress(history)
    await store_events(company.id, history, await store_ledger(company.id, history))
    return DemoSummary(
        company.id,
        len(members),
        len(activity_ids),
        len(history.ledger),
        len(history.events),
        skipped=False,
    )


async def _store_people(
    company_id: int, plan: DemoPlan, password_hash: str
) -> dict[int, MemberRef]:
    """Teams, members and managers; returns members by their index in the plan."""
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
    return {
        owner: MemberRef(
            ids[p.email.lower()],
            teams[p.market].id if p.market else None,
            p.name,
            p.language,
            feed_language(p, plan.people),
        )
        for owner, p in enumerate(plan.people)
    }


async def _store_metrics(company_id: int) -> dict[str, int]:
    rows = [
        MetricDefinition(
            company_id=company_id,
            key=m.key,
            name=m.name,
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


async def _store_goals(
    company_id: int,
    plans: list[GoalPlan],
    members: dict[int, MemberRef],
    metric_ids: dict[str, int],
) -> list[GoalRef]:
    """Parents, then children, then rewards; returns the goals with their ids."""
    ids: dict[str, int] = {}
    for level in (
        [p for p in plans if p.parent is None],
        [p for p in plans if p.parent is not None],
    ):
        rows = [_goal_row(company_id, p, members, metric_ids, ids) for p in level]
        await Goal.bulk_create(rows, batch_size=BATCH)
        stored = await Goal.filter(company_id=company_id).values_list(
            "member_id", "title", "id"
        )
        by_owner_title = {(m, t): i for m, t, i in stored}
        for p in level:
            ids[p.ref] = by_owner_title[members[p.owner].id, p.title]
    rewards = await _store_rewards(plans, ids)
    return [_goal_ref(p, ids[p.ref], rewards.get(ids[p.ref], ())) for p in plans]


def _goal_row(
    company_id: int,
    plan: GoalPlan,
    members: dict[int, MemberRef],
    metric_ids: dict[str, int],
    ids: dict[str, int],
) -> Goal:
    return Goal(
        company_id=company_id,
        member_id=members[plan.owner].id,
        metric_id=metric_ids[plan.metric],
        parent_id=ids[plan.parent] if plan.parent else None,
        title=plan.title,
        period_kind=plan.kind,
        target=plan.target,
        active_from=plan.active_from,
        active_until=plan.active_until,
        window_start=plan.window[0] if plan.window else None,
        window_end=plan.window[1] if plan.window else None,
    )


async def _store_rewards(
    plans: list[GoalPlan], ids: dict[str, int]
) -> dict[int, tuple[RewardRef, ...]]:
    rows = [
        GoalReward(
            goal_id=ids[p.ref],
            kind=r.kind.value,
            title=r.title,
            amount=r.amount,
            quantity=r.quantity,
        )
        for p in plans
        for r in p.rewards
    ]
    await GoalReward.bulk_create(rows, batch_size=BATCH)
    stored = await GoalReward.filter(goal_id__in=list(ids.values())).order_by("id")
    rewards: dict[int, list[RewardRef]] = {}
    for row in stored:
        ref = RewardRef(
            row.id, RewardKind(row.kind), row.title, row.amount, row.quantity
        )
        rewards.setdefault(row.goal_id, []).append(ref)
    return {goal_id: tuple(refs) for goal_id, refs in rewards.items()}


def _goal_ref(plan: GoalPlan, goal_id: int, rewards: tuple[RewardRef, ...]) -> GoalRef:
    return GoalRef(
        goal_id,
        plan.owner,
        plan.metric,
        plan.title,
        plan.kind,
        plan.target,
        plan.active_from,
        plan.active_until,
        plan.window,
        rewards,
    )
