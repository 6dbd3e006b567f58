"""Ninety days of plausible activity for every salesperson but the new hire.

Each person gets a profile (tends the platform or not, how busy, how many
follow-ups and optimisations they manage) and their days are played out from
it: platform sessions, products posted and optimised, customer follow-ups and
the sales funnel of `spur.demo.sales`.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from spur.demo.calendar import Window, moment
from spur.demo.drafts import CATEGORIES, Draft, normalised, poisson
from spur.demo.people import NEWHIRE_EMAIL, SENIOR_EMAIL, YOUNG_MAX_AGE, Person, age_on
from spur.demo.sales import (
    INQUIRIES_PER_DAY,
    TENDER_LIFT,
    Seller,
    funnel_activities,
    new_funnel,
)
from spur.engine.metrics import ActivityKind

TENDER_SHARE = 1 / 3
ABSENCE_SHARE = 0.04
WORKING_DAYS_PER_MONTH = 21.7
EXISTING_FOLLOW_UPS_PER_DAY = 1.8
EXISTING_CUSTOMERS_PER_MARKET = 80


@dataclass(frozen=True)
class Profile:
    """How one salesperson works, drawn once from the seed."""

    owner: int
    market: str
    tender: bool
    level: float
    platform_minutes: float
    posts_per_week: float
    optimisations_per_month: float
    follow_ups_per_week: float
    amount_scale: float
    categories: tuple[float, ...]
    days: list[date]


def _tenders(active: list[tuple[int, Person]], rng: random.Random) -> set[int]:
    """About a third of the staff, always including the senior SEA account."""
    count = round(len(active) * TENDER_SHARE)
    senior = [owner for owner, person in active if person.email == SENIOR_EMAIL]
    others = [owner for owner, person in active if person.email != SENIOR_EMAIL]
    return set(senior + rng.sample(others, count - len(senior)))


def _levels(owners: list[int], rng: random.Random) -> dict[int, float]:
    # Normalised so that busier and quieter people cancel out within a group.
    levels = normalised([rng.uniform(0.75, 1.25) for _ in owners])
    return dict(zip(owners, levels, strict=True))


def _profile(
    owner: int,
    person: Person,
    tender: bool,
    level: float,
    window: Window,
    rng: random.Random,
) -> Profile:
    young = age_on(person.birth_date, window.today) <= YOUNG_MAX_AGE
    days = [day for day in window.working_days() if rng.random() >= ABSENCE_SHARE]
    assert person.market is not None
    return Profile(
        owner=owner,
        market=person.market,
        tender=tender,
        level=level,
        platform_minutes=rng.uniform(72, 95) if tender else rng.uniform(15, 28),
        posts_per_week=rng.uniform(2, 5),
        optimisations_per_month=rng.uniform(3.5, 7.5) + (1.0 if tender else 0.0),
        follow_ups_per_week=rng.uniform(8, 12),
        # Experienced staff handle the bigger accounts.
        amount_scale=rng.uniform(0.6, 0.8) if young else rng.uniform(1.1, 1.4),
        categories=tuple(rng.uniform(0.5, 3) for _ in CATEGORIES),
        days=days,
    )


def profiles(people: list[Person], window: Window, seed: int) -> list[Profile]:
    """Profiles of everyone who sells and has history (not the new hire)."""
    rng = random.Random(f"{seed}:profiles")
    active = [
        (owner, person)
        for owner, person in enumerate(people)
        if person.is_salesperson and person.email != NEWHIRE_EMAIL
    ]
    tenders = _tenders(active, rng)
    levels = _levels([o for o, _ in active if o in tenders], rng)
    levels |= _levels([o for o, _ in active if o not in tenders], rng)
    return [
        _profile(owner, person, owner in tenders, levels[owner], window, rng)
        for owner, person in active
    ]


def _sessions(profile: Profile, window: Window, rng: random.Random) -> list[Draft]:
    drafts = []
    for day in profile.days:
        if not profile.tender and rng.random() < 0.25:
            continue
        spread = 15 if profile.tender else 8
        total = max(5, round(rng.gauss(profile.platform_minutes, spread)))
        parts = rng.choice((1, 2, 2, 3)) if profile.tender else rng.choice((1, 1, 2))
        for minutes in _split_minutes(total, parts, rng):
            at = moment(day, window.tz, rng)
            drafts.append(
                Draft(
                    profile.owner,
                    ActivityKind.PLATFORM_SESSION,
                    at,
                    quantity=Decimal(minutes),
                    market=profile.market,
                )
            )
    return drafts


def _split_minutes(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` minutes cut at random into at most `parts` sessions."""
    cuts = sorted(rng.sample(range(1, total), min(parts, total) - 1))
    return [end - start for start, end in itertools.pairwise([0, *cuts, total])]


def _products(profile: Profile, window: Window, rng: random.Random) -> list[Draft]:
    per_day = {
        ActivityKind.PRODUCT_POSTED: profile.posts_per_week / 5,
        ActivityKind.PRODUCT_OPTIMIZED: profile.optimisations_per_month
        / WORKING_DAYS_PER_MONTH,
    }
    drafts = []
    for day in profile.days:
        for kind, mean in per_day.items():
            for _ in range(poisson(mean, rng)):
                category = rng.choices(CATEGORIES, profile.categories)[0]
                at = moment(day, window.tz, rng)
                drafts.append(
                    Draft(
                        profile.owner,
                        kind,
                        at,
                        market=profile.market,
                        product_category=category,
                    )
                )
    return drafts


def _follow_ups(profile: Profile, window: Window, rng: random.Random) -> list[Draft]:
    """New-customer follow-ups drawn per week, existing-customer ones per day."""
    weeks: dict[date, list[date]] = defaultdict(list)
    for day in profile.days:
        weeks[day - timedelta(days=day.weekday())].append(day)
    drafts = []
    for days in weeks.values():
        mean = profile.follow_ups_per_week * len(days) / 5
        for _ in range(poisson(mean, rng)):
            drafts.append(_follow_up(profile, rng.choice(days), True, window, rng))
    for day in profile.days:
        for _ in range(poisson(EXISTING_FOLLOW_UPS_PER_DAY, rng)):
            drafts.append(_follow_up(profile, day, False, window, rng))
    return drafts


def _follow_up(
    profile: Profile, day: date, new: bool, window: Window, rng: random.Random
) -> Draft:
    if new:
        ref = f"{profile.market}-P{profile.owner:02d}{rng.randrange(10_000):04d}"
    else:
        ref = f"{profile.market}-K{rng.randint(1, EXISTING_CUSTOMERS_PER_MARKET):04d}"
    at = moment(day, window.tz, rng)
    return Draft(
        profile.owner,
        ActivityKind.CUSTOMER_FOLLOW_UP,
        at,
        market=profile.market,
        customer_ref=ref,
        new_customer=new,
    )


def _seller(profile: Profile, window: Window) -> Seller:
    lift = TENDER_LIFT if profile.tender else 1.0
    expected = len(window.working_days()) * INQUIRIES_PER_DAY * profile.level * lift
    return Seller(
        profile.owner,
        profile.market,
        profile.days,
        round(expected),
        profile.categories,
        profile.amount_scale,
    )


def generate_activities(
    people: list[Person],
    window: Window,
    rates: Mapping[tuple[str, date], Decimal],
    seed: int,
) -> list[Draft]:
    """All generated activity inside the window, oldest first."""
    funnel = new_funnel(window, rates)
    drafts: list[Draft] = []
    for profile in profiles(people, window, seed):
        rng = random.Random(f"{seed}:activity:{profile.owner}")
        drafts += _sessions(profile, window, rng)
        drafts += _products(profile, window, rng)
        drafts += _follow_ups(profile, window, rng)
        drafts += funnel_activities(_seller(profile, window), funnel, rng)
    kept = [draft for draft in drafts if window.contains(draft.at)]
    return sorted(kept, key=lambda draft: draft.at)
