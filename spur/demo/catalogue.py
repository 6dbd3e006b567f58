"""What the demo company measures and the goals it sets its salespeople."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from spur.demo.people import TEAMS, YOUNG_MAX_AGE, Person, TeamSpec, age_on
from spur.engine.goals import child_periods, split_target
from spur.engine.metrics import ActivityKind, Aggregation, MetricSpec
from spur.engine.periods import PeriodKind, next_period, period_containing
from spur.models.ledger import RewardKind

COUNT, SUM_AMOUNT = Aggregation.COUNT, Aggregation.SUM_AMOUNT


@dataclass(frozen=True)
class MetricDef:
    """A metric definition row: a human name (English, and Chinese in
    `zh_name`) and unit around an engine spec."""

    spec: MetricSpec
    name: str
    zh_name: str
    unit: str = ""

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def titles(self) -> dict[str, str]:
        return {"zh-CN": self.zh_name, "en": self.name}


def _metric(
    key: str,
    names: tuple[str, str],
    kind: ActivityKind,
    aggregation: Aggregation = COUNT,
    unit: str = "",
    *,
    market: str | None = None,
    new_customer: bool | None = None,
    reply_within_minutes: int | None = None,
) -> MetricDef:
    spec = MetricSpec(
        key,
        kind,
        aggregation,
        market=market,
        new_customer=new_customer,
        reply_within_minutes=reply_within_minutes,
    )
    return MetricDef(spec, names[0], names[1], unit)


_K = ActivityKind
METRICS: tuple[MetricDef, ...] = (
    _metric(
        "new_customer_follow_ups",
        ("New-customer follow-ups", "新客户跟进"),
        _K.CUSTOMER_FOLLOW_UP,
        new_customer=True,
    ),
    _metric(
        "customer_follow_ups",
        ("Customer follow-ups", "客户跟进"),
        _K.CUSTOMER_FOLLOW_UP,
    ),
    _metric(
        "product_optimizations",
        ("Product optimisations", "产品优化"),
        _K.PRODUCT_OPTIMIZED,
    ),
    _metric("products_posted", ("Products posted", "产品发布"), _K.PRODUCT_POSTED),
    _metric(
        "platform_minutes",
        ("Time on the trading platform", "平台在线时长"),
        _K.PLATFORM_SESSION,
        Aggregation.SUM_QUANTITY,
        unit="min",
    ),
    _metric(
        "inquiries_received", ("Inquiries received", "收到的询盘"), _K.INQUIRY_RECEIVED
    ),
    _metric("inquiry_replies", ("Inquiry replies", "询盘回复"), _K.INQUIRY_REPLIED),
    _metric(
        "inquiry_replies_within_60",
        ("Inquiries answered within an hour", "一小时内回复的询盘"),
        _K.INQUIRY_REPLIED,
        reply_within_minutes=60,
    ),
    _metric(
        "inquiry_reply_minutes",
        ("Minutes taken to reply to inquiries", "询盘回复用时"),
        _K.INQUIRY_REPLIED,
        Aggregation.SUM_REPLY_MIN,
        unit="min",
    ),
    _metric("orders", ("Orders closed", "成交订单"), _K.ORDER_CLOSED),
    _metric(
        "sales_amount", ("Sales", "销售额"), _K.ORDER_CLOSED, SUM_AMOUNT, unit="CNY"
    ),
    _metric(
        "sea_sales_amount",
        ("Southeast Asia sales", "东南亚销售额"),
        _K.ORDER_CLOSED,
        SUM_AMOUNT,
        unit="CNY",
        market="SEA",
    ),
    _metric("customer_ratings", ("Customer ratings", "客户评价"), _K.CUSTOMER_RATING),
)


@dataclass(frozen=True)
class RewardPlan:
    """What completing a goal in one of its periods earns."""

    kind: RewardKind
    title: str
    amount: Decimal | None = None
    quantity: Decimal | None = None
    zh_title: str | None = None

    @property
    def titles(self) -> dict[str, str]:
        return {"zh-CN": self.zh_title} if self.zh_title else {}


@dataclass(frozen=True)
class GoalPlan:
    """A goal row to create; `ref` links a child to its parent before ids exist.

    A personal goal names its `owner` (an index into the people); a team goal
    has no owner and names the `team` by its market.
    """

    ref: str
    owner: int | None
    metric: str
    title: str
    kind: PeriodKind
    target: Decimal
    active_from: date
    active_until: date | None
    window: tuple[datetime, datetime] | None = None
    parent: str | None = None
    rewards: tuple[RewardPlan, ...] = field(default=())
    team: str | None = None
    zh_title: str | None = None

    @property
    def titles(self) -> dict[str, str]:
        return {"zh-CN": self.zh_title} if self.zh_title else {}


WEEKLY_REWARDS = (
    RewardPlan(
        RewardKind.CASH, "Weekly follow-up bonus", Decimal(500), zh_title="每周跟进奖金"
    ),
)
MONTHLY_REWARDS = (
    RewardPlan(
        RewardKind.CASH, "Optimisation bonus", Decimal(300), zh_title="产品优化奖金"
    ),
    RewardPlan(
        RewardKind.TRAINING, "Training place", quantity=Decimal(1), zh_title="培训名额"
    ),
)
TEAM_NAMES_ZH = {"SEA": "东南亚", "EU": "欧洲", "NA": "北美", "ME": "中东"}
HISTORY_WEEKS = 13


def quarter_target(person: Person, today: date, rng: random.Random) -> Decimal:
    """A quarterly sales target in CNY that grows with age and service."""
    years = (today - person.hire_date).days / 365
    if age_on(person.birth_date, today) <= YOUNG_MAX_AGE:
        low, high = 300, 500 if years >= 1 else 320
    else:
        low, high = 550 + min(200, int(years * 15)), 900
    return Decimal(rng.randint(low // 10, high // 10) * 10_000)


def _recurring(owner: int, start_week: date, start_month: date) -> list[GoalPlan]:
    return [
        GoalPlan(
            f"{owner}:week",
            owner,
            "new_customer_follow_ups",
            "10 new-customer follow-ups",
            PeriodKind.WEEK,
            Decimal(10),
            start_week,
            None,
            rewards=WEEKLY_REWARDS,
            zh_title="10 个新客户跟进",
        ),
        GoalPlan(
            f"{owner}:month",
            owner,
            "product_optimizations",
            "5 product optimisations",
            PeriodKind.MONTH,
            Decimal(5),
            start_month,
            None,
            rewards=MONTHLY_REWARDS,
            zh_title="5 次产品优化",
        ),
    ]


def _sales_target(
    owner: int, target: Decimal, now: datetime, tz: ZoneInfo
) -> list[GoalPlan]:
    quarter = period_containing(PeriodKind.QUARTER, now, tz)
    parent = GoalPlan(
        f"{owner}:quarter",
        owner,
        "sales_amount",
        f"{quarter.label} sales target",
        PeriodKind.QUARTER,
        target,
        quarter.start_date,
        next_period(quarter, tz).start_date,
        zh_title=f"{quarter.label} 销售目标",
    )
    months = child_periods(quarter, PeriodKind.MONTH, tz)
    shares = split_target(target, len(months), places=2)
    children = [
        GoalPlan(
            f"{owner}:{month.label}",
            owner,
            "sales_amount",
            f"{month.label} sales target",
            PeriodKind.MONTH,
            share,
            month.start_date,
            next_period(month, tz).start_date,
            window=(quarter.start, quarter.end),
            parent=parent.ref,
            zh_title=f"{month.label} 销售目标",
        )
        for month, share in zip(months, shares, strict=True)
    ]
    return [parent, *children]


def _team_target(
    team: TeamSpec, target: Decimal, now: datetime, tz: ZoneInfo
) -> GoalPlan:
    quarter = period_containing(PeriodKind.QUARTER, now, tz)
    return GoalPlan(
        f"{team.market}:quarter",
        None,
        "sales_amount",
        f"{quarter.label} {team.name} team sales target",
        PeriodKind.QUARTER,
        target,
        quarter.start_date,
        next_period(quarter, tz).start_date,
        team=team.market,
        zh_title=f"{quarter.label} {TEAM_NAMES_ZH[team.market]}团队销售目标",
    )


def goal_plans(
    people: list[Person], now: datetime, tz: ZoneInfo, seed: int
) -> list[GoalPlan]:
    """Every salesperson's goals and one quarterly sales goal per team.

    Parents come before their children. A team's target is the sum of its
    members' quarterly targets.
    """
    rng = random.Random(f"{seed}:goals")
    this_week = period_containing(PeriodKind.WEEK, now, tz).start_date
    start_week = this_week - timedelta(weeks=HISTORY_WEEKS)
    start_month = start_week.replace(day=1)
    today = now.astimezone(tz).date()
    plans: list[GoalPlan] = []
    team_targets: dict[str, Decimal] = defaultdict(Decimal)
    for owner, person in enumerate(people):
        if person.is_salesperson and person.market is not None:
            target = quarter_target(person, today, rng)
            team_targets[person.market] += target
            plans += _recurring(owner, start_week, start_month)
            plans += _sales_target(owner, target, now, tz)
    for team in TEAMS:
        plans.append(_team_target(team, team_targets[team.market], now, tz))
    return plans
