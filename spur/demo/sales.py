"""The sales funnel: inquiries, replies, orders and the ratings that follow.

Two effects are planted exactly rather than left to chance, so that they
show in any window the demo is created for:

* platform tenders receive `TENDER_LIFT` times the inquiries of others and
  every reply converts at the same rate for everyone, so they close about
  that many times more orders;
* each person's replies are split into speed bands in the same proportions,
  and each band converts at its own rate, so fast replies convert about
  `FAST_WEIGHT / SLOW_WEIGHT` times as well as slow ones with no one's
  habits skewing the comparison.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from spur.demo.calendar import Window, local_date, moment, working_moment_between
from spur.demo.drafts import (
    CATEGORIES,
    ONE,
    Draft,
    stochastic_round,
)
from spur.engine.metrics import ActivityKind
from spur.engine.money import convert, quantize

INQUIRIES_PER_DAY = 3.5
TENDER_LIFT = 1.3
REPLY_SHARE = 0.92
BASE_CONVERSION = 0.15
LAST_INQUIRY = time(16, 30)
RATING_SHARE = 0.55


@dataclass(frozen=True)
class Band:
    """Replies answered within a range of minutes, and how well they convert."""

    name: str
    share: float
    weight: float


FAST, MEDIUM, SLOW = (
    Band("within 60", 0.45, 1.25),
    Band("60 to 120", 0.25, 1.12),
    Band("over 120", 0.30, 1.0),
)
BANDS = (FAST, MEDIUM, SLOW)

# Currencies buyers of each market pay in, besides yuan, with their weights.
MARKET_CURRENCIES: Mapping[str, tuple[tuple[str, int], ...]] = {
    "SEA": (("USD", 45), ("SGD", 15), ("MYR", 12), ("THB", 13), ("CNY", 15)),
    "EU": (("EUR", 60), ("GBP", 25), ("CNY", 15)),
    "NA": (("USD", 88), ("CNY", 12)),
    "ME": (("AED", 40), ("SAR", 25), ("USD", 25), ("CNY", 10)),
}
_PIECES = (200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 3000)
_PIECE_WEIGHTS = (8, 12, 12, 14, 12, 12, 10, 7, 6, 4, 3)
_RATINGS = tuple(Decimal(r) for r in ("3.0", "3.5", "4.0", "4.5", "5.0"))
_RATING_WEIGHTS = (5, 10, 25, 30, 30)


@dataclass(frozen=True)
class Seller:
    """What the funnel needs to know about one salesperson."""

    owner: int
    market: str
    days: list[date]
    inquiries: int
    categories: tuple[float, ...]
    amount_scale: float


@dataclass(frozen=True)
class Funnel:
    """Shared state: the window, rates and a counter for buyer references."""

    window: Window
    rates: Mapping[tuple[str, date], Decimal]
    buyers: Iterator[int]


def new_funnel(window: Window, rates: Mapping[tuple[str, date], Decimal]) -> Funnel:
    return Funnel(window, rates, itertools.count(1))


def _inquiry(seller: Seller, funnel: Funnel, rng: random.Random) -> Draft | None:
    window = funnel.window
    at = moment(rng.choice(seller.days), window.tz, rng, latest=LAST_INQUIRY)
    if at > window.now:
        # Today's inquiries after now have not arrived yet; take an earlier day.
        earlier = [day for day in seller.days if day < window.today]
        if not earlier:
            return None
        at = moment(rng.choice(earlier), window.tz, rng, latest=LAST_INQUIRY)
    return Draft(
        seller.owner,
        ActivityKind.INQUIRY_RECEIVED,
        at,
        market=seller.market,
        product_category=rng.choices(CATEGORIES, seller.categories)[0],
        customer_ref=f"{seller.market}-B{next(funnel.buyers):05d}",
        new_customer=rng.random() < 0.6,
    )


def _reply(inquiry: Draft, band: Band, funnel: Funnel, rng: random.Random) -> Draft:
    if band is SLOW:
        low = inquiry.at + timedelta(minutes=121)
        high = inquiry.at + timedelta(days=3)
        at = working_moment_between(low, high, funnel.window.tz, rng, decay=0.5)
        assert at is not None
        minutes = int((at - inquiry.at).total_seconds() // 60)
    else:
        minutes = rng.randint(3, 60) if band is FAST else rng.randint(61, 120)
        at = inquiry.at + timedelta(minutes=minutes)
    return Draft(
        inquiry.owner,
        ActivityKind.INQUIRY_REPLIED,
        at,
        market=inquiry.market,
        product_category=inquiry.product_category,
        customer_ref=inquiry.customer_ref,
        new_customer=inquiry.new_customer,
        response_minutes=minutes,
    )


def _bands(replies: int, rng: random.Random) -> list[Band]:
    """Exactly each band's share of `replies`, in random order."""
    fast = round(replies * FAST.share)
    medium = round(replies * MEDIUM.share)
    bands = [FAST] * fast + [MEDIUM] * medium + [SLOW] * (replies - fast - medium)
    rng.shuffle(bands)
    return bands


def _money(
    seller: Seller, at: datetime, funnel: Funnel, rng: random.Random
) -> tuple[Decimal, str, Decimal, Decimal]:
    """Amount, currency, amount in CNY and the rate used, for one order."""
    currencies, weights = zip(*MARKET_CURRENCIES[seller.market], strict=True)
    currency = rng.choices(currencies, weights)[0]
    pieces = rng.choices(_PIECES, _PIECE_WEIGHTS)[0]
    # Wholesale garments: tens of yuan a piece, hundreds of pieces an order.
    piece_cny = min(120.0, max(6.0, rng.lognormvariate(2.78, 0.45)))
    unit_cny = piece_cny * seller.amount_scale
    if currency == "CNY":
        amount = quantize(Decimal(str(unit_cny)), "CNY") * pieces
        return amount, currency, amount, ONE
    rate = funnel.rates[currency, local_date(at, funnel.window.tz)]
    unit_price = max(Decimal("0.01"), quantize(Decimal(str(unit_cny)) / rate, currency))
    amount = unit_price * pieces
    return amount, currency, convert(amount, rate, "CNY"), rate


def _order(
    seller: Seller, reply: Draft, funnel: Funnel, rng: random.Random
) -> Draft | None:
    window = funnel.window
    high = min(reply.at + timedelta(days=14), window.now)
    low = reply.at + timedelta(minutes=20)
    at = working_moment_between(low, high, window.tz, rng, decay=0.8)
    if at is None:
        return None
    amount, currency, amount_cny, rate = _money(seller, at, funnel, rng)
    return Draft(
        seller.owner,
        ActivityKind.ORDER_CLOSED,
        at,
        market=seller.market,
        product_category=reply.product_category,
        customer_ref=reply.customer_ref,
        new_customer=reply.new_customer,
        amount=amount,
        currency=currency,
        amount_company=amount_cny,
        exchange_rate=rate,
    )


def _rating(order: Draft, funnel: Funnel, rng: random.Random) -> Draft | None:
    window = funnel.window
    low = order.at + timedelta(days=3)
    high = min(order.at + timedelta(days=25), window.now)
    at = working_moment_between(low, high, window.tz, rng)
    if at is None:
        return None
    return Draft(
        order.owner,
        ActivityKind.CUSTOMER_RATING,
        at,
        market=order.market,
        product_category=order.product_category,
        customer_ref=order.customer_ref,
        rating=rng.choices(_RATINGS, _RATING_WEIGHTS)[0],
    )


def _orders(
    seller: Seller,
    band: Band,
    replies: list[Draft],
    funnel: Funnel,
    rng: random.Random,
) -> list[Draft]:
    """Orders from one band of replies, at the band's conversion rate.

    The quota counts every reply, answered or not in time to convert, so the
    measured rate is the band's; recent replies simply convert less often.
    """
    quota = stochastic_round(BASE_CONVERSION * band.weight * len(replies), rng)
    orders: list[Draft] = []
    for reply in rng.sample(replies, len(replies)):
        if len(orders) == quota:
            break
        order = _order(seller, reply, funnel, rng)
        if order is not None:
            orders.append(order)
    return orders


def funnel_activities(
    seller: Seller, funnel: Funnel, rng: random.Random
) -> list[Draft]:
    """Every inquiry, reply, order and rating of one salesperson."""
    drawn = (_inquiry(seller, funnel, rng) for _ in range(seller.inquiries))
    inquiries = [inquiry for inquiry in drawn if inquiry is not None]
    answered = rng.sample(inquiries, round(len(inquiries) * REPLY_SHARE))
    by_band: dict[str, list[Draft]] = {band.name: [] for band in BANDS}
    for inquiry, band in zip(answered, _bands(len(answered), rng), strict=True):
        reply = _reply(inquiry, band, funnel, rng)
        if reply.at <= funnel.window.now:
            by_band[band.name].append(reply)
    orders = [
        order
        for band in BANDS
        for order in _orders(seller, band, by_band[band.name], funnel, rng)
    ]
    ratings = [
        _rating(order, funnel, rng) for order in orders if rng.random() < RATING_SHARE
    ]
    replies = [reply for band in BANDS for reply in by_band[band.name]]
    return inquiries + replies + orders + [r for r in ratings if r is not None]
