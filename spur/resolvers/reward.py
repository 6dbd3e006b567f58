"""The viewer's rewards and earnings, read from the ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from spur.api.context import Context
from spur.engine.periods import PeriodKind, as_utc, period_containing
from spur.models import CASH_KINDS, LedgerEntry, RewardStatus

NOT_EARNED = (RewardStatus.REJECTED, RewardStatus.REVERSED)


async def member_rewards(member_id: int, offset: int, limit: int) -> list[LedgerEntry]:
    """A member's ledger lines, newest first (one extra row tells of a next page)."""
    return (
        await LedgerEntry.filter(member_id=member_id)
        .order_by("-earned_at", "-id")
        .offset(offset)
        .limit(limit + 1)
    )


async def member_earnings(
    ctx: Context, member_id: int, kind: PeriodKind, now: datetime
) -> Decimal:
    """Cash earned in the current period of `kind`, in every live status."""
    period = period_containing(kind, now, ctx.viewer.timezone)
    amounts = (
        await LedgerEntry.filter(
            member_id=member_id,
            kind__in=list(CASH_KINDS),
            # In UTC: SQLite compares the stored UTC text with the bound as
            # given, so a bound in company time would shift the month.
            earned_at__gte=as_utc(period.start),
            earned_at__lt=as_utc(period.end),
            currency=ctx.viewer.currency,
        )
        .exclude(status__in=NOT_EARNED)
        .values_list("amount", flat=True)
    )
    return sum((Decimal(a) for a in amounts if a is not None), Decimal(0))
