from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from spur.engine.goals import child_periods, clip, roll_up, split_target
from spur.engine.periods import PeriodKind, parse_label

SHANGHAI = ZoneInfo("Asia/Shanghai")


def decimals(*values: str | int) -> list[Decimal]:
    return [Decimal(value) for value in values]


# split_target


def test_even_split() -> None:
    assert split_target(Decimal(90), 3) == decimals(30, 30, 30)


def test_even_split_remainder_goes_to_the_last_share() -> None:
    assert split_target(Decimal(10), 3) == decimals(3, 3, 4)


def test_even_split_with_cents() -> None:
    assert split_target(Decimal(100), 3, places=2) == decimals(
        "33.33", "33.33", "33.34"
    )


def test_half_up_rounding_of_shares() -> None:
    # 5 / 2 = 2.5 rounds up; the last share takes what is left.
    assert split_target(Decimal(5), 2) == decimals(3, 2)


def test_rounding_up_never_drives_the_last_share_negative() -> None:
    assert split_target(Decimal(2), 4) == decimals(1, 1, 0, 0)


def test_weighted_split() -> None:
    weights = decimals(1, 2, 3)
    assert split_target(Decimal(600), 3, weights) == decimals(100, 200, 300)


def test_weighted_split_with_rounding() -> None:
    weights = decimals(1, 1, 1, 2)
    assert split_target(Decimal(1000), 4, weights) == decimals(200, 200, 200, 400)
    assert split_target(Decimal(10), 4, weights) == decimals(2, 2, 2, 4)


def test_zero_weight_gets_nothing() -> None:
    assert split_target(Decimal(50), 3, decimals(0, 1, 1)) == decimals(0, 25, 25)


def test_single_part_takes_everything() -> None:
    assert split_target(Decimal("12.5"), 1) == decimals("12.5")


def test_negative_target_splits_symmetrically() -> None:
    assert split_target(Decimal(-10), 3) == decimals(-3, -3, -4)


@pytest.mark.parametrize(
    ("target", "parts", "weights", "places", "problem"),
    [
        ("10", 0, None, 0, "cannot split into 0 parts"),
        ("10", 3, decimals(1, 1), 0, "expected 3 weights, got 2"),
        ("10", 2, decimals(1, -1), 0, "non-negative"),
        ("10", 2, [Decimal("NaN"), Decimal(1)], 0, "finite"),
        ("10", 2, decimals(0, 0), 0, "all be zero"),
        ("10", 2, None, -1, "places must not be negative"),
        ("Infinity", 2, None, 0, "target must be finite"),
    ],
)
def test_split_target_refuses_bad_arguments(
    target: str, parts: int, weights: list[Decimal] | None, places: int, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        split_target(Decimal(target), parts, weights, places)


targets = st.decimals(min_value=0, max_value=10**9, places=2)
part_counts = st.integers(min_value=1, max_value=30)
places_options = st.integers(min_value=0, max_value=3)


@given(target=targets, parts=part_counts, places=places_options)
def test_even_shares_sum_exactly_to_the_target(
    target: Decimal, parts: int, places: int
) -> None:
    shares = split_target(target, parts, places=places)
    assert len(shares) == parts
    assert sum(shares) == target
    assert all(share >= 0 for share in shares)


@given(
    target=targets,
    weights=st.lists(
        st.decimals(min_value=0, max_value=1000, places=3), min_size=1, max_size=20
    ),
    places=places_options,
)
def test_weighted_shares_sum_exactly_to_the_target(
    target: Decimal, weights: list[Decimal], places: int
) -> None:
    assume(sum(weights) > 0)
    shares = split_target(target, len(weights), weights, places)
    assert sum(shares) == target
    assert all(share >= 0 for share in shares)
    # Every share but the last is a whole number of units of `places`.
    quantum = Decimal(1).scaleb(-places)
    assert all(share == share.quantize(quantum) for share in shares[:-1])


# child_periods


def test_months_of_a_quarter() -> None:
    q4 = parse_label("2026-Q4", SHANGHAI)
    months = child_periods(q4, PeriodKind.MONTH, SHANGHAI)
    assert [month.label for month in months] == ["2026-10", "2026-11", "2026-12"]
    assert months[0].start == q4.start
    assert months[-1].end == q4.end


def test_weeks_of_a_quarter_reach_past_its_edges() -> None:
    q4 = parse_label("2026-Q4", SHANGHAI)
    weeks = child_periods(q4, PeriodKind.WEEK, SHANGHAI)
    assert weeks[0].start_date == date(2026, 9, 28)
    assert weeks[-1].start_date == date(2026, 12, 28)
    assert len(weeks) == 14
    assert weeks[0].label == "2026-W40"
    assert weeks[-1].label == "2026-W53"


def test_weeks_of_a_month() -> None:
    weeks = child_periods(parse_label("2026-02", SHANGHAI), PeriodKind.WEEK, SHANGHAI)
    # February 2026 starts on a Sunday and ends on a Saturday.
    assert [week.start_date for week in weeks] == [
        date(2026, 1, 26),
        date(2026, 2, 2),
        date(2026, 2, 9),
        date(2026, 2, 16),
        date(2026, 2, 23),
    ]


def test_days_of_a_week() -> None:
    days = child_periods(parse_label("2026-W49", SHANGHAI), PeriodKind.DAY, SHANGHAI)
    assert [day.label for day in days][::6] == ["2026-11-30", "2026-12-06"]
    assert len(days) == 7


@pytest.mark.parametrize("child", [PeriodKind.QUARTER, PeriodKind.YEAR])
def test_child_kind_must_be_finer(child: PeriodKind) -> None:
    with pytest.raises(ValueError, match="not finer"):
        child_periods(parse_label("2026-Q4", SHANGHAI), child, SHANGHAI)


# clip and roll_up


def test_clip_a_week_to_its_month() -> None:
    week = parse_label("2026-W40", SHANGHAI)
    october = parse_label("2026-10", SHANGHAI)
    assert clip(week, october) == (
        datetime(2026, 10, 1, tzinfo=SHANGHAI),
        datetime(2026, 10, 5, tzinfo=SHANGHAI),
    )
    assert clip(october, week) == clip(week, october)


def test_clip_a_period_inside_its_window_is_itself() -> None:
    day = parse_label("2026-12-04", SHANGHAI)
    assert clip(day, parse_label("2026", SHANGHAI)) == (day.start, day.end)


def test_clip_refuses_disjoint_periods() -> None:
    with pytest.raises(ValueError, match="do not overlap"):
        clip(parse_label("2026-10", SHANGHAI), parse_label("2026-11", SHANGHAI))


def test_roll_up() -> None:
    assert roll_up(decimals("1.5", 2, "0.25")) == Decimal("3.75")
    assert roll_up([]) == 0


@given(
    target=targets,
    parts=part_counts,
)
def test_split_then_roll_up_gives_back_the_target(target: Decimal, parts: int) -> None:
    assert roll_up(split_target(target, parts, places=2)) == target
