"""Generated activities before they are stored, and small sampling helpers."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from spur.engine.metrics import ActivityFacts, ActivityKind

ONE = Decimal(1)
CATEGORIES = ("womenswear", "menswear", "kidswear", "outerwear", "accessories")


@dataclass(frozen=True, slots=True)
class Draft:
    """One generated activity of the salesperson at index `owner` of the people."""

    owner: int
    kind: ActivityKind
    at: datetime
    quantity: Decimal = ONE
    market: str | None = None
    product_category: str | None = None
    customer_ref: str | None = None
    new_customer: bool | None = None
    response_minutes: int | None = None
    rating: Decimal | None = None
    amount: Decimal | None = None
    currency: str | None = None
    amount_company: Decimal | None = None
    exchange_rate: Decimal | None = None

    def facts(self) -> ActivityFacts:
        """What the metric engine sees; amounts are in the company currency."""
        return ActivityFacts(
            kind=self.kind,
            quantity=self.quantity,
            amount=self.amount_company,
            market=self.market,
            product_category=self.product_category,
            new_customer=self.new_customer,
            response_minutes=self.response_minutes,
            rating=self.rating,
        )


def poisson(mean: float, rng: random.Random) -> int:
    """A Poisson draw (Knuth's method, fine for the small means used here)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def stochastic_round(value: float, rng: random.Random) -> int:
    """`value` rounded up with probability equal to its fraction, else down.

    Unbiased, so quotas rounded this way add up to the intended totals.
    """
    whole = math.floor(value)
    return whole + int(rng.random() < value - whole)


def normalised(values: list[float]) -> list[float]:
    """`values` scaled so that their mean is exactly one."""
    mean = sum(values) / len(values)
    return [value / mean for value in values]
