"""Scalars of the contract: strict DateTime and Date, string-encoded Decimal."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import strawberry
from strawberry.types.scalar import ScalarDefinition

from spur.api.errors import BadUserInput


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 instant; one without a UTC offset is refused."""
    if not isinstance(value, str):
        raise BadUserInput("DateTime must be an ISO 8601 string.", field="DateTime")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise BadUserInput(f"Not an ISO 8601 date-time: {value!r}.") from error
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise BadUserInput(f"Date-time {value!r} has no UTC offset.")
    return parsed


def serialize_datetime(value: datetime) -> str:
    """ISO 8601 with its offset."""
    return value.isoformat()


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(value: object) -> date:
    """A calendar date written YYYY-MM-DD."""
    if not isinstance(value, str) or _ISO_DATE.fullmatch(value) is None:
        raise BadUserInput(f'Date must look like "2026-10-01", not {value!r}.')
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise BadUserInput(f"Not a calendar date: {value!r}.") from error


def parse_decimal(value: object) -> Decimal:
    """A decimal number sent as a JSON string (floats would lose cents)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadUserInput('Decimal must be sent as a string such as "500.00".')
    text = str(value).strip()
    # Python's Decimal also reads "1_000" and other scripts' digits ("١٢٣").
    if not text.isascii() or "_" in text:
        raise BadUserInput(f"Not a decimal number: {value!r}.")
    try:
        parsed = Decimal(text)
    except InvalidOperation as error:
        raise BadUserInput(f"Not a decimal number: {value!r}.") from error
    if not parsed.is_finite():
        raise BadUserInput(f"Not a finite decimal number: {value!r}.")
    return parsed


SCALAR_MAP: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description="An ISO 8601 instant with a UTC offset.",
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    ),
    date: strawberry.scalar(
        name="Date",
        description="A calendar date, YYYY-MM-DD, in the company's time zone.",
        serialize=date.isoformat,
        parse_value=parse_date,
    ),
    Decimal: strawberry.scalar(
        name="Decimal",
        description='An exact decimal number as a JSON string, such as "500.00".',
        serialize=str,
        parse_value=parse_decimal,
    ),
}
"""Overrides Strawberry's built-in scalars with the contract's strict ones."""
