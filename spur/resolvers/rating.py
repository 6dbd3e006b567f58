"""What the incentive plans in force pay for one activity.

`rate_activity` reads only what the activity's transaction already knows (the
metric totals it moved, the goal periods it advanced) plus the rule counters
it must lock, and returns the rewards to write; `spur.resolvers.payout`
rounds, caps and writes them. Rules are evaluated at the activity's own local
date, so a late activity is paid under the version that was then in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine import incentives as inc
from spur.engine import money
from spur.engine.metrics import ActivityKind
from spur.engine.periods import Period, PeriodKind, period_containing
from spur.models import Activity, Member, RewardKind, Role
from spur.models.upserts import Counters, Movement, TotalKey
from spur.resolvers.goal_progress import GoalStep
from spur.resolvers.rulebook import RuleBook, RuleInForce, person_of


@dataclass(frozen=True)
class Earned:
    """One reward a rule pays, before rounding, caps and statuses."""

    rule: RuleInForce
    member_id: int
    key: str
    kind: RewardKind
    amount: Decimal | None
    quantity: Decimal | None
    title: str | None
    period_start: date | None
    inputs: dict[str, str]
    goal_id: int | None = None
    team_id: int | None = None
    titles: dict[str, str] = field(default_factory=dict)


@dataclass
class RatingInput:
    """What one recorded activity did, as the rules need to see it."""

    conn: BaseDBAsyncClient | None
    counters: Counters
    company_id: int
    currency: str
    tz: ZoneInfo
    member: Member
    activity: Activity
    moved: dict[TotalKey, Movement]
    goal_steps: list[GoalStep]
    now: datetime
    lead: Member | None = None
    headcount: int | None = field(default=None)

    @property
    def day(self) -> date:
        return self.activity.occurred_at.astimezone(self.tz).date()

    def period(self, kind: PeriodKind) -> Period:
        return period_containing(kind, self.activity.occurred_at, self.tz)

    def member_total(self, metric_id: int | None, kind: PeriodKind) -> Movement | None:
        if metric_id is None:
            return None
        return self.moved.get((metric_id, "member", self.member.id, kind))

    def team_total(self, metric_id: int | None, kind: PeriodKind) -> Movement | None:
        team = self.member.team_id
        if metric_id is None or team is None:
            return None
        return self.moved.get((metric_id, "team", team, kind))


async def rate_activity(book: RuleBook, given: RatingInput) -> list[Earned]:
    """Every reward the plans in force pay for this activity, in rule order.

    The member's own plans pay the member; team rules pay the team's lead
    when a plan covers the lead on the activity's date.
    """
    earned: list[Earned] = []
    for rule in book.rules_for(person_of(given.member), given.day):
        earned += await _member_rule(rule, given)
    if given.lead is not None:
        for rule in book.rules_for(person_of(given.lead), given.day):
            if isinstance(rule.params, inc.TeamThresholdParams):
                earned += await _team_rule(rule, rule.params, given)
    return earned


async def _member_rule(rule: RuleInForce, given: RatingInput) -> list[Earned]:
    params = rule.params
    if isinstance(params, inc.CommissionParams):
        return _commission(rule, params, given)
    if isinstance(params, inc.StepParams):
        return await _steps(rule, params, given)
    if isinstance(params, inc.GoalCompletionParams):
        return _goal_completion(rule, params, given)
    if isinstance(params, inc.TargetBonusParams):
        return _target_bonus(rule, params, given)
    return []


def _key(rule: RuleInForce, tail: str) -> str:
    return f"rv{rule.version.id}:{rule.rule.code}:{tail}"


def _commission(
    rule: RuleInForce, params: inc.CommissionParams, given: RatingInput
) -> list[Earned]:
    activity = given.activity
    base = activity.amount_company
    if activity.kind is not ActivityKind.ORDER_CLOSED or base is None:
        return []
    before = Decimal(0)
    metric_id, kind = rule.rule.metric_id, rule.rule.period_kind
    if metric_id is not None:
        # A commission tied to a metric pays only on the orders it counts.
        moved = given.member_total(metric_id, kind or PeriodKind.MONTH)
        if moved is None:
            return []
        before = moved.before
    paid = inc.commission(
        params, base, activity.market, activity.product_category, before
    )
    if paid.amount == 0:
        return []
    inputs = _order_inputs(activity, given.currency) | {"source": paid.source}
    if paid.rate is not None:
        inputs["rate"] = f"{paid.rate:f}"
    if paid.tier is not None:
        inputs["tier"] = paid.tier
    return [
        _cash(rule, given, _key(rule, f"a{activity.id}"), paid.amount, None, inputs)
    ]


def _order_inputs(activity: Activity, currency: str) -> dict[str, str]:
    """The order as the entry records it: base in the company currency, the
    amount as ordered, and the exchange rate of the order's date."""
    assert activity.amount_company is not None
    found = {"base": f"{money.quantize(activity.amount_company, currency):f}"}
    if activity.amount is not None and activity.currency is not None:
        ordered = money.format_money(activity.amount, activity.currency)
        found["order_amount"] = ordered
    if activity.exchange_rate is not None:
        found["exchange_rate"] = f"{activity.exchange_rate.normalize():f}"
    return found


def _cash(
    rule: RuleInForce,
    given: RatingInput,
    key: str,
    amount: Decimal,
    period: Period | None,
    inputs: dict[str, str],
) -> Earned:
    kind = (
        RewardKind.COMMISSION
        if isinstance(rule.params, inc.CommissionParams)
        else RewardKind.CASH
    )
    return Earned(
        rule,
        given.member.id,
        key,
        kind,
        amount,
        None,
        None,
        period.start_date if period else None,
        inputs,
    )


def _entitled(
    rule: RuleInForce,
    member_id: int,
    key: str,
    entitlement: inc.Entitlement,
    period: Period,
    inputs: dict[str, str],
    times: int = 1,
) -> Earned:
    quantity = entitlement.quantity
    return Earned(
        rule,
        member_id,
        key,
        RewardKind(entitlement.kind.value),
        None,
        None if quantity is None else quantity * times,
        entitlement.title,
        period.start_date,
        inputs,
        titles=dict(entitlement.titles),
    )


async def _steps(
    rule: RuleInForce, params: inc.StepParams, given: RatingInput
) -> list[Earned]:
    kind = rule.rule.period_kind or PeriodKind.WEEK
    moved = given.member_total(rule.rule.metric_id, kind)
    if moved is None or moved.after <= moved.before:
        return []
    period = given.period(kind)
    mark = (
        f"steps:p{rule.plan.id}:{rule.rule.code}:m{given.member.id}:"
        f"{kind.value}:{period.start_date.isoformat()}"
    )
    paid = await given.counters.add(mark, Decimal(0))
    steps = inc.steps_reached(
        int(paid.after), moved.after, params.every, params.max_steps
    )
    if steps is None:
        return []
    await given.counters.add(mark, steps.last - paid.after)
    return _step_rewards(rule, params, given, period, steps, moved.after)


def _step_rewards(
    rule: RuleInForce,
    params: inc.StepParams,
    given: RatingInput,
    period: Period,
    steps: inc.Steps,
    value: Decimal,
) -> list[Earned]:
    tail = f"m{given.member.id}:{period.start_date.isoformat()}:s{steps.last}"
    inputs = {
        "every": f"{params.every:f}",
        "value": f"{value:f}",
        "steps": f"{steps.first}-{steps.last}",
        "period": period.label,
    }
    found: list[Earned] = []
    if params.amount is not None:
        amount = params.amount * steps.count
        found.append(_cash(rule, given, _key(rule, tail), amount, period, inputs))
    if params.entitlement is not None:
        found.append(
            _entitled(
                rule,
                given.member.id,
                _key(rule, f"{tail}:e"),
                params.entitlement,
                period,
                inputs,
                steps.count,
            )
        )
    return found


def _goal_completion(
    rule: RuleInForce, params: inc.GoalCompletionParams, given: RatingInput
) -> list[Earned]:
    found: list[Earned] = []
    for step in given.goal_steps:
        goal, change = step.goal, step.change
        if (
            goal.member_id != given.member.id
            or goal.metric_id != rule.rule.metric_id
            or rule.rule.period_kind not in (None, goal.period_kind)
            or not inc.crossed(change.before, change.after, change.target)
        ):
            continue
        tail = f"g{goal.id}:{step.period.start_date.isoformat()}"
        inputs = {
            "goal_target": f"{change.target:f}",
            "goal_value": f"{change.after:f}",
            "period": step.period.label,
        }
        paid = _paid_both(rule, params, given.member.id, tail, step.period, inputs)
        found += [replace(e, goal_id=goal.id) for e in paid]
    return found


def _paid_both(
    rule: RuleInForce,
    params: inc.GoalCompletionParams | inc.TeamThresholdParams,
    member_id: int,
    tail: str,
    period: Period,
    inputs: dict[str, str],
) -> list[Earned]:
    """The cash and the entitlement of a once-per-period rule, as set."""
    found: list[Earned] = []
    if params.amount is not None:
        found.append(
            Earned(
                rule,
                member_id,
                _key(rule, tail),
                RewardKind.CASH,
                params.amount,
                None,
                None,
                period.start_date,
                inputs,
            )
        )
    if params.entitlement is not None:
        found.append(
            _entitled(
                rule,
                member_id,
                _key(rule, f"{tail}:e"),
                params.entitlement,
                period,
                inputs,
            )
        )
    return found


def _target_bonus(
    rule: RuleInForce, params: inc.TargetBonusParams, given: RatingInput
) -> list[Earned]:
    kind = rule.rule.period_kind or PeriodKind.QUARTER
    moved = given.member_total(rule.rule.metric_id, kind)
    target = params.target or _goal_target(rule, kind, given)
    if moved is None or target is None:
        return []
    period = given.period(kind)
    inputs = {
        "share": f"{params.share:f}",
        "target": f"{target:f}",
        "before": f"{moved.before:f}",
        "after": f"{moved.after:f}",
        "period": period.label,
    }
    found: list[Earned] = []
    bonus = inc.target_bonus(params.share, target, moved.before, moved.after)
    if bonus != 0:
        key = _key(rule, f"a{given.activity.id}")
        found.append(_cash(rule, given, key, bonus, period, inputs))
    if params.entitlement is not None and inc.crossed(
        moved.before, moved.after, target
    ):
        tail = f"m{given.member.id}:{period.start_date.isoformat()}:title"
        found.append(
            _entitled(
                rule,
                given.member.id,
                _key(rule, tail),
                params.entitlement,
                period,
                inputs,
            )
        )
    return found


def _goal_target(
    rule: RuleInForce, kind: PeriodKind, given: RatingInput
) -> Decimal | None:
    """The member's own goal target for the rule's metric and period kind."""
    for step in given.goal_steps:
        goal = step.goal
        if (
            goal.member_id == given.member.id
            and goal.metric_id == rule.rule.metric_id
            and goal.period_kind is kind
            and goal.parent_id is None
        ):
            return step.change.target
    return None


async def _team_rule(
    rule: RuleInForce, params: inc.TeamThresholdParams, given: RatingInput
) -> list[Earned]:
    kind = rule.rule.period_kind or PeriodKind.QUARTER
    if params.measure is inc.TeamMeasure.TOTAL:
        moved = given.team_total(rule.rule.metric_id, kind)
        line = params.threshold
    else:
        upkeep = await _upkeep(rule, params, kind, given)
        if upkeep is None:
            return []
        moved, line = upkeep
    if moved is None or not inc.crossed(moved.before, moved.after, line):
        return []
    assert given.lead is not None
    team_id = given.member.team_id
    period = given.period(kind)
    inputs = {
        "measure": params.measure.value,
        "threshold": f"{params.threshold:f}",
        "value": f"{moved.after:f}",
        "needed": f"{line:f}",
        "team_id": str(team_id),
        "period": period.label,
    }
    tail = f"t{team_id}:{period.start_date.isoformat()}"
    found = _paid_both(rule, params, given.lead.id, tail, period, inputs)
    return [replace(e, team_id=team_id) for e in found]


async def _upkeep(
    rule: RuleInForce,
    params: inc.TeamThresholdParams,
    kind: PeriodKind,
    given: RatingInput,
) -> tuple[Movement, Decimal] | None:
    """Counts a member-day of upkeep when today's minutes reach the line.

    Returns the team's upkept days before and after, and the days needed.
    """
    today = given.member_total(rule.rule.metric_id, PeriodKind.DAY)
    if today is None or not inc.crossed(today.before, today.after, params.min_minutes):
        return None
    period = given.period(kind)
    key = (
        f"upkeep:p{rule.plan.id}:{rule.rule.code}:t{given.member.team_id}:"
        f"{kind.value}:{period.start_date.isoformat()}"
    )
    days = await given.counters.add(key, Decimal(1))
    headcount = await _headcount(given)
    needed = inc.upkeep_days_needed(
        params.threshold, headcount, inc.working_days(period)
    )
    return days, Decimal(needed)


async def _headcount(given: RatingInput) -> int:
    if given.headcount is None:
        given.headcount = await team_headcount(given.conn, given.member.team_id)
    return given.headcount


async def team_headcount(conn: BaseDBAsyncClient | None, team_id: int | None) -> int:
    """Active salespeople in a team: the members an upkeep rate counts."""
    return (
        await Member.filter(team_id=team_id, role=Role.SALESPERSON, is_active=True)
        .using_db(conn)
        .count()
    )
