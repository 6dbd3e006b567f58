"""The company's exchange rates by date: read, and set in bulk by HR admins.

A rate is the number of company-currency units one unit of `currency` buys
on a date; an order in that currency on that local date converts at it, and
the rate used is copied onto the activity, so changing a rate later changes
nothing already recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput
from spur.engine import money
from spur.models import ExchangeRate
from spur.models.fields import ScaledDecimalField
from spur.models.upserts import placeholders

logger = logging.getLogger(__name__)
MAX_RATES = 1000
RATE_PLACES = 8
MAX_RATE = Decimal(10) ** 9
# Rows per statement: 4 bind values each stays far below both databases' caps.
CHUNK = 250
RATE_STORAGE = ScaledDecimalField(scale=RATE_PLACES)  # ExchangeRate.rate


@dataclass(frozen=True)
class RateSpec:
    """One rate as the client sent it."""

    currency: str
    on_date: date
    rate: Decimal


def check_rates(rates: Sequence[RateSpec], company_currency: str) -> list[RateSpec]:
    """1 to 1000 rates, each once per currency and date; codes uppercased."""
    if not 0 < len(rates) <= MAX_RATES:
        raise BadUserInput(f"Send 1 to {MAX_RATES} rates.", field="rates")
    checked: dict[tuple[str, date], RateSpec] = {}
    for index, spec in enumerate(rates):
        rate = _checked(spec, company_currency, f"rates.{index}")
        if (rate.currency, rate.on_date) in checked:
            raise BadUserInput(
                f"{rate.currency} on {rate.on_date} is given twice.",
                field=f"rates.{index}.date",
            )
        checked[(rate.currency, rate.on_date)] = rate
    return list(checked.values())


def _checked(spec: RateSpec, company_currency: str, where: str) -> RateSpec:
    code = spec.currency.strip().upper()
    try:
        money.minor_units(code)
    except money.UnknownCurrency as error:
        raise BadUserInput(
            f"Unknown currency {spec.currency!r}.", field=f"{where}.currency"
        ) from error
    if code == company_currency:
        raise BadUserInput(
            f"{code} is the company currency: its rate is always 1.",
            field=f"{where}.currency",
        )
    return RateSpec(code, spec.on_date, check_rate(spec.rate, f"{where}.rate"))


def check_rate(rate: Decimal, field: str) -> Decimal:
    """Greater than zero, below a billion, with at most 8 decimals."""
    if not 0 < rate < MAX_RATE:
        raise BadUserInput(
            f"A rate must be greater than zero and below {MAX_RATE:f}.", field=field
        )
    if rate != round(rate, RATE_PLACES):
        raise BadUserInput(f"A rate has at most {RATE_PLACES} decimals.", field=field)
    return rate


async def set_rates(viewer: Viewer, rates: Sequence[RateSpec]) -> list[ExchangeRate]:
    """Insert or replace each (currency, date) rate of the company, all or none."""
    checked = check_rates(rates, viewer.currency)

    async with in_transaction() as conn:
        ids: list[int] = []
        for start in range(0, len(checked), CHUNK):
            chunk = checked[start : start + CHUNK]
            ids += await _upsert(conn, viewer.company_id, chunk)
        saved = await ExchangeRate.filter(id__in=ids).using_db(conn)

    logger.info("%s exchange rates set by member %s", len(saved), viewer.member_id)
    order = {key: n for n, key in enumerate(ids)}
    return sorted(saved, key=lambda row: order[row.id])


async def _upsert(
    conn: BaseDBAsyncClient, company_id: int, rates: Sequence[RateSpec]
) -> list[int]:
    """One atomic statement: a concurrent writer of the same date cannot
    slip between a read and a write."""
    rows: list[str] = []
    values: list[Any] = []
    for rate in rates:
        marks = placeholders(conn, 4, start=len(values) + 1)
        rows.append(f"({', '.join(marks)})")
        values += [
            company_id,
            rate.currency,
            rate.on_date,
            RATE_STORAGE.to_storage(rate.rate),
        ]
    # Only bind markers are formatted into the SQL.
    sql = (
        "INSERT INTO exchange_rate (company_id, currency, on_date, rate) "  # noqa: S608
        f"VALUES {', '.join(rows)} "
        "ON CONFLICT (company_id, currency, on_date) "
        "DO UPDATE SET rate = excluded.rate RETURNING id"
    )
    # execute_query_dict: asyncpg's execute_query drops RETURNING rows of writes.
    found = await conn.execute_query_dict(sql, values)
    return [int(row["id"]) for row in found]


async def list_rates(
    viewer: Viewer,
    currency: str | None,
    since: date | None,
    until: date | None,
    offset: int,
    limit: int,
) -> list[ExchangeRate]:
    """A page of rates by date then currency, `since` and `until` included."""
    query = ExchangeRate.filter(company_id=viewer.company_id)
    if currency is not None:
        query = query.filter(currency=currency.strip().upper())
    if since is not None:
        query = query.filter(on_date__gte=since)
    if until is not None:
        query = query.filter(on_date__lte=until)
    if since is not None and until is not None and until < since:
        raise BadUserInput("to is before from.", field="to")
    rows = query.order_by("on_date", "currency").offset(offset).limit(limit + 1)
    return list(await rows)
