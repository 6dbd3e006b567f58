"""Driver statistics on synthetic data with known effects, and with none."""

from __future__ import annotations

import numpy as np
import pytest

from spur.engine.driver_findings import (
    Inquiries,
    MemberDays,
    day_findings,
    reply_findings,
)
from spur.engine.drivers import Comparison, Units, average_ranks, compare, pearson

MEMBERS, DAYS = 40, 60


def _member_days(
    effect: float, seed: int, spread: float = 0.25, tie_to_level: bool = False
) -> MemberDays:
    """Orders a day at 0.6 x the member's level x (1 + effect) on platform days.

    A third of the members tend the platform (90% of their days an hour or
    more, otherwise 5%). With `tie_to_level`, the tenders are the busiest
    members: the platform then goes with more orders although it causes none.
    """
    rng = np.random.default_rng(seed)
    levels = rng.uniform(1 - spread, 1 + spread, MEMBERS)
    order = np.argsort(-levels) if tie_to_level else rng.permutation(MEMBERS)
    tender = np.zeros(MEMBERS, dtype=bool)
    tender[order[: MEMBERS // 3]] = True
    member = np.repeat(np.arange(MEMBERS), DAYS)
    chance = np.where(tender[member], 0.9, 0.05)
    on_platform = rng.random(len(member)) < chance
    minutes = np.where(on_platform, rng.uniform(60, 120, len(member)), 20.0)
    mean = 0.6 * levels[member] * np.where(on_platform, 1 + effect, 1.0)
    orders = rng.poisson(mean).astype(np.float64)
    inquiries = rng.poisson(3.0, len(member)).astype(np.float64)
    conversions = rng.binomial(inquiries.astype(np.int64), 0.15).astype(np.float64)
    zeros = np.zeros(len(member))
    return MemberDays(
        member.astype(np.int64),
        minutes,
        rng.poisson(4.0, len(member)).astype(np.float64),
        zeros,
        orders,
        orders * 900.0,
        inquiries,
        conversions,
    )


def _finding(days: MemberDays, outcome: str, resamples: int = 1000) -> Comparison:
    found = day_findings(days, resamples, seed=7)
    return next(
        f.stats
        for f in found
        if f.behaviour == "platform_hours_per_day" and f.outcome == outcome
    )


def test_a_planted_thirty_percent_is_found_with_an_interval_around_it() -> None:
    stats = _finding(_member_days(0.30, seed=1), "orders")
    assert stats.lift == pytest.approx(0.30, abs=0.08)
    assert stats.low < 0.30 < stats.high
    assert stats.significant
    assert not stats.small_sample
    assert stats.n_above + stats.n_below == MEMBERS * DAYS


@pytest.mark.parametrize("seed", range(3))
def test_no_effect_is_not_reported_significant(seed: int) -> None:
    stats = _finding(_member_days(0.0, seed=seed), "orders")
    assert stats.low < 0 < stats.high
    assert not stats.significant
    assert abs(stats.lift) < 0.1


def test_busy_people_on_the_platform_show_a_correlation_without_an_effect() -> None:
    # What the analysis measures: the platform goes with orders here because
    # the busiest people tend it, not because it brings orders.
    stats = _finding(_member_days(0.0, seed=3, tie_to_level=True), "orders")
    assert stats.lift > 0.15


def test_members_not_days_decide_the_interval() -> None:
    # Busy and quiet members (levels 0.3 to 1.7) and no effect: drawing days
    # would call chance differences between a few members significant.
    flagged = 0
    for seed in range(20):
        days = _member_days(0.0, seed=100 + seed, spread=0.7)
        flagged += _finding(days, "orders", resamples=400).significant
    assert flagged <= 3


def test_unrelated_conversion_is_not_significant() -> None:
    stats = _finding(_member_days(0.30, seed=2), "inquiry_conversion")
    assert not stats.significant
    assert stats.n_above + stats.n_below <= MEMBERS * DAYS


def _inquiries(fast_rate: float, slow_rate: float, seed: int) -> Inquiries:
    rng = np.random.default_rng(seed)
    count = 8000
    member = rng.integers(0, MEMBERS, count)
    band = rng.choice(3, count, p=[0.45, 0.25, 0.30])
    minutes = np.select(
        [band == 0, band == 1],
        [rng.integers(3, 61, count), rng.integers(61, 121, count)],
        rng.integers(121, 3000, count),
    ).astype(np.float64)
    minutes[rng.random(count) < 0.08] = np.nan  # never answered
    rate = np.select([band == 0, band == 1], [fast_rate, 0.17], slow_rate)
    orders = (rng.random(count) < rate).astype(np.float64)
    return Inquiries(member.astype(np.int64), minutes, orders, orders * 5000.0)


def test_fast_replies_converting_a_quarter_better_are_found() -> None:
    found = reply_findings(_inquiries(0.1875, 0.15, seed=4), 1000, seed=7)
    stats = next(f.stats for f in found if f.outcome == "inquiry_conversion")
    assert stats.lift == pytest.approx(0.25, abs=0.12)
    assert stats.low < 0.25 < stats.high
    assert stats.significant
    assert stats.pearson is not None
    assert stats.pearson < 0


def test_reply_time_is_set_against_conversion_and_sales_not_orders_again() -> None:
    # Per inquiry, "an order came of it" is the conversion; an `orders`
    # finding would repeat the conversion finding's numbers.
    found = reply_findings(_inquiries(0.1875, 0.15, seed=4), 200, seed=7)
    assert [f.outcome for f in found] == ["inquiry_conversion", "sales"]
    assert {f.behaviour for f in found} == {"inquiry_reply_minutes"}


def test_reply_time_without_effect_is_not_significant() -> None:
    found = reply_findings(_inquiries(0.15, 0.15, seed=5), 1000, seed=7)
    for finding in found:
        assert not finding.stats.significant, finding.outcome


def test_few_members_are_flagged_as_a_small_sample() -> None:
    units = Units(
        np.array([1, 1, 2, 2, 3, 3], dtype=np.int64),
        np.array([2.0, 0.0, 2.0, 0.0, 2.0, 0.0]),
        np.array([3.0, 1.0, 2.0, 1.0, 4.0, 2.0]),
        np.ones(6),
    )
    above = units.behaviour >= 1
    stats = compare(units, above, ~above, resamples=200)
    assert stats.small_sample
    assert stats.mean_above == pytest.approx(3.0)
    assert stats.lift == pytest.approx(2.0 / (4 / 3) * 1.5 - 1)


def test_the_interval_is_the_same_for_the_same_data() -> None:
    days = _member_days(0.2, seed=9)
    assert _finding(days, "orders", 300) == _finding(days, "orders", 300)


def test_no_lift_without_a_mean_below() -> None:
    units = Units(np.arange(4, dtype=np.int64), np.arange(4.0), np.zeros(4), np.ones(4))
    stats = compare(units, units.behaviour >= 2, units.behaviour < 2, 100)
    assert stats.lift is None
    assert stats.low is None
    assert not stats.significant
    assert stats.pearson is None  # the outcome does not vary


def test_overlapping_groups_are_refused() -> None:
    units = Units(np.zeros(2, dtype=np.int64), np.ones(2), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="both"):
        compare(units, np.ones(2, dtype=bool), np.ones(2, dtype=bool))


def test_ties_share_their_average_rank() -> None:
    ranks = average_ranks(np.array([10.0, 20.0, 10.0, 30.0]))
    assert ranks.tolist() == [1.5, 3.0, 1.5, 4.0]


def test_pearson_of_a_line_is_one() -> None:
    x = np.arange(10.0)
    assert pearson(x, 3 * x + 1) == pytest.approx(1.0)
    assert pearson(x, -x) == pytest.approx(-1.0)
