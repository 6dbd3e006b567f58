"""Which behaviours go with which outcomes: the catalogue of comparisons.

Behaviours and their thresholds (what "above" and "below" mean):

* `platform_hours_per_day`, per member working day: at least an hour on the
  trading platform that day, against less (the platform upkeep threshold).
* `follow_ups`, per member working day: at least `FOLLOW_UP_THRESHOLD`
  customer follow-ups that day (the weekly goal's pace of two new-customer
  follow-ups a day, plus about two to existing customers), against fewer.
* `product_optimisations`, per member working day: at least one product
  optimised that day, against none.
* `inquiry_reply_minutes`, per inquiry received: first reply within an hour
  ("above": the better side) against after two hours; replies in between
  and unanswered inquiries are left out of the two groups.

Outcomes: `orders` (orders closed per member-day), `sales` (company
currency, per member-day or per inquiry: the value of the orders that came
of it) and `inquiry_conversion` (the share of inquiries received that led to
an order; per member-day, of the inquiries received that day). Reply time is
not set against `orders`: per inquiry, "did an order come of it" is the
conversion itself, so the pairing would repeat `inquiry_conversion`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spur.engine.drivers import Array, Comparison, Units, compare

PLATFORM_HOUR_MINUTES = 60.0
FOLLOW_UP_THRESHOLD = 4.0
FAST_REPLY_MINUTES = 60.0
SLOW_REPLY_MINUTES = 120.0


@dataclass(frozen=True)
class MemberDays:
    """One entry per member working day (days without activity included)."""

    member: npt.NDArray[np.int64]
    platform_minutes: Array
    follow_ups: Array
    optimisations: Array
    orders: Array
    sales: Array
    inquiries: Array
    conversions: Array


@dataclass(frozen=True)
class Inquiries:
    """One entry per inquiry received; `minutes` is NaN when never answered."""

    member: npt.NDArray[np.int64]
    minutes: Array
    orders: Array
    sales: Array


@dataclass(frozen=True)
class Finding:
    """One behaviour against one outcome, with the statistics and wording."""

    behaviour: str
    outcome: str
    unit: str
    threshold: float
    above: str
    below: str
    stats: Comparison


@dataclass(frozen=True)
class _DayBehaviour:
    key: str
    threshold: float
    above: str
    below: str
    value: Callable[[MemberDays], Array]


_DAY_BEHAVIOURS = (
    _DayBehaviour(
        "platform_hours_per_day",
        PLATFORM_HOUR_MINUTES / 60,
        "an hour or more on the platform that day",
        "under an hour on the platform that day",
        lambda days: days.platform_minutes / 60,
    ),
    _DayBehaviour(
        "follow_ups",
        FOLLOW_UP_THRESHOLD,
        f"{FOLLOW_UP_THRESHOLD:.0f} or more customer follow-ups that day",
        f"fewer than {FOLLOW_UP_THRESHOLD:.0f} customer follow-ups that day",
        lambda days: days.follow_ups,
    ),
    _DayBehaviour(
        "product_optimisations",
        1.0,
        "at least one product optimised that day",
        "no product optimised that day",
        lambda days: days.optimisations,
    ),
)


def _day_outcomes(days: MemberDays) -> dict[str, tuple[Array, Array]]:
    one = np.ones(len(days.member))
    return {
        "orders": (days.orders, one),
        "inquiry_conversion": (days.conversions, days.inquiries),
        "sales": (days.sales, one),
    }


def _inquiry_outcomes(found: Inquiries) -> dict[str, tuple[Array, Array]]:
    # No "orders" here: an inquiry's orders measure whether it converted,
    # which `inquiry_conversion` already reports.
    one = np.ones(len(found.member))
    return {
        "inquiry_conversion": ((found.orders > 0).astype(np.float64), one),
        "sales": (found.sales, one),
    }


def day_findings(days: MemberDays, resamples: int, seed: int) -> list[Finding]:
    """Every member-day behaviour against every outcome."""
    findings = []
    for behaviour in _DAY_BEHAVIOURS:
        value = behaviour.value(days)
        above = value >= behaviour.threshold
        for outcome, (num, den) in _day_outcomes(days).items():
            units = Units(days.member, value, num, den)
            stats = compare(units, above, ~above, resamples, seed)
            findings.append(
                Finding(
                    behaviour.key,
                    outcome,
                    "member-day",
                    behaviour.threshold,
                    behaviour.above,
                    behaviour.below,
                    stats,
                )
            )
    return findings


def reply_findings(found: Inquiries, resamples: int, seed: int) -> list[Finding]:
    """Reply time against what became of each answered inquiry."""
    answered = ~np.isnan(found.minutes)
    minutes = found.minutes[answered]
    fast = minutes <= FAST_REPLY_MINUTES
    slow = minutes > SLOW_REPLY_MINUTES
    findings = []
    for outcome, (num, den) in _inquiry_outcomes(found).items():
        units = Units(found.member[answered], minutes, num[answered], den[answered])
        findings.append(
            Finding(
                "inquiry_reply_minutes",
                outcome,
                "inquiry",
                FAST_REPLY_MINUTES,
                f"first reply within {FAST_REPLY_MINUTES:.0f} minutes",
                f"first reply after {SLOW_REPLY_MINUTES:.0f} minutes",
                compare(units, fast, slow, resamples, seed),
            )
        )
    return findings
