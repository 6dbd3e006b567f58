"""Decomposing goals across people and sub-periods, and rolling them back up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from spur.engine.periods import (
    ALL_KINDS,
    Period,
    PeriodKind,
    as_utc,
    periods_overlapping,
)


def _checked_weights(parts: int, weights: Sequence[Decimal] | None) -> list[Decimal]:
    if parts < 1:
        raise ValueError(f"cannot split into {parts} parts")
    if weights is None:
        return [Decimal(1)] * parts
    if len(weights) != parts:
        raise ValueError(f"expected {parts} weights, got {len(weights)}")
    if any(not weight.is_finite() or weight < 0 for weight in weights):
        raise ValueError("weights must be finite and non-negative")
    if sum(weights, Decimal(0)) <= 0:
        raise ValueError("weights must not all be zero")
    return list(weights)


def split_target(
    target: Decimal,
    parts: int,
    weights: Sequence[Decimal] | None = None,
    places: int = 0,
) -> list[Decimal]:
    """Split ``target`` into ``parts`` shares that sum exactly to ``target``.

    Shares are even by default or proportional to ``weights`` (one per part,
    non-negative, not all zero). Every share but the last is rounded half-up
    to ``places`` decimals and the last takes the remainder. A share is cut
    down when rounding up would overshoot what is left of the target, so no
    share is ever negative (2 split 4 ways gives 1, 1, 0, 0, not 1, 1, 1, -1).
    """
    checked = _checked_weights(parts, weights)
    if places < 0:
        raise ValueError(f"places must not be negative, got {places}")
    if not target.is_finite():
        raise ValueError(f"target must be finite, got {target}")
    if target < 0:
        return [-share for share in split_target(-target, parts, weights, places)]
    quantum = Decimal(1).scaleb(-places)
    total = sum(checked, Decimal(0))
    shares: list[Decimal] = []
    left = target
    for weight in checked[:-1]:
        rounded = (target * weight / total).quantize(quantum, ROUND_HALF_UP)
        share = min(rounded, left.quantize(quantum, ROUND_FLOOR))
        shares.append(share)
        left -= share
    shares.append(left)
    return shares


def child_periods(parent: Period, child_kind: PeriodKind, tz: ZoneInfo) -> list[Period]:
    """The periods of ``child_kind`` that overlap ``parent``.

    Weeks do not nest in months, quarters or years, so the first and last
    week may reach outside the parent. Raises ValueError unless
    ``child_kind`` is finer than the parent's kind.
    """
    if ALL_KINDS.index(child_kind) >= ALL_KINDS.index(parent.kind):
        raise ValueError(f"{child_kind.value} is not finer than {parent.kind.value}")
    return periods_overlapping(child_kind, parent.start, parent.end, tz)


def clip(period: Period, window: Period) -> tuple[datetime, datetime]:
    """Bounds of the intersection of ``period`` and ``window``, half-open.

    Raises ValueError if the two do not overlap.
    """
    start = max(period.start, window.start, key=as_utc)
    end = min(period.end, window.end, key=as_utc)
    if as_utc(start) >= as_utc(end):
        raise ValueError(f"{period.label} and {window.label} do not overlap")
    return start, end


def roll_up(children_current: Iterable[Decimal]) -> Decimal:
    """A parent goal's value: the sum of its children's values."""
    return sum(children_current, Decimal(0))
