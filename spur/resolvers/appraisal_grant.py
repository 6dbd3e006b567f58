"""What a finalisation grants beyond the cycle's bonus, and what a corrected
appraisal takes back.

A streak: when a member's yearly appraisals reach a plan's grade for its
number of consecutive years, the plan's APPRAISAL_STREAK rule grants its
entitlement (equity, say) once per plan, rule, member and last year. A
correction: the new version pays by its own grade under its own keys, and
every line an earlier version of the same appraisal wrote is compensated
(unpaid lines reversed, paid ones clawed back) unless the new version earns
the very same grant again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.api.errors import Conflict
from spur.engine.appraisal import (
    AppraisalStatus,
    Grade,
    completes_streak,
    run_length,
)
from spur.engine.incentives import AppraisalStreakParams
from spur.engine.periods import PeriodKind
from spur.models import (
    Appraisal,
    EntryCause,
    LedgerEntry,
    RewardKind,
    RewardStatus,
)
from spur.resolvers.ledger import reverse_entry
from spur.resolvers.payout import entry_status
from spur.resolvers.rulebook import RuleInForce, person_of

if TYPE_CHECKING:
    from spur.resolvers.appraisal_pay import Pay

SETTLED = (RewardStatus.REJECTED, RewardStatus.REVERSED)


@dataclass(frozen=True)
class Line:
    """A ledger entry an appraisal writes; `announce` a positive one."""

    key: str
    kind: RewardKind
    title: str
    status: RewardStatus
    amount: Decimal | None = None
    quantity: Decimal | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    reverses_id: int | None = None
    plan_version_id: int | None = None
    rule_id: int | None = None
    announce: bool = True


async def grant_streaks(pay: Pay) -> set[str]:
    """Write the grants of every streak this yearly appraisal completes.

    Returns the keys of all the grants it earns, new or written before (by
    an earlier version), so a correction keeps those it still earns. A
    later year may have been finalised first, so every year of the run
    from this one on is checked for a streak it completes.
    """
    cycle = pay.setting.cycle
    if cycle.period_kind is not PeriodKind.YEAR:
        return set()
    rules = await _streak_rules(pay)
    if not rules:
        return set()
    member_id = pay.appraisal.member_id
    grades = await _yearly_grades(pay.conn, member_id)
    year = cycle.period_start.year
    earned: set[str] = set()
    for rule in rules:
        params = rule.params
        assert isinstance(params, AppraisalStreakParams)
        wanted = Grade(params.grade)
        last = year
        while run_length(grades, last, wanted) > last - year:
            if completes_streak(grades, last, params.years, wanted):
                earned.add(await _grant(pay, rule, params, last))
            last += 1
    return earned


async def _streak_rules(pay: Pay) -> list[RuleInForce]:
    """The APPRAISAL_STREAK rules of the plans covering the member today."""
    member = (await pay.people()).member
    today = pay.now.astimezone(pay.setting.tz).date()
    book = await pay.setting.rulebook(pay.conn)
    return [
        rule
        for rule in book.rules_for(person_of(member), today)
        if isinstance(rule.params, AppraisalStreakParams)
    ]


async def _grant(
    pay: Pay, rule: RuleInForce, params: AppraisalStreakParams, last: int
) -> str:
    grant = params.entitlement
    kind = RewardKind(grant.kind.value)
    key = f"streak:p{rule.plan.id}:{rule.rule.code}:m{pay.appraisal.member_id}:{last}"
    await pay.write(
        Line(
            key=key,
            kind=kind,
            title=grant.title or rule.rule.title,
            titles=dict(grant.titles) if grant.title else dict(rule.rule.titles),
            status=entry_status(None, kind, None),
            quantity=grant.quantity,
            inputs={
                "grade": params.grade,
                "years": str(params.years),
                "through": str(last),
                "appraisal_version": str(pay.appraisal.version),
            },
            plan_version_id=rule.version.id,
            rule_id=rule.rule.id,
        )
    )
    return key


async def _yearly_grades(conn: BaseDBAsyncClient, member_id: int) -> dict[int, Grade]:
    """The grade of each year's current, finalised yearly appraisal."""
    rows = (
        await Appraisal.filter(
            member_id=member_id,
            is_current=True,
            status=AppraisalStatus.FINALIZED,
            cycle__period_kind=PeriodKind.YEAR,
        )
        .select_related("cycle")
        .using_db(conn)
    )
    return {r.cycle.period_start.year: r.grade for r in rows if r.grade is not None}


async def take_back_superseded(pay: Pay, kept: set[str]) -> None:
    """Compensate every line earlier versions of this appraisal wrote and no
    one took back yet, but the grants in `kept` (earned again)."""
    appraisal = pay.appraisal
    if appraisal.supersedes_id is None:
        return
    lines = (
        await LedgerEntry.filter(
            member_id=appraisal.member_id,
            cause=EntryCause.APPRAISAL,
            reverses_id__isnull=True,
            appraisal__cycle_id=appraisal.cycle_id,
            appraisal__version__lt=appraisal.version,
        )
        .exclude(status__in=SETTLED)
        .order_by("id")
        .using_db(pay.conn)
    )
    answered = set(
        await LedgerEntry.filter(reverses_id__in=[e.id for e in lines])
        .using_db(pay.conn)
        .values_list("reverses_id", flat=True)
    )
    for entry in lines:
        if entry.key not in kept and entry.id not in answered:
            await _compensate(pay, entry)


async def _compensate(pay: Pay, entry: LedgerEntry) -> None:
    """An unpaid line moves to REVERSED with its compensation; a paid one
    gets an APPROVED clawback for payroll to deduct."""
    paid = entry.status is RewardStatus.PAID
    if not paid:
        await _reverse(pay.conn, entry, pay.actor_id, pay.now)
    await pay.write(
        Line(
            key=f"{entry.key}:corrected",
            kind=entry.kind,
            title=entry.title,
            titles=dict(entry.titles),
            status=RewardStatus.APPROVED if paid else RewardStatus.REVERSED,
            amount=None if entry.amount is None else -entry.amount,
            quantity=None if entry.quantity is None else -entry.quantity,
            inputs={"corrected_by_version": str(pay.appraisal.version)},
            reverses_id=entry.id,
            announce=False,
        )
    )


async def _reverse(
    conn: BaseDBAsyncClient, entry: LedgerEntry, actor_id: int, now: datetime
) -> None:
    if not await reverse_entry(conn, entry, actor_id, "Appraisal corrected", now):
        raise Conflict("A superseded entry changed status meanwhile.", field="status")
