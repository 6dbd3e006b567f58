"""A member's statement for one month: cash lines by rule, totals by status.

An entry belongs to the month its `earned_at` falls in, in the company's time
zone. Cash is counted in the company currency, as `earnings` counts it; the
non-cash entitlements of the month are listed beside the lines.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from spur.api.context import Context
from spur.api.errors import Forbidden, NotFound
from spur.engine import messages
from spur.engine.periods import Period
from spur.engine.statements import (
    ZERO,
    LineKey,
    Statement,
    StatementItem,
    build_statement,
)
from spur.models import CASH_KINDS, EntryCause, LedgerEntry, Member
from spur.resolvers.ledger import (
    earned_within,
    month_period,
    rule_source,
    source_title,
)

_CAUSE_ORDER = list(EntryCause)
# What a line is called when no plan rule names it, and the word put before
# lines that are not plainly earned.
_WORDS = {
    "en": {
        "goal": "Goal reward",
        "other": "Other",
        EntryCause.VOID: "Void",
        EntryCause.RERATE: "Adjustment",
        EntryCause.APPRAISAL: "Appraisal",
    },
    "zh-CN": {
        "goal": "目标奖励",
        "other": "其他",
        EntryCause.VOID: "冲销",
        EntryCause.RERATE: "调整",
        EntryCause.APPRAISAL: "考评",
    },
}


@dataclass(frozen=True)
class MemberMonth:
    """A statement and what it is of."""

    member: Member
    period: Period
    currency: str
    statement: Statement
    entitlements: list[LedgerEntry]


async def member_statement(
    ctx: Context, member_id: int | None, month: str
) -> MemberMonth:
    """The statement of a member the viewer may see (the viewer by default)."""
    viewer = ctx.viewer
    period = month_period(month, viewer.timezone)
    member = await _readable_member(ctx, member_id or viewer.member_id)

    entries = await month_entries(viewer.company_id, period, member_id=member.id)
    cash = [e for e in entries if e.kind in CASH_KINDS]
    counted = [e for e in cash if e.currency == viewer.currency]
    named = await asyncio.gather(*(line_of(ctx, entry) for entry in counted))
    items = [
        StatementItem(key, label, entry.status, entry.amount or ZERO)
        for (key, label), entry in zip(named, counted, strict=True)
    ]
    return MemberMonth(
        member=member,
        period=period,
        currency=viewer.currency,
        statement=build_statement(items),
        entitlements=[e for e in entries if e.kind not in CASH_KINDS],
    )


async def _readable_member(ctx: Context, member_id: int) -> Member:
    viewer = ctx.viewer
    member = await ctx.loaders.member.load(member_id)
    if member is None or member.company_id != viewer.company_id:
        raise NotFound("No such member.")
    if not viewer.can_see_member(member.id, member.team_id):
        raise Forbidden("Only the member, their manager and HR read this statement.")
    return member


async def month_entries(
    company_id: int, period: Period, member_id: int | None = None
) -> list[LedgerEntry]:
    """Ledger entries earned in `period`, oldest first, of one member or all."""
    query = LedgerEntry.filter(company_id=company_id, **earned_within(period))
    if member_id is not None:
        query = query.filter(member_id=member_id)
    return await query.order_by("earned_at", "id")


async def line_of(ctx: Context, entry: LedgerEntry) -> tuple[LineKey, str]:
    """The statement line an entry is listed on, and that line's name.

    Plan entries group by plan and rule code (the same rule across its
    versions), goal rewards together; anything not plainly earned (voids,
    re-rating adjustments) goes on a line of its own cause.
    """
    words = _WORDS[messages.resolve_language(ctx.language)]
    source = await rule_source(ctx, entry)
    if source is not None:
        code = source.rule.code if source.rule else ""
        label, ident = source_title(source, ctx.language), f"p{source.plan.id}:{code}"
    elif entry.goal_id is not None:
        label, ident = words["goal"], "goal"
    else:
        label, ident = words["other"], "other"
    if entry.cause is not EntryCause.EARNED:
        label = f"{words[entry.cause]} · {label}"
    return LineKey(_CAUSE_ORDER.index(entry.cause), ident), label
