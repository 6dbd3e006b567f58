"""The demo company's incentive plans, as the data an HR admin would enter.

Three plans: young staff earn commission (raised in Southeast Asia two
weeks before the demo was created), a bonus for fast replies and a training
place for time on the platform; senior staff share team rules and earn
equity for three excellent years in a row;
everyone earns a share of quarterly sales for meeting the quarterly target.
Every version is a complete rule set, so the raise repeats the other rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from spur.demo.people import SENIOR_MIN_AGE, YOUNG_MAX_AGE
from spur.engine.periods import PeriodKind
from spur.models.plan import RuleKind

# Cash lines above this wait for a manager: the larger commissions and most
# target bonuses, so the demo's managers have approvals to do.
APPROVAL_THRESHOLD = Decimal("2000.00")
# The Southeast Asia raise takes effect this many days before the demo.
RAISE_DAYS_BEFORE = 14
# The share of quarterly sales the target bonus pays, and the plan's budget:
# a quarter's bonuses for the whole staff fit well inside it.
TARGET_SHARE = "0.01"
TARGET_BUDGET = Decimal("300000.00")


@dataclass(frozen=True)
class RuleDef:
    """One rule of a version; `metric` is a metric key, `params` its settings."""

    code: str
    kind: RuleKind
    title: str
    zh_title: str
    params: dict[str, Any]
    metric: str | None = None
    period_kind: PeriodKind | None = None

    @property
    def titles(self) -> dict[str, str]:
        return {"zh-CN": self.zh_title}


@dataclass(frozen=True)
class VersionDef:
    """A complete rule set in force from `effective_from`."""

    number: int
    effective_from: date
    rules: tuple[RuleDef, ...]
    note: str = ""


@dataclass(frozen=True)
class AudienceDef:
    """Who a plan covers (ages inclusive); nothing set covers everyone."""

    min_age: int | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class PlanDef:
    """A plan with its versions, audiences, approval threshold and budget."""

    name: str
    zh_name: str
    description: str
    versions: tuple[VersionDef, ...]
    audiences: tuple[AudienceDef, ...] = (AudienceDef(),)
    approval_threshold: Decimal | None = APPROVAL_THRESHOLD
    budget: Decimal | None = None
    budget_period: PeriodKind | None = None

    @property
    def titles(self) -> dict[str, str]:
        return {"zh-CN": self.zh_name}


def _commission(sea_rate: str | None = None) -> RuleDef:
    params: dict[str, Any] = {"rate": "0.05"}
    if sea_rate is not None:
        params["overrides"] = [{"market": "SEA", "rate": sea_rate}]
    return RuleDef("commission", RuleKind.COMMISSION, "Commission", "订单提成", params)


FAST_REPLIES = RuleDef(
    "fast_replies",
    RuleKind.STEP,
    "Fast-reply bonus",
    "快速回复奖金",
    {"every": "10", "amount": "200.00"},
    metric="inquiry_replies_within_60",
    period_kind=PeriodKind.WEEK,
)
PLATFORM_TRAINING = RuleDef(
    "platform_training",
    RuleKind.STEP,
    "Training place for 10 platform hours",
    "平台十小时培训名额",
    {
        "every": "600",
        "maxSteps": "1",
        "entitlement": {
            "kind": "TRAINING",
            "quantity": "1",
            "title": "Training place for 10 platform hours",
            "titles": {"zh-CN": "平台十小时培训名额"},
        },
    },
    metric="platform_minutes",
    period_kind=PeriodKind.WEEK,
)
TEAM_STAR = RuleDef(
    "team_star",
    RuleKind.TEAM_THRESHOLD,
    "Team Star",
    "团队之星",
    {
        "measure": "TOTAL",
        "threshold": "1000000",
        "entitlement": {
            "kind": "HONOR_TITLE",
            "title": "Team Star",
            "titles": {"zh-CN": "团队之星"},
        },
    },
    metric="sales_amount",
    period_kind=PeriodKind.QUARTER,
)
UPKEEP_LEAVE = RuleDef(
    "upkeep_leave",
    RuleKind.TEAM_THRESHOLD,
    "Paid leave for team platform upkeep",
    "团队平台维护带薪假",
    {
        "measure": "UPKEEP_RATE",
        "threshold": "0.80",
        "minMinutes": "60",
        "entitlement": {"kind": "PAID_LEAVE", "quantity": "3"},
    },
    metric="platform_minutes",
    period_kind=PeriodKind.QUARTER,
)
TARGET_BONUS = RuleDef(
    "quarterly_target",
    RuleKind.TARGET_BONUS,
    "Quarterly target bonus",
    "季度目标奖金",
    {
        "share": TARGET_SHARE,
        "entitlement": {
            "kind": "HONOR_TITLE",
            "title": "Quarterly Target Achiever",
            "titles": {"zh-CN": "季度目标达成者"},
        },
    },
    metric="sales_amount",
    period_kind=PeriodKind.QUARTER,
)

EQUITY_STREAK = RuleDef(
    "equity_streak",
    RuleKind.APPRAISAL_STREAK,
    "1% equity for three excellent years",
    "连续三年优秀授予1%股权",
    {
        "grade": "EXCELLENT",
        "years": "3",
        "entitlement": {
            "kind": "EQUITY",
            "quantity": "1",
            "title": "1% equity",
            "titles": {"zh-CN": "1% 股权"},
        },
    },
)


def raise_day(today: date) -> date:
    """The first day of the Southeast Asia raise, for a demo created `today`."""
    return today - timedelta(days=RAISE_DAYS_BEFORE)


def demo_plans(first_day: date, today: date) -> tuple[PlanDef, ...]:
    """The plans of a demo whose history starts on `first_day` (local dates).

    Every first version starts on the first of `first_day`'s month, so the
    whole history is paid under a plan.
    """
    start = first_day.replace(day=1)
    young = (_commission(), FAST_REPLIES, PLATFORM_TRAINING)
    raised = (_commission(sea_rate="0.08"), FAST_REPLIES, PLATFORM_TRAINING)
    return (
        PlanDef(
            "Young staff",
            "青年员工激励",
            "Staff aged 30 or under: 5% commission on every order, 200.00 CNY "
            "for every 10 inquiries answered within an hour in a week, and a "
            "training place for 10 hours on the platform in a week.",
            (
                VersionDef(1, start, young, "5% commission in every market."),
                VersionDef(
                    2,
                    raise_day(today),
                    raised,
                    "8% in the Southeast Asia market from 14 days before the "
                    "demo's creation.",
                ),
            ),
            audiences=(AudienceDef(max_age=YOUNG_MAX_AGE),),
        ),
        PlanDef(
            "Senior staff team rules",
            "资深员工团队规则",
            "Staff aged 35 or over: the Team Star title for 1,000,000.00 CNY "
            "of team sales in a quarter, 3 days of paid leave for a team "
            "platform upkeep rate of 80% in a quarter, and 1% equity for "
            "three consecutive yearly appraisals graded EXCELLENT.",
            (
                VersionDef(
                    1,
                    start,
                    (TEAM_STAR, UPKEEP_LEAVE, EQUITY_STREAK),
                    "Team rules and the equity streak.",
                ),
            ),
            audiences=(AudienceDef(min_age=SENIOR_MIN_AGE),),
        ),
        PlanDef(
            "Everyone",
            "全员激励",
            "1% of quarterly sales and the Quarterly Target Achiever title for "
            "meeting one's own quarterly sales target.",
            (VersionDef(1, start, (TARGET_BONUS,), "Quarterly target bonus."),),
            budget=TARGET_BUDGET,
            budget_period=PeriodKind.QUARTER,
        ),
    )
