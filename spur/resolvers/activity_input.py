"""Checking an activity before anything is written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from spur.api.errors import BadUserInput
from spur.engine import money
from spur.engine.metrics import ActivityKind
from spur.engine.periods import PeriodKind, period_containing

FUTURE_SKEW = timedelta(minutes=5)
QUANTITY_PLACES = 4
MAX_QUANTITY = Decimal(10) ** 9
MAX_AMOUNT = Decimal(10) ** 12
TEXT_LIMITS = {
    "source": 64,
    "external_id": 128,
    "market": 16,
    "product_category": 64,
    "customer_ref": 128,
}


@dataclass(frozen=True)
class ActivityDraft:
    """An activity as the client sent it, in plain Python values."""

    kind: ActivityKind
    occurred_at: datetime
    source: str | None = None
    external_id: str | None = None
    quantity: float | None = None
    amount: Decimal | None = None
    currency: str | None = None
    market: str | None = None
    product_category: str | None = None
    customer_ref: str | None = None
    new_customer: bool | None = None
    response_minutes: int | None = None
    rating: float | None = None


@dataclass(frozen=True)
class CheckedActivity:
    """A draft that passed every check, normalised for storage."""

    draft: ActivityDraft
    source: str
    external_id: str
    quantity: Decimal
    currency: str | None
    market: str | None
    rating: Decimal | None


def check_activity(
    draft: ActivityDraft, now: datetime, tz: ZoneInfo, late_days: int
) -> CheckedActivity:
    """Refuse bad input with `BAD_USER_INPUT`; nothing is written before this."""
    _check_time(draft.occurred_at, now, tz, late_days)
    _check_texts(draft)
    currency = _check_money(draft)
    _check_counts(draft)
    return CheckedActivity(
        draft=draft,
        source=(draft.source or "api").strip(),
        external_id=draft.external_id or uuid.uuid4().hex,
        quantity=_quantity(draft.quantity),
        currency=currency,
        market=_stored_text("market", draft.market) if draft.market else None,
        rating=None if draft.rating is None else Decimal(str(draft.rating)),
    )


def _check_time(occurred_at: datetime, now: datetime, tz: ZoneInfo, late: int) -> None:
    if occurred_at > now + FUTURE_SKEW:
        raise BadUserInput("occurredAt is in the future.", field="occurredAt")
    try:
        month = period_containing(PeriodKind.MONTH, occurred_at, tz)
    except OverflowError as error:  # its month would start before year 1
        raise BadUserInput("occurredAt is out of range.", field="occurredAt") from error
    if month.end + timedelta(days=late) <= now:
        raise BadUserInput(
            f"The period {month.label} is closed to new activity.",
            field="occurredAt",
        )


def _check_texts(draft: ActivityDraft) -> None:
    # Lengths are those of the text as stored (a market is uppercased, and
    # "ß" becomes "SS"); PostgreSQL can store no NUL character.
    for name, limit in TEXT_LIMITS.items():
        value = getattr(draft, name)
        if value is None:
            continue
        if not value.strip() or len(_stored_text(name, value)) > limit:
            raise BadUserInput(f"{name} must have 1 to {limit} characters.", field=name)
        if "\x00" in value:
            raise BadUserInput(f"{name} may not contain NUL characters.", field=name)


def _stored_text(name: str, value: str) -> str:
    """A text field as it is stored: sources trimmed, markets also uppercased."""
    if name == "market":
        return value.strip().upper()
    return value.strip() if name == "source" else value


def _check_money(draft: ActivityDraft) -> str | None:
    if draft.kind is ActivityKind.ORDER_CLOSED and draft.amount is None:
        raise BadUserInput("An order needs an amount and a currency.", field="amount")
    if draft.amount is None:
        if draft.currency is not None:
            raise BadUserInput("A currency needs an amount.", field="currency")
        return None
    refund = draft.kind is ActivityKind.ORDER_CLOSED
    return _check_amount(draft.amount, draft.currency, refund)


def _check_amount(amount: Decimal, currency: str | None, refund: bool) -> str:
    """A sane amount in a known currency; only an order may be negative
    (a refund, which takes back what the same order earned)."""
    if currency is None:
        raise BadUserInput("An amount needs a currency.", field="currency")
    code = currency.strip().upper()
    # Checked first, by comparison only: quantizing or even abs() of an
    # absurd exponent overflows the decimal context.
    if amount <= -MAX_AMOUNT or amount >= MAX_AMOUNT or (amount < 0 and not refund):
        raise BadUserInput(
            "amount must be sane, and negative only for a refunded order.",
            field="amount",
        )
    try:
        excess = money.has_excess_places(amount, code)
    except money.UnknownCurrency as error:
        raise BadUserInput(
            f"Unknown currency {currency!r}.", field="currency"
        ) from error
    if excess:
        raise BadUserInput(
            f"{amount} has more decimals than {code} allows.", field="amount"
        )
    return code


def _check_counts(draft: ActivityDraft) -> None:
    quantity = draft.quantity
    if quantity is not None and not 0 < quantity < MAX_QUANTITY:
        raise BadUserInput("quantity must be greater than zero.", field="quantity")
    if draft.response_minutes is not None and draft.response_minutes < 0:
        raise BadUserInput(
            "responseMinutes cannot be negative.", field="responseMinutes"
        )
    if draft.rating is not None and not 0 <= draft.rating <= 5:
        raise BadUserInput("rating must be between 0 and 5.", field="rating")


def _quantity(value: float | None) -> Decimal:
    if value is None:
        return Decimal(1)
    quantity = Decimal(str(value))
    if quantity != round(quantity, QUANTITY_PLACES):
        raise BadUserInput(
            f"quantity has more than {QUANTITY_PLACES} decimals.", field="quantity"
        )
    return quantity
