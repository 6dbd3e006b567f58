"""Currency amounts: minor units, rounding, conversion and display."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext
from types import MappingProxyType

# Decimal places of each currency's minor unit, per ISO 4217.
MINOR_UNITS: Mapping[str, int] = MappingProxyType(
    {
        # East and South-East Asia
        "CNY": 2,
        "HKD": 2,
        "TWD": 2,
        "JPY": 0,
        "KRW": 0,
        "SGD": 2,
        "MYR": 2,
        "THB": 2,
        "IDR": 2,
        "VND": 0,
        "PHP": 2,
        # South Asia and Oceania
        "INR": 2,
        "PKR": 2,
        "BDT": 2,
        "AUD": 2,
        "NZD": 2,
        # Middle East, Türkiye and North Africa
        "AED": 2,
        "SAR": 2,
        "QAR": 2,
        "KWD": 3,
        "BHD": 3,
        "OMR": 3,
        "JOD": 3,
        "IQD": 3,
        "ILS": 2,
        "TRY": 2,
        "EGP": 2,
        "TND": 3,
        "LYD": 3,
        # Europe
        "EUR": 2,
        "GBP": 2,
        "CHF": 2,
        "SEK": 2,
        "NOK": 2,
        "DKK": 2,
        "PLN": 2,
        "CZK": 2,
        "HUF": 2,
        "RUB": 2,
        # The Americas
        "USD": 2,
        "CAD": 2,
        "MXN": 2,
        "BRL": 2,
        "CLP": 0,
        "COP": 2,
        "PEN": 2,
        "ARS": 2,
        # Sub-Saharan Africa
        "ZAR": 2,
        "NGN": 2,
        "KES": 2,
    }
)

_CODE = re.compile(r"[A-Z]{3}")

# Enough digits that amount × rate is exact before the single rounding step.
_WORKING_PRECISION = 60


class UnknownCurrency(ValueError):
    """A currency code that is malformed or has no known minor unit."""


def minor_units(currency: str) -> int:
    """Decimal places of the minor unit of ``currency`` (e.g. 2 for CNY).

    Raises UnknownCurrency unless ``currency`` is a known ISO 4217 code in
    three uppercase letters.
    """
    if _CODE.fullmatch(currency) is None:
        raise UnknownCurrency(f"not a currency code: {currency!r}")
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency: {currency}") from None


def _require_finite(amount: Decimal, name: str) -> None:
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite number, got {amount}")


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up (away from zero on .5) to the minor unit."""
    _require_finite(amount, "amount")
    quantum = Decimal(1).scaleb(-minor_units(currency))
    with localcontext(prec=_WORKING_PRECISION):
        return amount.quantize(quantum, ROUND_HALF_UP)


def has_excess_places(amount: Decimal, currency: str) -> bool:
    """True if ``amount`` is not a whole number of minor units.

    Trailing zeros do not count: ``1.500`` is a valid CNY amount, ``1.005``
    is not.
    """
    return quantize(amount, currency) != amount


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """``amount`` × ``rate``, rounded half-up to the minor unit of ``currency``.

    ``currency`` is the target currency and ``rate`` must be positive.
    """
    _require_finite(amount, "amount")
    _require_finite(rate, "rate")
    if rate <= 0:
        raise ValueError(f"exchange rate must be positive, got {rate}")
    with localcontext(prec=_WORKING_PRECISION):
        return quantize(amount * rate, currency)


def format_money(amount: Decimal, currency: str) -> str:
    """``amount`` for messages, e.g. ``500.00 CNY`` or ``1200 JPY``."""
    rounded = quantize(amount, currency)
    # Rounding a tiny negative amount leaves "-0.00", which reads as a debt.
    if rounded.is_zero():
        rounded = rounded.copy_abs()
    return f"{rounded:f} {currency}"
