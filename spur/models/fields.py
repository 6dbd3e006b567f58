"""Storage for exact numbers that sorts and sums alike on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tortoise.fields import BigIntField
from tortoise.fields.db_defaults import SqlDefault

# An empty JSON object as the column default, so adding a `titles` column to a
# table with rows works on both databases (SQLite needs a non-NULL default).
NO_TITLES = SqlDefault("'{}'")


class ScaledDecimalField(BigIntField):
    """A `Decimal` kept as a whole number of 10**-scale units.

    Tortoise's `DecimalField` is text on SQLite, where `ORDER BY` and `SUM`
    then disagree with PostgreSQL; an integer column behaves the same on both.
    """

    def __init__(self, scale: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale
        self._factor = Decimal(10) ** scale

    def to_db_value(self, value: Any, instance: Any) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * self._factor
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def to_python_value(self, value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(int(value)) / self._factor

    def to_storage(self, value: Decimal) -> int:
        """The integer stored for `value`, for raw SQL arithmetic."""
        stored = self.to_db_value(value, None)
        assert stored is not None
        return stored
