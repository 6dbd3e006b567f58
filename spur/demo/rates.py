"""Daily exchange rates into CNY, a small seeded walk around plausible values."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

RATE_PLACES = Decimal("0.0001")
# Rates are published ahead so that live recording keeps working for a month.
DAYS_AHEAD = 30


@dataclass(frozen=True)
class Drift:
    """A floating currency: where it starts and the band it stays in."""

    currency: str
    low: float
    high: float
    daily_step: float


_FLOATING = (
    Drift("USD", 7.10, 7.25, 0.006),
    Drift("EUR", 7.70, 7.90, 0.012),
    Drift("GBP", 9.00, 9.30, 0.015),
    Drift("SGD", 5.25, 5.36, 0.008),
    Drift("MYR", 1.52, 1.58, 0.003),
    Drift("THB", 0.198, 0.206, 0.0004),
)
# The dirham and the riyal are pegged to the US dollar.
_PEGGED_TO_USD = {"AED": 3.6725, "SAR": 3.75}

CURRENCIES: tuple[str, ...] = tuple(d.currency for d in _FLOATING) + tuple(
    _PEGGED_TO_USD
)


def _walk(drift: Drift, days: int, rng: random.Random) -> list[float]:
    middle = (drift.low + drift.high) / 2
    value = rng.uniform(drift.low, drift.high)
    path = []
    for _ in range(days):
        # Pulled gently to the middle of the band, so it wanders but stays.
        value += 0.1 * (middle - value) + rng.gauss(0.0, drift.daily_step)
        value = min(drift.high, max(drift.low, value))
        path.append(value)
    return path


def _rate(value: float) -> Decimal:
    return Decimal(str(value)).quantize(RATE_PLACES)


def daily_rates(first: date, last: date, seed: int) -> dict[tuple[str, date], Decimal]:
    """CNY per unit of each currency for every day from `first` to `last`."""
    rng = random.Random(f"{seed}:rates")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    rates: dict[tuple[str, date], Decimal] = {}
    for drift in _FLOATING:
        for day, value in zip(days, _walk(drift, len(days), rng), strict=True):
            rates[drift.currency, day] = _rate(value)
    for currency, per_dollar in _PEGGED_TO_USD.items():
        for day in days:
            rates[currency, day] = _rate(float(rates["USD", day]) / per_dollar)
    return rates
