"""Bulk inserts of the generated activities and the history they leave."""

from __future__ import annotations

from spur.demo.drafts import Draft
from spur.demo.history import History, MemberRef
from spur.models import (
    AchievementEvent,
    Activity,
    GoalProgress,
    LedgerEntry,
    MetricTotal,
)

SOURCE = "demo"
BATCH = 5000


def external_id(number: int) -> str:
    """The demo's external id of its `number`-th activity (oldest is 1)."""
    return f"demo-{number}"


def _activity_row(
    company_id: int, number: int, draft: Draft, members: dict[int, MemberRef]
) -> Activity:
    return Activity(
        company_id=company_id,
        member_id=members[draft.owner].id,
        kind=draft.kind,
        occurred_at=draft.at,
        # As if each activity had been recorded the moment it happened.
        recorded_at=draft.at,
        source=SOURCE,
        external_id=external_id(number),
        quantity=draft.quantity,
        amount=draft.amount,
        currency=draft.currency,
        amount_company=draft.amount_company,
        exchange_rate=draft.exchange_rate,
        market=draft.market,
        product_category=draft.product_category,
        customer_ref=draft.customer_ref,
        new_customer=draft.new_customer,
        response_minutes=draft.response_minutes,
        rating=draft.rating,
    )


async def store_activities(
    company_id: int, drafts: list[Draft], members: dict[int, MemberRef]
) -> list[int]:
    """Insert the drafts; returns their ids in the same order."""
    rows = [
        _activity_row(company_id, number, draft, members)
        for number, draft in enumerate(drafts, start=1)
    ]
    await Activity.bulk_create(rows, batch_size=BATCH)
    stored = await Activity.filter(company_id=company_id, source=SOURCE).values_list(
        "external_id", "id"
    )
    ids = dict(stored)
    return [ids[external_id(number)] for number in range(1, len(drafts) + 1)]


async def store_totals(
    company_id: int, history: History, metric_ids: dict[str, int]
) -> None:
    rows = [
        MetricTotal(
            company_id=company_id,
            metric_id=metric_ids[key],
            scope=scope,
            member_id=subject_id if scope == "member" else None,
            team_id=subject_id if scope == "team" else None,
            subject_id=subject_id,
            period_kind=kind,
            period_start=start,
            value=value,
        )
        for (key, scope, subject_id, kind, start), value in history.totals.items()
    ]
    await MetricTotal.bulk_create(rows, batch_size=BATCH)


async def store_progress(history: History) -> None:
    rows = [
        GoalProgress(
            goal_id=goal_id,
            period_start=start,
            current=progress.current,
            target=progress.target,
            completed_at=progress.completed_at,
        )
        for (goal_id, start), progress in history.progress.items()
    ]
    await GoalProgress.bulk_create(rows, batch_size=BATCH)


async def store_ledger(company_id: int, history: History) -> dict[str, int]:
    """Insert the ledger lines; returns entry ids by key."""
    rows = [
        LedgerEntry(
            company_id=company_id,
            member_id=line.member_id,
            key=line.key,
            kind=line.kind,
            title=line.title,
            titles=dict(line.titles),
            amount=line.amount,
            currency=line.currency,
            quantity=line.quantity,
            status=line.status,
            source_activity_id=line.activity_id,
            goal_id=line.goal_id,
            period_start=line.period_start,
            rule_ref=f"goal:{line.goal_id}",
            inputs=line.inputs,
            earned_at=line.earned_at,
            created_at=line.earned_at,
        )
        for line in history.ledger
    ]
    await LedgerEntry.bulk_create(rows, batch_size=BATCH)
    stored = await LedgerEntry.filter(company_id=company_id).values_list("key", "id")
    return dict(stored)


async def store_events(
    company_id: int, history: History, ledger_ids: dict[str, int]
) -> None:
    """Insert the events already sequenced and published: they are history."""
    rows = [
        AchievementEvent(
            company_id=company_id,
            seq=seq,
            kind=event.kind,
            member_id=event.member_id,
            team_id=event.team_id,
            goal_id=event.goal_id,
            period_start=event.period_start,
            ledger_entry_id=ledger_ids[event.ledger_key] if event.ledger_key else None,
            dedupe_key=event.dedupe_key,
            message=event.message,
            team_message=event.team_message,
            occurred_at=event.occurred_at,
            published_at=event.occurred_at,
        )
        for seq, event in enumerate(history.events, start=1)
    ]
    await AchievementEvent.bulk_create(rows, batch_size=BATCH)
