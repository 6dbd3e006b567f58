"""Checking incentive plans, versions, rules and assignments before a write.

Every check raises `BAD_USER_INPUT` naming the field as the client spelled
it, with a dotted path into lists and rule settings
("firstVersion.rules.0.params.tiers.bands.1.from"), so a form can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from spur.api.errors import BadUserInput
from spur.engine import incentives as inc
from spur.engine import money
from spur.engine.messages import SUPPORTED_LANGUAGES
from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import PeriodKind
from spur.models import IncentivePreference, MetricDefinition, RuleKind

MAX_NAME = 200
MAX_TEXT = 2000
MAX_RULES = 50
MAX_MONEY = Decimal(10) ** 12
MAX_AGE = 150
MAX_TENURE_DAYS = 100 * 366
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Rules that watch a metric total in a period cannot work without both.
_NEED_METRIC_AND_PERIOD = frozenset(
    {RuleKind.STEP, RuleKind.TARGET_BONUS, RuleKind.TEAM_THRESHOLD}
)
# (language, text) pairs as the client sent them.
Titles = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the planner wrote it; `params` is checked JSON."""

    code: str
    kind: RuleKind
    title: str
    titles: Titles
    metric: str | None
    period_kind: PeriodKind | None
    params: Any


@dataclass(frozen=True)
class VersionSpec:
    """The rules of a plan from a date."""

    effective_from: date
    effective_until: date | None = None
    member_cap: Decimal | None = None
    cap_period: PeriodKind | None = None
    note: str = ""
    rules: tuple[RuleSpec, ...] = ()


@dataclass(frozen=True)
class PlanSpec:
    """A new plan and its first version."""

    name: str
    titles: Titles
    description: str
    approval_threshold: Decimal | None
    budget: Decimal | None
    budget_period: PeriodKind | None
    first_version: VersionSpec


@dataclass(frozen=True)
class AudienceSpec:
    """Who an assignment covers: every condition set must hold."""

    team_id: int | None = None
    member_id: int | None = None
    min_age: int | None = None
    max_age: int | None = None
    min_tenure_days: int | None = None
    max_tenure_days: int | None = None
    preference: IncentivePreference | None = None


@dataclass(frozen=True)
class CheckedRule:
    """A rule ready to save: its metric resolved, its settings parsed."""

    spec: RuleSpec
    title: str
    titles: dict[str, str]
    metric_id: int | None
    position: int


# The company's metric definitions by key, loaded once per write.
Metrics = Mapping[str, MetricDefinition]


def check_name(name: str, field_name: str = "name") -> str:
    """A plan's name, trimmed: 1 to 200 characters, no NUL."""
    return check_text(name, field_name, MAX_NAME, required=True)


def check_text(
    text: str, field_name: str, limit: int = MAX_TEXT, *, required: bool = False
) -> str:
    """`text` trimmed; refused when too long, empty (if required) or with NUL."""
    trimmed = text.strip()
    if len(trimmed) > limit or (required and not trimmed):
        low = 1 if required else 0
        raise BadUserInput(
            f"{field_name} must have {low} to {limit} characters.", field=field_name
        )
    if "\x00" in trimmed:
        raise BadUserInput(
            f"{field_name} may not contain NUL characters.", field=field_name
        )
    return trimmed


def check_titles(titles: Titles, field_name: str) -> dict[str, str]:
    """Names by language: one each of zh-CN and en at most, none empty."""
    found: dict[str, str] = {}
    for index, (language, text) in enumerate(titles):
        where = f"{field_name}.{index}"
        if language not in SUPPORTED_LANGUAGES:
            allowed = ", ".join(SUPPORTED_LANGUAGES)
            raise BadUserInput(
                f"language must be one of {allowed}.", field=f"{where}.language"
            )
        if language in found:
            raise BadUserInput(f"Two titles in {language}.", field=f"{where}.language")
        found[language] = check_text(text, f"{where}.text", MAX_NAME, required=True)
    return found


def check_money(
    amount: Decimal | None, currency: str, field_name: str, *, zero: bool = False
) -> Decimal | None:
    """An amount in the company currency, in whole minor units; None passes."""
    if amount is None:
        return None
    low_ok = amount >= 0 if zero else amount > 0
    if not low_ok or amount >= MAX_MONEY:
        word = "zero or more" if zero else "greater than zero"
        raise BadUserInput(
            f"{field_name} must be {word} and below {MAX_MONEY:f}.", field=field_name
        )
    if money.has_excess_places(amount, currency):
        raise BadUserInput(
            f"{field_name} has more decimals than {currency} allows.",
            field=field_name,
        )
    return amount


def check_budget(
    budget: Decimal | None, period: PeriodKind | None, currency: str
) -> None:
    """A budget period means nothing without a budget."""
    check_money(budget, currency, "budget")
    if budget is None and period is not None:
        raise BadUserInput("budgetPeriod needs a budget.", field="budgetPeriod")


def check_plan(spec: PlanSpec, currency: str) -> dict[str, str]:
    """The plan-level settings of a new plan; its titles by language."""
    check_name(spec.name)
    titles = check_titles(spec.titles, "titles")
    check_text(spec.description, "description")
    check_money(spec.approval_threshold, currency, "approvalThreshold", zero=True)
    check_budget(spec.budget, spec.budget_period, currency)
    return titles


def check_version(
    spec: VersionSpec,
    today: date,
    currency: str,
    metrics: Metrics,
    prefix: str = "",
) -> list[CheckedRule]:
    """A version's dates, cap and rules; its rules ready to save."""
    _check_dates(spec, today, prefix)
    check_money(spec.member_cap, currency, f"{prefix}memberCap")
    if (spec.member_cap is None) != (spec.cap_period is None):
        raise BadUserInput(
            "memberCap and capPeriod go together: set both or neither.",
            field=f"{prefix}capPeriod",
        )
    check_text(spec.note, f"{prefix}note")
    return check_rules(spec.rules, metrics, currency, f"{prefix}rules")


def _check_dates(spec: VersionSpec, today: date, prefix: str) -> None:
    # Activity already rated stays as it was paid: a version may only start
    # today or later. Paying the past again is the re-rating feature's job.
    if spec.effective_from < today:
        raise BadUserInput(
            f"effectiveFrom may not be before today ({today.isoformat()}).",
            field=f"{prefix}effectiveFrom",
        )
    until = spec.effective_until
    if until is not None and until <= spec.effective_from:
        raise BadUserInput(
            "effectiveUntil must be after effectiveFrom.",
            field=f"{prefix}effectiveUntil",
        )


def check_rules(
    rules: Sequence[RuleSpec], metrics: Metrics, currency: str, prefix: str
) -> list[CheckedRule]:
    """Up to 50 rules with distinct codes, each valid for its kind."""
    if len(rules) > MAX_RULES:
        raise BadUserInput(f"At most {MAX_RULES} rules.", field=prefix)
    seen: set[str] = set()
    checked = []
    for index, rule in enumerate(rules):
        where = f"{prefix}.{index}."
        if rule.code in seen:
            raise BadUserInput(
                f"Two rules share the code {rule.code!r}.", field=f"{where}code"
            )
        seen.add(rule.code)
        checked.append(_check_rule(rule, index, metrics, currency, where))
    return checked


def _check_rule(
    rule: RuleSpec, index: int, metrics: Metrics, currency: str, where: str
) -> CheckedRule:
    if _CODE.fullmatch(rule.code) is None:
        raise BadUserInput(
            "code must be 1 to 64 letters, digits, '_' or '-'.", field=f"{where}code"
        )
    title = check_text(rule.title, f"{where}title", MAX_NAME, required=True)
    titles = check_titles(rule.titles, f"{where}titles")
    params = _parsed(rule, where)
    metric = _metric(rule.metric, metrics, where)
    _check_needs(rule, params, metric, where)
    _check_cash(params, currency, where)
    return CheckedRule(rule, title, titles, metric.id if metric else None, index)


def _parsed(rule: RuleSpec, where: str) -> inc.RuleParams:
    if not isinstance(rule.params, Mapping):
        raise BadUserInput("params must be a JSON object.", field=f"{where}params")
    try:
        parsed = inc.parse_rule(rule.kind.value, rule.params)
    except inc.RuleError as error:
        path = f"{where}params"
        if error.field != "params":
            path = f"{path}.{error.field}"
        raise BadUserInput(str(error), field=path) from error
    # Only after parsing: settings it accepted nest a few levels at most.
    _check_no_nul(rule.params, f"{where}params")
    return parsed


def _check_no_nul(value: Any, path: str) -> None:
    """PostgreSQL's JSON cannot hold a NUL character anywhere in a text."""
    if isinstance(value, str) and "\x00" in value:
        raise BadUserInput("Texts may not contain NUL characters.", field=path)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_no_nul(key, path)
            _check_no_nul(item, f"{path}.{key}")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_no_nul(item, f"{path}.{index}")


def _metric(key: str | None, metrics: Metrics, where: str) -> MetricDefinition | None:
    if key is None:
        return None
    found = metrics.get(key.strip())
    if found is None:
        # Unknown here, whether or not another company has it.
        raise BadUserInput(
            f"No metric {key!r} in this company.", field=f"{where}metric"
        )
    return found


def _check_needs(
    rule: RuleSpec,
    params: inc.RuleParams,
    metric: MetricDefinition | None,
    where: str,
) -> None:
    """Each kind's metric and period kind, as the engine will use them."""
    if rule.kind in _NEED_METRIC_AND_PERIOD or rule.kind is RuleKind.GOAL_COMPLETION:
        _require(metric is not None, f"A {rule.kind} rule needs a metric.", where)
    if rule.kind in _NEED_METRIC_AND_PERIOD:
        _require_period(rule, where)
    if isinstance(params, inc.CommissionParams):
        _check_commission(rule, params, metric, where)
    if isinstance(params, inc.TargetBonusParams) and params.share > 0:
        _require(
            _sums_amounts(metric),
            "A target bonus paying a share needs a SUM_AMOUNT (sales) metric.",
            where,
        )
    if isinstance(params, inc.TeamThresholdParams):
        _check_team(params, metric, where)


def _check_commission(
    rule: RuleSpec,
    params: inc.CommissionParams,
    metric: MetricDefinition | None,
    where: str,
) -> None:
    # A commission's metric narrows it to the orders that metric counts.
    if metric is not None:
        _require(
            metric.activity_kind is ActivityKind.ORDER_CLOSED,
            "A commission's metric must count closed orders.",
            where,
        )
    tiers = params.tiers
    if tiers is not None and tiers.basis is inc.TierBasis.PERIOD:
        _require(
            _sums_amounts(metric),
            "Tiers on a PERIOD basis need a SUM_AMOUNT (sales) metric.",
            where,
        )
        _require_period(rule, where)


def _check_team(
    params: inc.TeamThresholdParams, metric: MetricDefinition | None, where: str
) -> None:
    if params.measure is inc.TeamMeasure.UPKEEP_RATE:
        _require(
            metric is not None
            and metric.activity_kind is ActivityKind.PLATFORM_SESSION
            and metric.aggregation is Aggregation.SUM_QUANTITY,
            "An upkeep rate needs a metric of platform minutes "
            "(PLATFORM_SESSION, SUM_QUANTITY).",
            where,
        )


def _sums_amounts(metric: MetricDefinition | None) -> bool:
    return metric is not None and metric.aggregation is Aggregation.SUM_AMOUNT


def _require(condition: bool, message: str, where: str) -> None:
    if not condition:
        raise BadUserInput(message, field=f"{where}metric")


def _require_period(rule: RuleSpec, where: str) -> None:
    if rule.period_kind is None:
        raise BadUserInput(
            f"A {rule.kind} rule needs a periodKind.", field=f"{where}periodKind"
        )


def _check_cash(params: inc.RuleParams, currency: str, where: str) -> None:
    """A fixed cash amount is paid as written: whole minor units only."""
    amount = getattr(params, "amount", None)
    if amount is not None and money.has_excess_places(amount, currency):
        raise BadUserInput(
            f"amount has more decimals than {currency} allows.",
            field=f"{where}params.amount",
        )


def check_audience(spec: AudienceSpec) -> None:
    """Ages in years and tenure in days: in range, lower bound not above upper."""
    _check_range(spec.min_age, spec.max_age, MAX_AGE, "minAge", "maxAge")
    _check_range(
        spec.min_tenure_days,
        spec.max_tenure_days,
        MAX_TENURE_DAYS,
        "minTenureDays",
        "maxTenureDays",
    )


def _check_range(
    low: int | None, high: int | None, limit: int, low_name: str, high_name: str
) -> None:
    for value, name in ((low, low_name), (high, high_name)):
        if value is not None and not 0 <= value <= limit:
            raise BadUserInput(f"{name} must be 0 to {limit}.", field=name)
    if low is not None and high is not None and low > high:
        raise BadUserInput(f"{low_name} is above {high_name}.", field=low_name)
