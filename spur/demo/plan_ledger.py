"""What the incentive plans paid for the demo's history, as live recording would.

The stored activities are replayed through the live rating code
(`spur.resolvers.replay`) and each entry it expects is written as the
activity's transaction would have written it: same key, amount, status, rule
version and inputs, with a REWARD_EARNED event for each gain. The rule
counters the replay ends with are stored too, so step marks, upkeep days and
the budget carry on from history when someone records live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.demo.history import EventLine, MemberRef
from spur.demo.store import BATCH
from spur.engine import messages
from spur.engine.money import format_money
from spur.models import (
    CASH_KINDS,
    Company,
    EntryCause,
    EventKind,
    LedgerEntry,
    RuleCounter,
)
from spur.resolvers.payout import entry_status
from spur.resolvers.replay import Expected, load_history, replay
from spur.resolvers.rulebook import load_rulebook


@dataclass(frozen=True)
class PlanHistory:
    """The plan entries written (ids by key) and their events, unsequenced."""

    entry_ids: dict[str, int]
    events: list[EventLine]


async def store_plan_history(
    conn: BaseDBAsyncClient,
    company: Company,
    members: Iterable[MemberRef],
    first: date,
    now: datetime,
) -> PlanHistory:
    """Write what the plans paid for the activities from local date `first`
    to `now`; the activities, goals and goal progress must be stored."""
    book = await load_rulebook(conn, company.id)
    today = now.astimezone(ZoneInfo(company.timezone)).date()
    history = await load_history(
        conn, company, [book], first, today + timedelta(days=1)
    )
    found = await replay(history, book, now)
    await _store_entries(company, found.expected)
    await _store_counters(company.id, found.counters, now)
    stored = await LedgerEntry.filter(
        company_id=company.id, plan_version_id__isnull=False
    ).values_list("key", "id")
    by_id = {member.id: member for member in members}
    events = [
        _event(entry, by_id[entry.member_id], company.currency)
        for entry in found.expected
        if _announced(entry)
    ]
    return PlanHistory(dict(stored), events)


async def _store_entries(company: Company, expected: list[Expected]) -> None:
    rows = [_entry(company, entry) for entry in expected]
    await LedgerEntry.bulk_create(rows, batch_size=BATCH)


def _entry(company: Company, entry: Expected) -> LedgerEntry:
    """The entry as `spur.resolvers.payout` writes it, created when earned."""
    plan, version, rule = entry.rule.plan, entry.rule.version, entry.rule.rule
    cash = entry.kind in CASH_KINDS
    return LedgerEntry(
        company_id=company.id,
        member_id=entry.member_id,
        key=entry.key,
        kind=entry.kind,
        title=entry.title,
        titles=entry.titles,
        amount=entry.amount,
        currency=company.currency if cash else None,
        quantity=entry.quantity,
        status=entry_status(plan.approval_threshold, entry.kind, entry.amount),
        source_activity_id=entry.activity_id,
        goal_id=entry.goal_id,
        period_start=entry.period_start,
        rule_ref=f"plan:{plan.id}:v{version.number}:{rule.code}",
        plan_version_id=version.id,
        rule_id=rule.id,
        cause=EntryCause.EARNED,
        inputs=entry.inputs,
        earned_at=entry.earned_at,
        created_at=entry.earned_at,
    )


async def _store_counters(
    company_id: int, counters: Mapping[str, Decimal], now: datetime
) -> None:
    rows = [
        RuleCounter(company_id=company_id, key=key, value=value, updated_at=now)
        for key, value in sorted(counters.items())
    ]
    await RuleCounter.bulk_create(rows, batch_size=BATCH)


def _announced(entry: Expected) -> bool:
    """Gains are news; fully capped lines only go in the ledger (as live)."""
    if entry.kind in CASH_KINDS:
        return entry.amount is not None and entry.amount > 0
    return entry.quantity is None or entry.quantity > 0


def _event(entry: Expected, payee: MemberRef, currency: str) -> EventLine:
    """The REWARD_EARNED event: the payee's language, the team feed's own."""
    shown = None if entry.amount is None else format_money(entry.amount, currency)
    own, feed = payee.language, payee.feed_language
    return EventLine(
        EventKind.REWARD_EARNED,
        payee.id,
        entry.team_id,
        entry.goal_id,
        entry.period_start,
        f"reward:{entry.key}",
        messages.reward_earned(
            own,
            reward_title=messages.localized(entry.title, entry.titles, own),
            amount=shown,
            goal_title=None,
            period_kind=None,
        ),
        messages.reward_earned_by(
            feed,
            member_name=payee.name,
            reward_title=messages.localized(entry.title, entry.titles, feed),
            amount=shown,
        ),
        entry.earned_at,
        entry.key,
        entry.activity_id,
    )
