"""Where a goal stands: percentages, pace and milestones."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from spur.engine.periods import Period, as_utc, elapsed_share


class ProgressStatus(enum.Enum):
    """The state of a goal, as shown next to its progress bar."""

    NOT_STARTED = "NOT_STARTED"
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    ACHIEVED = "ACHIEVED"
    MISSED = "MISSED"


class Milestone(enum.IntEnum):
    """Percentages of a target that raise an achievement event."""

    HALF = 50
    COMPLETE = 100


def percent(current: Decimal, target: Decimal) -> float:
    """100 × current / target, not capped at 100; 0.0 for a non-positive target."""
    if target <= 0:
        return 0.0
    return float(current * 100 / target)


def remaining(current: Decimal, target: Decimal) -> Decimal:
    """How much is still needed to reach the target, never negative."""
    return max(Decimal(0), target - current)


def status(
    current: Decimal, target: Decimal, period: Period, now: datetime
) -> ProgressStatus:
    """The status of a goal with value ``current`` at instant ``now``.

    Rules, first match wins:

    1. ACHIEVED when current >= target, even after the period has ended.
    2. MISSED when the period has ended (now >= period.end).
    3. NOT_STARTED when nothing is recorded yet (current <= 0), however much
       of the period has passed.
    4. AT_RISK when the share of the target reached is below the share of the
       period elapsed (measured in real seconds), i.e. behind a steady pace.
    5. ON_TRACK otherwise.
    """
    if current >= target:
        return ProgressStatus.ACHIEVED
    if as_utc(now) >= as_utc(period.end):
        return ProgressStatus.MISSED
    if current <= 0:
        return ProgressStatus.NOT_STARTED
    if current / target < Decimal(elapsed_share(period, now)):
        return ProgressStatus.AT_RISK
    return ProgressStatus.ON_TRACK


def milestone_threshold(milestone: Milestone, target: Decimal) -> Decimal:
    """The metric value at which ``milestone`` is reached."""
    return target * int(milestone) / 100


def crossed_milestones(
    before: Decimal, after: Decimal, target: Decimal
) -> list[Milestone]:
    """Milestones passed by moving from ``before`` to ``after``, ascending.

    A milestone is crossed when before < threshold <= after, so a single big
    jump can cross several and a decrease crosses none.
    """
    if target <= 0:
        return []
    return [
        milestone
        for milestone in sorted(Milestone)
        if before < milestone_threshold(milestone, target) <= after
    ]
