"""Incentive rules as pure functions: their settings, and what they pay.

A rule's settings arrive as a JSON object (`params`, decimals as strings) and
are checked once by `parse_rule`, which returns a typed value or raises
`RuleError` naming the setting. The functions below turn a rule and the
before/after values of what it watches into amounts; they round nothing (the
ledger rounds once per entry) and do no I/O.

Amounts follow one convention: a rule pays `F(after) - F(before)` of a pay
function `F` of what it watches, so a refund (a negative order) or a void
takes back exactly what the same amount earned, and re-rating compares
totals instead of replaying history.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from spur.engine.periods import Period


class RuleError(ValueError):
    """A rule setting that cannot be used; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class EntitlementKind(enum.StrEnum):
    """Non-cash rewards, each with the one detail that says how much."""

    TRAINING = "TRAINING"
    LEAD_ALLOCATION = "LEAD_ALLOCATION"
    HONOR_TITLE = "HONOR_TITLE"
    PAID_LEAVE = "PAID_LEAVE"
    EQUITY = "EQUITY"
    PROMOTION = "PROMOTION"


class TierMode(enum.StrEnum):
    SLAB = "SLAB"
    MARGINAL = "MARGINAL"


class TierBasis(enum.StrEnum):
    ORDER = "ORDER"
    PERIOD = "PERIOD"


class TeamMeasure(enum.StrEnum):
    TOTAL = "TOTAL"
    UPKEEP_RATE = "UPKEEP_RATE"


_E = TypeVar("_E", bound=enum.StrEnum)

# A count of something (leads, training places) must be whole; leave may be
# taken in half days; equity is a percentage.
_WHOLE_KINDS = frozenset({EntitlementKind.LEAD_ALLOCATION, EntitlementKind.TRAINING})
_TITLED_KINDS = frozenset(
    {EntitlementKind.HONOR_TITLE, EntitlementKind.PROMOTION, EntitlementKind.TRAINING}
)
MAX_STEPS_PER_ENTRY = 1000


@dataclass(frozen=True)
class Entitlement:
    """A non-cash reward: the kind, how many (days, leads, percent), a title
    and the title in other languages (by tag, such as "zh-CN")."""

    kind: EntitlementKind
    quantity: Decimal | None
    title: str | None
    titles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Band:
    """A tier `[lower, upper)` of the commission base; `upper` None is open."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal

    def label(self) -> str:
        upper = "∞" if self.upper is None else f"{self.upper:f}"
        return f"[{self.lower:f}, {upper})"


@dataclass(frozen=True)
class Tiers:
    mode: TierMode
    basis: TierBasis
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class Override:
    """A flat rate for orders in a market, a product category, or both."""

    market: str | None
    category: str | None
    rate: Decimal

    @property
    def precedence(self) -> int:
        """Lower wins: market and category, then category, then market."""
        if self.market is not None and self.category is not None:
            return 0
        return 1 if self.category is not None else 2


@dataclass(frozen=True)
class CommissionParams:
    rate: Decimal | None
    overrides: tuple[Override, ...]
    tiers: Tiers | None


@dataclass(frozen=True)
class StepParams:
    every: Decimal
    amount: Decimal | None
    entitlement: Entitlement | None
    max_steps: int | None = None


@dataclass(frozen=True)
class GoalCompletionParams:
    amount: Decimal | None
    entitlement: Entitlement | None


@dataclass(frozen=True)
class TargetBonusParams:
    share: Decimal
    target: Decimal | None
    entitlement: Entitlement | None


@dataclass(frozen=True)
class TeamThresholdParams:
    measure: TeamMeasure
    threshold: Decimal
    min_minutes: Decimal
    amount: Decimal | None
    entitlement: Entitlement | None


@dataclass(frozen=True)
class AppraisalStreakParams:
    """Granted when a member's yearly appraisals reach `grade` `years` in a row."""

    grade: str
    years: int
    entitlement: Entitlement


RuleParams = (
    CommissionParams
    | StepParams
    | GoalCompletionParams
    | TargetBonusParams
    | TeamThresholdParams
    | AppraisalStreakParams
)


# --- parsing -----------------------------------------------------------------


def parse_rule(kind: str, params: Mapping[str, Any]) -> RuleParams:
    """The typed settings of a rule of `kind`; RuleError on anything unusable.

    Unknown keys are refused too, so a typo never silently drops a setting.
    """
    parsers: dict[str, Callable[[_Reader], RuleParams]] = {
        "COMMISSION": _commission,
        "STEP": _step,
        "GOAL_COMPLETION": _goal_completion,
        "TARGET_BONUS": _target_bonus,
        "TEAM_THRESHOLD": _team_threshold,
        "APPRAISAL_STREAK": _appraisal_streak,
    }
    parser = parsers.get(kind)
    if parser is None:
        raise RuleError("kind", f"unknown rule kind {kind!r}")
    if not isinstance(params, Mapping):
        raise RuleError("params", "params must be an object")
    return parser(_Reader(params))


class _Reader:
    """Reads settings once each, then refuses whatever was not read."""

    def __init__(self, params: Mapping[str, Any], prefix: str = "") -> None:
        self.params, self.prefix, self.seen = params, prefix, set[str]()

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.params.get(key)

    def decimal(
        self, key: str, *, required: bool = False, positive: bool = False
    ) -> Decimal | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise RuleError(self.name(key), f"{self.name(key)} is required")
            return None
        number = _to_decimal(value, self.name(key))
        if number < 0 or (positive and number == 0):
            word = "greater than zero" if positive else "zero or more"
            raise RuleError(self.name(key), f"{self.name(key)} must be {word}")
        return number

    def text(self, key: str) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise RuleError(self.name(key), f"{self.name(key)} must be 1-200 chars")
        return value.strip()

    def choice(self, key: str, enum_type: type[_E], default: _E) -> _E:
        value = self.raw(key)
        if value is None:
            return default
        try:
            return enum_type(value)
        except ValueError:
            allowed = ", ".join(e.value for e in enum_type)
            raise RuleError(
                self.name(key), f"{self.name(key)} must be one of {allowed}"
            ) from None

    def finish(self) -> None:
        extra = sorted(set(self.params) - self.seen)
        if extra:
            raise RuleError(self.name(extra[0]), f"unknown setting {extra[0]!r}")


def _to_decimal(value: Any, field: str) -> Decimal:
    # Floats are refused: 0.1 in binary is not 0.1, and money must be exact.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RuleError(field, f"{field} must be a decimal string such as '0.05'")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise RuleError(field, f"{field} is not a number: {value!r}") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise RuleError(field, f"{field} is out of range")
    if number != round(number, 8):
        raise RuleError(field, f"{field} has more than 8 decimals")
    return number


def _rate(reader: _Reader, key: str, *, required: bool = False) -> Decimal | None:
    rate = reader.decimal(key, required=required)
    if rate is not None and rate > 1:
        raise RuleError(reader.name(key), f"{reader.name(key)} is a share: 0 to 1")
    return rate


def _entitlement(reader: _Reader) -> Entitlement | None:
    raw = reader.raw("entitlement")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise RuleError("entitlement", "entitlement must be an object")
    inner = _Reader(raw, "entitlement.")
    kind = inner.raw("kind")
    try:
        typed = EntitlementKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in EntitlementKind)
        raise RuleError("entitlement.kind", f"kind must be one of {allowed}") from None
    quantity = inner.decimal("quantity", positive=True)
    title = inner.text("title")
    titles = _titles(inner.raw("titles"))
    inner.finish()
    checked = _checked_entitlement(typed, quantity, title)
    if titles and title is None:
        raise RuleError("entitlement.titles", "titles translate a title: set title")
    return replace(checked, titles=titles)


def _titles(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or len(raw) > 10:
        raise RuleError("entitlement.titles", "titles map up to 10 language tags")
    for tag, text in raw.items():
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            raise RuleError(f"entitlement.titles.{tag}", "a title has 1-200 chars")
        if not 2 <= len(tag) <= 16:
            raise RuleError("entitlement.titles", f"not a language tag: {tag!r}")
    return {str(tag): text.strip() for tag, text in raw.items()}


def _checked_entitlement(
    kind: EntitlementKind, quantity: Decimal | None, title: str | None
) -> Entitlement:
    if kind in _WHOLE_KINDS:
        quantity = Decimal(1) if quantity is None else quantity
        if quantity != quantity.to_integral_value():
            raise RuleError("entitlement.quantity", f"a {kind} count is whole")
    if kind is EntitlementKind.PAID_LEAVE and quantity is None:
        raise RuleError("entitlement.quantity", "paid leave needs a number of days")
    if kind is EntitlementKind.EQUITY and (quantity is None or quantity > 100):
        raise RuleError("entitlement.quantity", "equity needs a percentage to 100")
    if kind in _TITLED_KINDS and title is None:
        raise RuleError("entitlement.title", f"a {kind} entitlement needs a title")
    return Entitlement(kind, quantity, title)


def _pays_something(amount: Decimal | None, entitlement: Entitlement | None) -> None:
    if amount is None and entitlement is None:
        raise RuleError("amount", "the rule pays nothing: set amount or entitlement")


def _commission(reader: _Reader) -> CommissionParams:
    rate = _rate(reader, "rate")
    overrides = tuple(_overrides(reader))
    tiers = _tiers(reader)
    reader.finish()
    if rate is None and tiers is None:
        raise RuleError("rate", "a commission needs a rate or tiers")
    if rate is not None and tiers is not None:
        raise RuleError("tiers", "set either a flat rate or tiers, not both")
    return CommissionParams(rate, overrides, tiers)


def _overrides(reader: _Reader) -> list[Override]:
    raw = reader.raw("overrides")
    raw = [] if raw is None else raw
    if not isinstance(raw, list) or len(raw) > 100:
        raise RuleError("overrides", "overrides must be a list of up to 100")
    found: list[Override] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise RuleError(f"overrides.{index}", "an override must be an object")
        inner = _Reader(item, f"overrides.{index}.")
        market = inner.text("market")
        category = inner.text("category")
        rate = _rate(inner, "rate", required=True)
        inner.finish()
        if market is None and category is None:
            raise RuleError(
                f"overrides.{index}", "an override needs a market or category"
            )
        assert rate is not None
        found.append(Override(market and market.upper(), category, rate))
    scopes = [(o.market, o.category and o.category.casefold()) for o in found]
    if len(set(scopes)) != len(scopes):
        raise RuleError("overrides", "two overrides cover the same orders")
    return found


def _tiers(reader: _Reader) -> Tiers | None:
    raw = reader.raw("tiers")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise RuleError("tiers", "tiers must be an object")
    inner = _Reader(raw, "tiers.")
    mode = inner.choice("mode", TierMode, TierMode.SLAB)
    basis = inner.choice("basis", TierBasis, TierBasis.ORDER)
    bands = _bands(inner.raw("bands"))
    inner.finish()
    return Tiers(mode, basis, bands)


def _bands(raw: Any) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= 50:
        raise RuleError("tiers.bands", "tiers need 1 to 50 bands")
    bands: list[Band] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise RuleError(f"tiers.bands.{index}", "a band must be an object")
        inner = _Reader(item, f"tiers.bands.{index}.")
        lower = inner.decimal("from", required=True)
        upper = inner.decimal("to")
        rate = _rate(inner, "rate", required=True)
        inner.finish()
        assert lower is not None
        assert rate is not None
        bands.append(Band(lower, upper, rate))
    _check_bands(bands)
    return tuple(bands)


def _check_bands(bands: Sequence[Band]) -> None:
    if bands[0].lower != 0:
        raise RuleError("tiers.bands.0.from", "the first band starts at 0")
    for index, band in enumerate(bands):
        last = index == len(bands) - 1
        if band.upper is None and not last:
            raise RuleError(f"tiers.bands.{index}.to", "only the last band is open")
        if band.upper is not None and band.upper <= band.lower:
            raise RuleError(f"tiers.bands.{index}.to", "a band ends after it starts")
        if not last and bands[index + 1].lower != band.upper:
            raise RuleError(
                f"tiers.bands.{index + 1}.from", "each band starts where the last ended"
            )
    if bands[-1].upper is not None:
        raise RuleError(f"tiers.bands.{len(bands) - 1}.to", "the last band is open")


def _step(reader: _Reader) -> StepParams:
    every = reader.decimal("every", required=True, positive=True)
    amount = reader.decimal("amount", positive=True)
    entitlement = _entitlement(reader)
    most = reader.decimal("maxSteps", positive=True)
    reader.finish()
    _pays_something(amount, entitlement)
    assert every is not None
    if most is not None and most != most.to_integral_value():
        raise RuleError("maxSteps", "maxSteps is a whole number")
    return StepParams(every, amount, entitlement, None if most is None else int(most))


def _goal_completion(reader: _Reader) -> GoalCompletionParams:
    amount = reader.decimal("amount", positive=True)
    entitlement = _entitlement(reader)
    reader.finish()
    _pays_something(amount, entitlement)
    return GoalCompletionParams(amount, entitlement)


def _target_bonus(reader: _Reader) -> TargetBonusParams:
    share = _rate(reader, "share", required=True)
    target = reader.decimal("target", positive=True)
    entitlement = _entitlement(reader)
    reader.finish()
    assert share is not None
    return TargetBonusParams(share, target, entitlement)


def _team_threshold(reader: _Reader) -> TeamThresholdParams:
    measure = reader.choice("measure", TeamMeasure, TeamMeasure.TOTAL)
    threshold = reader.decimal("threshold", required=True, positive=True)
    min_minutes = reader.decimal("minMinutes", positive=True) or Decimal(60)
    amount = reader.decimal("amount", positive=True)
    entitlement = _entitlement(reader)
    reader.finish()
    _pays_something(amount, entitlement)
    assert threshold is not None
    if measure is TeamMeasure.UPKEEP_RATE and threshold > 1:
        raise RuleError("threshold", "an upkeep rate is a share: 0 to 1")
    return TeamThresholdParams(measure, threshold, min_minutes, amount, entitlement)


_GRADES = ("EXCELLENT", "GOOD", "QUALIFIED", "UNQUALIFIED")


def _appraisal_streak(reader: _Reader) -> AppraisalStreakParams:
    grade = reader.text("grade") or "EXCELLENT"
    years = reader.decimal("years", positive=True) or Decimal(3)
    entitlement = _entitlement(reader)
    reader.finish()
    if grade not in _GRADES:
        raise RuleError("grade", f"grade must be one of {', '.join(_GRADES)}")
    if years != years.to_integral_value() or years > 50:
        raise RuleError("years", "years is a whole number up to 50")
    if entitlement is None:
        raise RuleError("entitlement", "an appraisal streak grants an entitlement")
    return AppraisalStreakParams(grade, int(years), entitlement)


def dump_entitlement(entitlement: Entitlement | None) -> dict[str, Any] | None:
    """The entitlement as stored in params (the inverse of parsing it)."""
    if entitlement is None:
        return None
    found: dict[str, Any] = {"kind": entitlement.kind.value}
    if entitlement.titles:
        found["titles"] = dict(entitlement.titles)
    if entitlement.quantity is not None:
        found["quantity"] = f"{entitlement.quantity:f}"
    if entitlement.title is not None:
        found["title"] = entitlement.title
    return found


# --- commission --------------------------------------------------------------


@dataclass(frozen=True)
class Commission:
    """What an order earns, with the inputs the ledger records."""

    amount: Decimal
    rate: Decimal | None
    tier: str | None
    source: str


def override_for(
    overrides: Sequence[Override], market: str | None, category: str | None
) -> Override | None:
    """The most specific override matching the order, by stated precedence."""
    wanted_market = market.upper() if market else None
    wanted_category = category.casefold() if category else None
    matching = [
        o
        for o in overrides
        if (o.market is None or o.market == wanted_market)
        and (o.category is None or o.category.casefold() == wanted_category)
    ]
    return min(matching, key=lambda o: o.precedence, default=None)


def band_for(bands: Sequence[Band], value: Decimal) -> Band:
    """The band whose half-open `[lower, upper)` holds `value` (≥ 0)."""
    for band in bands:
        if band.upper is None or value < band.upper:
            return band
    return bands[-1]


def slab_pay(bands: Sequence[Band], value: Decimal) -> Decimal:
    """The whole of `value` at the rate of the band it falls in."""
    return value * band_for(bands, value).rate


def marginal_pay(bands: Sequence[Band], value: Decimal) -> Decimal:
    """Each part of `value` at the rate of the band that part falls in."""
    total = Decimal(0)
    for band in bands:
        if value <= band.lower:
            break
        top = value if band.upper is None else min(value, band.upper)
        total += (top - band.lower) * band.rate
    return total


def _tier_pay(tiers: Tiers, value: Decimal) -> Decimal:
    # A negative value (a period net of refunds) pays the mirror image.
    pay = marginal_pay if tiers.mode is TierMode.MARGINAL else slab_pay
    return pay(tiers.bands, value) if value >= 0 else -pay(tiers.bands, -value)


def commission(
    params: CommissionParams,
    base: Decimal,
    market: str | None,
    category: str | None,
    period_before: Decimal = Decimal(0),
) -> Commission:
    """Commission on an order of `base` (negative for a refund).

    Precedence: an override for the order's market and category, then one
    for its category, then one for its market (each a flat rate), then the
    tiers, then the flat rate. Tiers on a PERIOD basis pay
    `F(total after) - F(total before)` of the period's sales, so a slab
    reached mid-period lifts the whole period (as slabs do), a marginal band
    only what falls in it.
    """
    override = override_for(params.overrides, market, category)
    if override is not None:
        return Commission(base * override.rate, override.rate, None, _where(override))
    tiers = params.tiers
    if tiers is None:
        assert params.rate is not None
        return Commission(base * params.rate, params.rate, None, "rate")
    if tiers.basis is TierBasis.ORDER:
        band = band_for(tiers.bands, abs(base))
        rate = band.rate if tiers.mode is TierMode.SLAB else None
        return Commission(_tier_pay(tiers, base), rate, band.label(), "tiers")
    after = period_before + base
    amount = _tier_pay(tiers, after) - _tier_pay(tiers, period_before)
    band = band_for(tiers.bands, abs(after))
    return Commission(amount, None, band.label(), "tiers")


def _where(override: Override) -> str:
    parts = [f"market={override.market}"] if override.market else []
    parts += [f"category={override.category}"] if override.category else []
    return "override:" + ",".join(parts)


# --- steps, targets, thresholds ----------------------------------------------


@dataclass(frozen=True)
class Steps:
    """Steps `first..last` (numbered from 1) newly reached; `count` of them."""

    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def steps_reached(
    paid_through: int, value: Decimal, every: Decimal, most: int | None = None
) -> Steps | None:
    """Steps of `every` units that `value` reaches beyond those already paid.

    `paid_through` is the highest step paid so far in the period; a value
    that fell (a void) and rises again pays no step twice. `most` bounds the
    steps a period pays (one training place a week, say).
    """
    reached = math.floor(value / every) if value > 0 else 0
    if most is not None:
        reached = min(reached, most)
    if reached <= paid_through:
        return None
    return Steps(paid_through + 1, reached)


def target_bonus(
    share: Decimal, target: Decimal, before: Decimal, after: Decimal
) -> Decimal:
    """`F(after) - F(before)` where F pays `share` of the total once it meets
    the target: crossing pays on everything so far, later orders pay their
    share, and a refund that drops below the target takes it back.
    """

    def pay(total: Decimal) -> Decimal:
        return total * share if total >= target else Decimal(0)

    return pay(after) - pay(before)


def crossed(before: Decimal, after: Decimal, line: Decimal) -> bool:
    """True when a value rises from below `line` to at least `line`."""
    return before < line <= after


def working_days(period: Period) -> int:
    """Monday-to-Friday dates in the period (public holidays not modelled)."""
    first, last = period.start_date, period.end.date()
    return sum(1 for d in _dates(first, last) if d.weekday() < 5)


def _dates(first: date, end: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((end - first).days)]


def upkeep_days_needed(threshold: Decimal, headcount: int, days: int) -> int:
    """Member-days of upkeep a team needs for `threshold` of its possible days.

    The platform upkeep rate of a team in a period is the share of its
    members' working days on which they tended the storefront for at least
    the rule's minutes (an hour unless set). It only grows, so the rule pays
    the moment enough days are in, not at the period's end.
    """
    return max(1, math.ceil(threshold * headcount * days))


def capped(amount: Decimal, used: Decimal, cap: Decimal | None) -> Decimal:
    """The part of a positive `amount` that fits under `cap` after `used`.

    Negative amounts (refunds, voids) pass whole: they give room back.
    """
    if cap is None or amount <= 0:
        return amount
    return max(Decimal(0), min(amount, cap - used))


# --- who a plan covers -------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A version's dates: in force on `[start, end)`; `end` None is open."""

    version_id: int
    number: int
    start: date
    end: date | None


def version_in_force(spans: Sequence[Span], day: date) -> int | None:
    """The version of a plan in force on `day`: the latest started, unended."""
    started = [s for s in spans if s.start <= day]
    if not started:
        return None
    latest = max(started, key=lambda s: (s.start, s.number))
    if latest.end is not None and day >= latest.end:
        return None
    return latest.version_id


@dataclass(frozen=True)
class Audience:
    """Who an assignment covers; every set condition must hold."""

    team_id: int | None = None
    member_id: int | None = None
    min_age: int | None = None
    max_age: int | None = None
    min_tenure_days: int | None = None
    max_tenure_days: int | None = None
    preference: str | None = None


@dataclass(frozen=True)
class Person:
    member_id: int
    team_id: int | None
    birth_date: date | None
    hire_date: date | None
    preference: str | None


def age_on(birth: date, day: date) -> int:
    """Whole years from `birth` to `day` (a 29 February birthday ages on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def covers(audience: Audience, person: Person, day: date) -> bool:
    """Whether an assignment covers `person` on `day`."""
    if audience.team_id is not None and audience.team_id != person.team_id:
        return False
    if audience.member_id is not None and audience.member_id != person.member_id:
        return False
    if audience.preference is not None and audience.preference != person.preference:
        return False
    return _within(
        audience.min_age, audience.max_age, person.birth_date, day, True
    ) and (
        _within(
            audience.min_tenure_days,
            audience.max_tenure_days,
            person.hire_date,
            day,
            False,
        )
    )


def _within(
    low: int | None, high: int | None, since: date | None, day: date, years: bool
) -> bool:
    if low is None and high is None:
        return True
    if since is None:
        return False
    value = age_on(since, day) if years else (day - since).days
    return (low is None or value >= low) and (high is None or value <= high)
