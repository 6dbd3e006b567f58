"""Manager alerts as rules over team baselines. No I/O.

Each rule reads a few stored totals and answers with a finding or nothing.
A finding names its subject (a member or a team) and period, so the same
condition in the same period is one alert however often it is evaluated:
`alert_key` is unique in the store.

- CONVERSION_LEAD: a member converts inquiries into orders at least 5
  points above the rest of the team in the month (enough inquiries on
  both sides); suggests a cash award.
- LOW_UPKEEP: a team's platform upkeep rate so far this week (member
  working days with an hour or more on the platform, over the days
  possible) is below the threshold; suggests a stronger platform incentive.
- REPLY_DRIFT: a member's average reply time this week is up by a quarter
  and by at least 10 minutes on last week's.
- GOAL_AT_RISK: a member's goal has at most 3 days left and its progress
  is 20 points or more behind the share of the period gone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from spur.engine.periods import PeriodKind

HUNDRED = Decimal(100)


class AlertRule(enum.StrEnum):
    CONVERSION_LEAD = "CONVERSION_LEAD"
    LOW_UPKEEP = "LOW_UPKEEP"
    REPLY_DRIFT = "REPLY_DRIFT"
    GOAL_AT_RISK = "GOAL_AT_RISK"


# The period each rule watches, and whether a higher value is better.
RULE_PERIOD = {
    AlertRule.CONVERSION_LEAD: PeriodKind.MONTH,
    AlertRule.LOW_UPKEEP: PeriodKind.WEEK,
    AlertRule.REPLY_DRIFT: PeriodKind.WEEK,
}
HIGHER_IS_BETTER = {
    AlertRule.CONVERSION_LEAD: True,
    AlertRule.LOW_UPKEEP: True,
    AlertRule.REPLY_DRIFT: False,
    AlertRule.GOAL_AT_RISK: True,
}


@dataclass(frozen=True)
class Thresholds:
    """The lines the rules draw; one set per company today."""

    conversion_points: Decimal = Decimal(5)
    min_inquiries: int = 10
    upkeep_rate: Decimal = Decimal("0.60")
    upkeep_minutes: Decimal = Decimal(60)
    min_upkeep_days: int = 2
    drift_ratio: Decimal = Decimal("1.25")
    drift_minutes: Decimal = Decimal(10)
    min_replies: int = 5
    risk_days_left: int = 3
    risk_behind: Decimal = Decimal("0.20")
    award: Decimal = Decimal("500.00")


DEFAULT = Thresholds()


@dataclass(frozen=True)
class Finding:
    """A condition a rule found: the subject's value against the baseline."""

    rule: AlertRule
    value: Decimal
    baseline: Decimal
    award: Decimal | None = None
    facts: dict[str, str] = field(default_factory=dict)


def alert_key(
    rule: AlertRule, subject: str, period_kind: PeriodKind, period_start: date
) -> str:
    """Once per rule, subject (`m12`, `t3`, `g7`) and period."""
    return f"{rule.value}:{subject}:{period_kind.value}:{period_start.isoformat()}"


def rate(part: Decimal, whole: Decimal) -> Decimal | None:
    """`part / whole` in points (percent) to 0.01; None without a whole."""
    if whole <= 0:
        return None
    return (part * HUNDRED / whole).quantize(Decimal("0.01"))


def conversion_lead(
    orders: Decimal,
    inquiries: Decimal,
    team_orders: Decimal,
    team_inquiries: Decimal,
    t: Thresholds = DEFAULT,
) -> Finding | None:
    """A member's conversion against the rest of their team (team totals
    include the member; they are taken out of the baseline)."""
    rest_orders, rest_inquiries = team_orders - orders, team_inquiries - inquiries
    if inquiries < t.min_inquiries or rest_inquiries < t.min_inquiries:
        return None
    mine, rest = rate(orders, inquiries), rate(rest_orders, rest_inquiries)
    if mine is None or rest is None or mine - rest < t.conversion_points:
        return None
    facts = {"orders": f"{orders:f}", "inquiries": f"{inquiries:f}"}
    return Finding(AlertRule.CONVERSION_LEAD, mine, rest, t.award, facts)


def low_upkeep(
    upkept_days: int, headcount: int, days_so_far: int, t: Thresholds = DEFAULT
) -> Finding | None:
    """A team's upkeep rate over the working days so far."""
    if headcount == 0 or days_so_far < t.min_upkeep_days:
        return None
    found = rate(Decimal(upkept_days), Decimal(headcount * days_so_far))
    line = t.upkeep_rate * HUNDRED
    if found is None or found >= line:
        return None
    facts = {
        "upkept_days": str(upkept_days),
        "headcount": str(headcount),
        "working_days": str(days_so_far),
    }
    return Finding(AlertRule.LOW_UPKEEP, found, line, None, facts)


def average(total: Decimal, count: Decimal) -> Decimal | None:
    if count <= 0:
        return None
    return (total / count).quantize(Decimal("0.01"))


def reply_drift(
    minutes: Decimal,
    replies: Decimal,
    before_minutes: Decimal,
    before_replies: Decimal,
    t: Thresholds = DEFAULT,
) -> Finding | None:
    """This period's average reply time against the previous period's."""
    if replies < t.min_replies or before_replies < t.min_replies:
        return None
    now, before = average(minutes, replies), average(before_minutes, before_replies)
    if now is None or before is None:
        return None
    if now < before * t.drift_ratio or now - before < t.drift_minutes:
        return None
    facts = {"replies": f"{replies:f}", "previous_replies": f"{before_replies:f}"}
    return Finding(AlertRule.REPLY_DRIFT, now, before, None, facts)


def goal_at_risk(
    current: Decimal,
    target: Decimal,
    elapsed: Decimal,
    days_left: int,
    t: Thresholds = DEFAULT,
) -> Finding | None:
    """A goal short of its pace near the end of its period.

    `elapsed` is the share of the period gone (0 to 1), `days_left` whole
    local days before it ends (the current one counted).
    """
    if target <= 0 or current >= target or not 0 < days_left <= t.risk_days_left:
        return None
    progress = min(current / target, Decimal(1))
    if elapsed - progress < t.risk_behind:
        return None
    facts = {"target": f"{target:f}", "days_left": str(days_left)}
    value = (progress * HUNDRED).quantize(Decimal("0.01"))
    pace = (elapsed * HUNDRED).quantize(Decimal("0.01"))
    return Finding(AlertRule.GOAL_AT_RISK, value, pace, None, facts)


class Direction(enum.StrEnum):
    BETTER = "BETTER"
    WORSE = "WORSE"
    UNCHANGED = "UNCHANGED"
    UNKNOWN = "UNKNOWN"


def direction(
    before: Decimal | None, after: Decimal | None, higher_is_better: bool
) -> Direction:
    """Whether a metric moved the right way from one period to the next."""
    if before is None or after is None:
        return Direction.UNKNOWN
    if after == before:
        return Direction.UNCHANGED
    return Direction.BETTER if (after > before) == higher_is_better else Direction.WORSE
