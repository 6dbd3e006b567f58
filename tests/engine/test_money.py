from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine.money import (
    MINOR_UNITS,
    UnknownCurrency,
    convert,
    format_money,
    has_excess_places,
    minor_units,
    quantize,
)

REQUIRED = [
    "CNY",
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "KRW",
    "HKD",
    "SGD",
    "MYR",
    "THB",
    "IDR",
    "VND",
    "PHP",
    "AED",
    "SAR",
    "QAR",
    "KWD",
    "BHD",
    "OMR",
    "JOD",
    "TRY",
    "INR",
    "AUD",
    "CAD",
    "MXN",
    "BRL",
    "CHF",
]


@pytest.mark.parametrize("currency", REQUIRED)
def test_required_currencies_are_known(currency: str) -> None:
    assert currency in MINOR_UNITS


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("CNY", 2),
        ("USD", 2),
        ("IDR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("VND", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("OMR", 3),
        ("JOD", 3),
    ],
)
def test_minor_units(currency: str, places: int) -> None:
    assert minor_units(currency) == places


@pytest.mark.parametrize("code", ["XYZ", "cny", "CN", "CNYY", "", "C1Y"])
def test_unknown_or_malformed_currency(code: str) -> None:
    with pytest.raises(UnknownCurrency, match=code or "''"):
        minor_units(code)


def test_unknown_currency_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="XYZ"):
        quantize(Decimal(1), "XYZ")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "CNY", "2.35"),
        ("2.344", "CNY", "2.34"),
        ("2.3", "CNY", "2.30"),
        ("-2.345", "CNY", "-2.35"),
        ("100.5", "JPY", "101"),
        ("100.4", "JPY", "100"),
        ("1.2345", "KWD", "1.235"),
    ],
)
def test_quantize_rounds_half_up(amount: str, currency: str, expected: str) -> None:
    rounded = quantize(Decimal(amount), currency)
    assert rounded == Decimal(expected)
    assert str(rounded) == expected


def test_quantize_refuses_non_finite_amounts() -> None:
    with pytest.raises(ValueError, match="finite"):
        quantize(Decimal("NaN"), "CNY")


@pytest.mark.parametrize(
    ("amount", "currency", "excess"),
    [
        ("1.005", "CNY", True),
        ("1.50", "CNY", False),
        ("1.500", "CNY", False),
        ("1", "CNY", False),
        ("100", "JPY", False),
        ("100.5", "JPY", True),
        ("100.0", "JPY", False),
        ("1.234", "KWD", False),
        ("1.2345", "KWD", True),
        ("1E+3", "USD", False),
    ],
)
def test_has_excess_places(amount: str, currency: str, excess: bool) -> None:
    assert has_excess_places(Decimal(amount), currency) is excess


def test_convert_usd_to_cny() -> None:
    # 12345.67 × 7.1234 = 86419.69 + 1523.455678 = 87943.145678 exactly; the
    # third decimal is 5, so half-up gives .15 (not .14).
    assert Decimal("12345.67") * Decimal("7.1234") == Decimal("87943.145678")
    assert convert(Decimal("12345.67"), Decimal("7.1234"), "CNY") == Decimal("87943.15")


def test_convert_rounds_to_the_target_currency() -> None:
    assert convert(Decimal("100.00"), Decimal("151.235"), "JPY") == Decimal(15124)
    assert convert(Decimal("1000"), Decimal("0.3071"), "KWD") == Decimal("307.100")


def test_convert_refuses_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="rate"):
        convert(Decimal(1), Decimal(0), "CNY")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("500", "CNY", "500.00 CNY"),
        ("1234567.891", "USD", "1234567.89 USD"),
        ("1200", "JPY", "1200 JPY"),
        ("1E+3", "EUR", "1000.00 EUR"),
        ("-0.001", "CNY", "0.00 CNY"),
        ("-12.5", "CNY", "-12.50 CNY"),
        ("0.0000001", "USD", "0.00 USD"),
    ],
)
def test_format_money(amount: str, currency: str, text: str) -> None:
    assert format_money(Decimal(amount), currency) == text


@given(
    amount=st.decimals(min_value=-(10**12), max_value=10**12, places=6),
    currency=st.sampled_from(sorted(MINOR_UNITS)),
)
def test_quantized_amounts_have_no_excess_places(
    amount: Decimal, currency: str
) -> None:
    rounded = quantize(amount, currency)
    assert not has_excess_places(rounded, currency)
    assert abs(rounded - amount) <= Decimal(1).scaleb(-minor_units(currency)) / 2
    assert quantize(rounded, currency) == rounded
