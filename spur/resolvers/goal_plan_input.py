"""Checking a goal plan before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from spur.api.errors import BadUserInput
from spur.engine import money
from spur.engine.metrics import Aggregation
from spur.engine.periods import Period, PeriodKind
from spur.models import CASH_KINDS, RewardKind

# Goal values are stored with four decimals (ScaledDecimalField(scale=4)).
STORED_PLACES = 4
MAX_TARGET = Decimal(10) ** 12
# Leaves room in the 200-character column for a child's " · 2026-W53".
MAX_TITLE = 180
MAX_REWARD_TITLE = 200
MAX_REWARDS = 10


@dataclass(frozen=True)
class RewardSpec:
    """What completing the goal in one of its periods earns."""

    kind: RewardKind
    title: str
    amount: Decimal | None = None
    quantity: Decimal | None = None


@dataclass(frozen=True)
class SplitSpec:
    """Children of a finer period kind, evenly or by one weight per child."""

    kind: PeriodKind
    weights: tuple[Decimal, ...] | None = None


@dataclass(frozen=True)
class GoalSpec:
    """A goal as the planner asked for it: exactly one of member and team."""

    metric: str
    title: str
    period_kind: PeriodKind
    target: Decimal
    starts_on: date
    member_id: int | None = None
    team_id: int | None = None
    recurring: bool = False
    rewards: tuple[RewardSpec, ...] = ()
    split: SplitSpec | None = None


def check_spec(spec: GoalSpec) -> None:
    """Refuse what is wrong whatever the metric, with `BAD_USER_INPUT`."""
    if (spec.member_id is None) == (spec.team_id is None):
        raise BadUserInput("Give exactly one of memberId and teamId.", field="memberId")
    _check_title(spec.title, MAX_TITLE, "title")
    if not 0 < spec.target < MAX_TARGET:
        raise BadUserInput("target must be greater than zero.", field="target")
    if len(spec.rewards) > MAX_REWARDS:
        raise BadUserInput(f"At most {MAX_REWARDS} rewards.", field="rewards")
    if spec.split is not None and spec.recurring:
        raise BadUserInput(
            "Only a goal for one period can be split; this one recurs.",
            field="split",
        )


def _check_title(title: str, limit: int, field: str) -> None:
    if not 0 < len(title.strip()) <= limit:
        raise BadUserInput(f"{field} must have 1 to {limit} characters.", field=field)
    check_text(title, field)


def check_text(text: str, field: str) -> None:
    """PostgreSQL text cannot hold a NUL character, so none is accepted."""
    if "\x00" in text:
        raise BadUserInput(f"{field} may not contain NUL characters.", field=field)


def check_target(target: Decimal, aggregation: Aggregation, currency: str) -> None:
    """A sales target is money in the company currency; others fit storage."""
    if aggregation is Aggregation.SUM_AMOUNT:
        if money.has_excess_places(target, currency):
            raise BadUserInput(
                f"target {target} has more decimals than {currency} allows.",
                field="target",
            )
    elif _has_excess_places(target, STORED_PLACES):
        raise BadUserInput(
            f"target has more than {STORED_PLACES} decimals.", field="target"
        )


def target_places(aggregation: Aggregation, target: Decimal, currency: str) -> int:
    """Decimals of a child's share: cents for money, whole counts stay whole."""
    if aggregation is Aggregation.SUM_AMOUNT:
        return money.minor_units(currency)
    if aggregation is Aggregation.COUNT and target == target.to_integral_value():
        return 0
    return STORED_PLACES


def _has_excess_places(value: Decimal, places: int) -> bool:
    return value != round(value, places)


def checked_rewards(rewards: Sequence[RewardSpec], currency: str) -> list[RewardSpec]:
    """Every reward valid, cash amounts rounded to the currency's minor unit."""
    return [
        _checked(reward, f"rewards[{n}]", currency) for n, reward in enumerate(rewards)
    ]


def _checked(reward: RewardSpec, field: str, currency: str) -> RewardSpec:
    _check_title(reward.title, MAX_REWARD_TITLE, f"{field}.title")
    if reward.kind in CASH_KINDS:
        return _checked_cash(reward, field, currency)
    if reward.amount is not None:
        raise BadUserInput(
            f"A {reward.kind.value} reward has no amount.", field=f"{field}.amount"
        )
    quantity = reward.quantity
    if quantity is not None and (
        not 0 < quantity < MAX_TARGET or _has_excess_places(quantity, STORED_PLACES)
    ):
        raise BadUserInput(
            f"quantity must be greater than zero with at most {STORED_PLACES} "
            "decimals.",
            field=f"{field}.quantity",
        )
    return RewardSpec(reward.kind, reward.title.strip(), quantity=quantity)


def _checked_cash(reward: RewardSpec, field: str, currency: str) -> RewardSpec:
    amount = reward.amount
    if amount is None or not 0 < amount < MAX_TARGET:
        raise BadUserInput(
            f"A {reward.kind.value} reward needs an amount greater than zero.",
            field=f"{field}.amount",
        )
    if money.has_excess_places(amount, currency):
        raise BadUserInput(
            f"{amount} has more decimals than {currency} allows.",
            field=f"{field}.amount",
        )
    if reward.quantity is not None:
        raise BadUserInput(
            "A cash reward has an amount, not a quantity.", field=f"{field}.quantity"
        )
    return RewardSpec(
        reward.kind, reward.title.strip(), money.quantize(amount, currency)
    )


def check_weights(
    weights: Sequence[Decimal] | None, children: Sequence[Period]
) -> None:
    """One non-negative weight per child period, not all of them zero."""
    if weights is None:
        return
    if len(weights) != len(children):
        first, last = children[0].label, children[-1].label
        raise BadUserInput(
            f"Give one weight per child period: {len(children)} from {first} to "
            f"{last}, not {len(weights)}.",
            field="split.weights",
        )
    if any(weight < 0 for weight in weights):
        raise BadUserInput("Weights must not be negative.", field="split.weights")
    # Compared only: arithmetic on an absurd exponent overflows the context.
    if any(weight >= MAX_TARGET for weight in weights):
        raise BadUserInput(
            f"Weights must be below {MAX_TARGET:f}.", field="split.weights"
        )
    if not any(weight > 0 for weight in weights):
        raise BadUserInput("Weights must not all be zero.", field="split.weights")
