"""Re-rating a past range under the plans as they now stand.

A rule change made retroactively (a version from a past date) leaves the
ledger as it was paid; re-rating replays the range under the versions now in
force (`spur.resolvers.replay`) and writes only the differences
(`spur.resolvers.adjustment`), as RERATE adjustment entries. The ledger is
never edited, and a second run finds nothing left to adjust.

"As they now stand" is meant whole: plans' audiences, members' teams and
leads are today's, as the rows hold no history of them, so a range re-rated
after an assignment or a team move is paid as if it had always been so.
Plans made inactive are left as they were paid. A goal set mid-period past
its target earned nothing live (see `goal_backfill`); a replay counts its
whole period, so re-rating pays a completion rule on it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict, NotFound
from spur.engine import money
from spur.engine.periods import as_utc
from spur.models import (
    CASH_KINDS,
    Company,
    EntryCause,
    IncentivePlan,
    LedgerEntry,
    Member,
    PlanVersion,
    RewardKind,
)
from spur.resolvers.adjustment import Line, to_adjust, version_of
from spur.resolvers.payout import entry_status
from spur.resolvers.replay import History, load_history, replay
from spur.resolvers.rulebook import RuleBook, load_rulebook

logger = logging.getLogger(__name__)

MAX_DAYS = 366
_COUNTED = (EntryCause.EARNED, EntryCause.VOID, EntryCause.RERATE)


@dataclass(frozen=True)
class RerateRequest:
    """Local dates [first, end), optionally one plan and one member."""

    first: date
    end: date
    plan_id: int | None = None
    member_id: int | None = None


@dataclass(frozen=True)
class Rerated:
    """How many adjustments were written, and the cash they move per member."""

    written: int
    differences: dict[int, Decimal]
    members: dict[int, Member]
    currency: str


def check_range(first: date, end: date, today: date) -> None:
    """A range of 1 to 366 days that ends no later than today."""
    if first >= end:
        raise BadUserInput("from must be before to.", field="to")
    if (end - first).days > MAX_DAYS:
        raise BadUserInput(f"The range may span at most {MAX_DAYS} days.", field="to")
    if end > today + timedelta(days=1):
        raise BadUserInput(
            f"The range may not reach past today ({today.isoformat()}).", field="to"
        )


async def rerate(viewer: Viewer, request: RerateRequest, now: datetime) -> Rerated:
    """Write what the plans now pay for the range minus what the ledger holds.

    Reads one snapshot and writes in the same transaction; two runs over the
    same lines at once make one of them a CONFLICT.
    """
    check_range(request.first, request.end, now.astimezone(viewer.timezone).date())
    company = await Company.get(id=viewer.company_id)
    await _check_subjects(viewer, request)

    try:
        async with in_transaction() as conn:
            await _one_snapshot(conn)
            wanted = None if request.plan_id is None else [request.plan_id]
            book = await load_rulebook(conn, company.id, plan_ids=wanted)
            history = await load_history(
                conn, company, [book], request.first, request.end
            )
            replayed = await replay(history, book, now)
            ledger = await _ledger(conn, history, request.member_id)
            window = (history.first, history.end)
            plans = {v: plan.id for v, (plan, _) in _versions(book).items()}
            lines = to_adjust(replayed, ledger, window, plans, request.member_id)
            rows = [_adjustment(line, history, _versions(book), now) for line in lines]
            await LedgerEntry.bulk_create(rows, using_db=conn)
    except IntegrityError as error:
        raise Conflict("These lines were re-rated meanwhile; try again.") from error

    logger.info(
        "re-rated %s..%s for company %s: %s adjustments",
        request.first,
        request.end,
        company.id,
        len(rows),
    )
    return _summary(rows, history)


async def _check_subjects(viewer: Viewer, request: RerateRequest) -> None:
    if request.plan_id is not None and not await IncentivePlan.exists(
        id=request.plan_id, company_id=viewer.company_id
    ):
        raise NotFound("No such incentive plan.", field="planId")
    if request.member_id is not None and not await Member.exists(
        id=request.member_id, company_id=viewer.company_id
    ):
        raise NotFound("No such member.", field="memberId")


async def _one_snapshot(conn: BaseDBAsyncClient) -> None:
    """Every read of the transaction sees one moment of the database.

    Otherwise an activity committed between reading the activities and
    reading the ledger would look unpaid (or unearned) and be adjusted.
    SQLite transactions already see one snapshot.
    """
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


async def _ledger(
    conn: BaseDBAsyncClient, history: History, member_id: int | None
) -> list[LedgerEntry]:
    """Plan entries earned from the replay's start: every line a key of the
    range can have, wherever in its period it was first paid."""
    query = LedgerEntry.filter(
        company_id=history.company.id, key__startswith="rv", cause__in=_COUNTED
    )
    if history.start is not None:
        query = query.filter(earned_at__gte=as_utc(history.start))
    if member_id is not None:
        query = query.filter(member_id=member_id)
    return await query.order_by("id").using_db(conn)


def _versions(book: RuleBook) -> dict[int, tuple[IncentivePlan, PlanVersion]]:
    return {
        version.id: (plan, version)
        for plan in book.plans
        for version in book.versions[plan.id]
    }


@dataclass(frozen=True)
class _Source:
    """What an adjustment copies: the expected entry's rule, else the
    original's; the original's activity and time when there is one."""

    plan: IncentivePlan
    member_id: int
    kind: RewardKind
    title: str
    titles: dict[str, str]
    quantity: Decimal | None
    goal_id: int | None
    period_start: date | None
    rule_ref: str
    plan_version_id: int | None
    rule_id: int | None
    source_activity_id: int | None
    earned_at: datetime


def _source(
    line: Line, versions: dict[int, tuple[IncentivePlan, PlanVersion]]
) -> _Source:
    exp, original = line.expected, line.original
    if exp is not None:
        rule = exp.rule
        return _Source(
            plan=rule.plan,
            member_id=exp.member_id,
            kind=exp.kind,
            title=exp.title,
            titles=exp.titles,
            quantity=exp.quantity,
            goal_id=exp.goal_id,
            period_start=exp.period_start,
            rule_ref=f"plan:{rule.plan.id}:v{rule.version.number}:{rule.rule.code}",
            plan_version_id=rule.version.id,
            rule_id=rule.rule.id,
            source_activity_id=original.source_activity_id
            if original
            else exp.activity_id,
            earned_at=original.earned_at if original else exp.earned_at,
        )
    assert original is not None, "a line is expected or held"
    version = version_of(original.key)
    assert version is not None
    return _Source(
        plan=versions[version][0],
        member_id=original.member_id,
        kind=original.kind,
        title=original.title,
        titles=original.titles,
        quantity=original.quantity,
        goal_id=original.goal_id,
        period_start=original.period_start,
        rule_ref=original.rule_ref,
        plan_version_id=original.plan_version_id,
        rule_id=original.rule_id,
        source_activity_id=original.source_activity_id,
        earned_at=original.earned_at,
    )


def _adjustment(
    line: Line,
    history: History,
    versions: dict[int, tuple[IncentivePlan, PlanVersion]],
    now: datetime,
) -> LedgerEntry:
    """The entry that brings the line's total to what the replay expects."""
    source = _source(line, versions)
    difference = line.difference
    cash = source.kind in CASH_KINDS
    counted = not cash and source.quantity is None
    amount = difference if cash else None
    currency = history.company.currency if cash else None
    return LedgerEntry(
        company_id=history.company.id,
        member_id=source.member_id,
        key=f"{line.base}:adj:{line.number}",
        kind=source.kind,
        title=source.title,
        titles=source.titles,
        amount=amount,
        currency=currency,
        quantity=None if cash or counted else difference,
        status=entry_status(source.plan.approval_threshold, source.kind, amount),
        source_activity_id=source.source_activity_id,
        goal_id=source.goal_id,
        period_start=source.period_start,
        rule_ref=source.rule_ref,
        plan_version_id=source.plan_version_id,
        rule_id=source.rule_id,
        cause=EntryCause.RERATE,
        inputs={
            "expected": _shown(line.wanted, currency),
            "previous": _shown(line.previous, currency),
            "rerated_at": now.isoformat(),
        },
        reverses_id=line.taken_back if counted and difference < 0 else None,
        earned_at=source.earned_at,
        created_at=now,
    )


def _shown(value: Decimal, currency: str | None) -> str:
    """Cash to its minor unit; a quantity as it is."""
    return f"{value if currency is None else money.quantize(value, currency):f}"


def _summary(rows: list[LedgerEntry], history: History) -> Rerated:
    differences: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.kind in CASH_KINDS and row.amount is not None:
            differences[row.member_id] += row.amount
    return Rerated(
        written=len(rows),
        differences=dict(differences),
        members={m: history.members[m] for m in differences},
        currency=history.company.currency,
    )
