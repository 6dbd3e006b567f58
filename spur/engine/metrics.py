"""How recorded sales activities count towards goal metrics."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


class Aggregation(enum.Enum):
    """How matching activities are folded into a metric value."""

    COUNT = "COUNT"
    SUM_AMOUNT = "SUM_AMOUNT"
    SUM_QUANTITY = "SUM_QUANTITY"
    # Sums that become averages when divided by a count metric: minutes to
    # reply (over replies), customer ratings (over ratings).
    SUM_REPLY_MIN = "SUM_REPLY_MIN"
    SUM_RATING = "SUM_RATING"


class ActivityKind(enum.Enum):
    """What a salesperson did on the trading platform or with a customer."""

    PLATFORM_SESSION = "PLATFORM_SESSION"
    PRODUCT_POSTED = "PRODUCT_POSTED"
    PRODUCT_OPTIMIZED = "PRODUCT_OPTIMIZED"
    INQUIRY_RECEIVED = "INQUIRY_RECEIVED"
    INQUIRY_REPLIED = "INQUIRY_REPLIED"
    CUSTOMER_FOLLOW_UP = "CUSTOMER_FOLLOW_UP"
    ORDER_CLOSED = "ORDER_CLOSED"
    CUSTOMER_RATING = "CUSTOMER_RATING"


@dataclass(frozen=True)
class MetricSpec:
    """A measurable quantity a goal tracks; ``None`` filters match anything."""

    key: str
    activity_kind: ActivityKind
    aggregation: Aggregation
    market: str | None = None
    product_category: str | None = None
    new_customer: bool | None = None
    reply_within_minutes: int | None = None


@dataclass(frozen=True)
class ActivityFacts:
    """The facts about one recorded activity that metrics can filter on.

    ``quantity`` is minutes for a PLATFORM_SESSION and a count otherwise;
    ``amount`` is already converted to the company currency.
    """

    kind: ActivityKind
    quantity: Decimal
    amount: Decimal | None
    market: str | None
    product_category: str | None
    new_customer: bool | None
    response_minutes: int | None
    rating: Decimal | None


def _same_name(wanted: str | None, actual: str | None) -> bool:
    # Markets and categories are typed by people ("Germany", "germany").
    if wanted is None:
        return True
    return actual is not None and wanted.casefold() == actual.casefold()


def _replied_in_time(limit: int | None, response_minutes: int | None) -> bool:
    if limit is None:
        return True
    return response_minutes is not None and response_minutes <= limit


def matches(spec: MetricSpec, facts: ActivityFacts) -> bool:
    """True if the activity is of the spec's kind and passes every set filter.

    Market and product category compare case-insensitively; a reply-time
    filter of N minutes needs a known response time of at most N minutes.
    """
    return (
        facts.kind is spec.activity_kind
        and _same_name(spec.market, facts.market)
        and _same_name(spec.product_category, facts.product_category)
        and (spec.new_customer is None or facts.new_customer is spec.new_customer)
        and _replied_in_time(spec.reply_within_minutes, facts.response_minutes)
    )


def contribution(spec: MetricSpec, facts: ActivityFacts) -> Decimal:
    """How much one activity adds to the metric (zero if it does not match).

    COUNT adds one per activity, SUM_QUANTITY adds the quantity and
    SUM_AMOUNT adds the amount (zero when the activity has none). A refund
    (an order with a negative amount) counts minus one: it undoes an order.
    """
    if not matches(spec, facts):
        return Decimal(0)
    if spec.aggregation is Aggregation.COUNT:
        refund = facts.amount is not None and facts.amount < 0
        return Decimal(-1) if refund else Decimal(1)
    if spec.aggregation is Aggregation.SUM_QUANTITY:
        return facts.quantity
    if spec.aggregation is Aggregation.SUM_REPLY_MIN:
        return Decimal(facts.response_minutes or 0)
    if spec.aggregation is Aggregation.SUM_RATING:
        return facts.rating if facts.rating is not None else Decimal(0)
    return facts.amount if facts.amount is not None else Decimal(0)


def contributions(
    specs: Iterable[MetricSpec], facts: ActivityFacts
) -> dict[str, Decimal]:
    """Non-zero contributions of one activity, keyed by metric key.

    Raises ValueError if two specs share a key, since their sums would be
    indistinguishable.
    """
    found: dict[str, Decimal] = {}
    seen: set[str] = set()
    for spec in specs:
        if spec.key in seen:
            raise ValueError(f"duplicate metric key: {spec.key!r}")
        seen.add(spec.key)
        value = contribution(spec, facts)
        if value != 0:
            found[spec.key] = value
    return found
