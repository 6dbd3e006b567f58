from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine.periods import parse_label
from spur.engine.progress import (
    Milestone,
    ProgressStatus,
    crossed_milestones,
    percent,
    remaining,
    status,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-30 00:00 to Monday 2026-12-07 00:00, Shanghai time.
WEEK = parse_label("2026-W49", SHANGHAI)
TARGET = Decimal(10)


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def test_percent() -> None:
    assert percent(Decimal(5), TARGET) == 50.0
    assert percent(Decimal(12), TARGET) == 120.0
    assert percent(Decimal(0), TARGET) == 0.0
    assert percent(Decimal(1), Decimal(3)) == pytest.approx(33.333333)


def test_percent_of_a_non_positive_target_is_zero() -> None:
    assert percent(Decimal(5), Decimal(0)) == 0.0
    assert percent(Decimal(5), Decimal(-1)) == 0.0


def test_remaining() -> None:
    assert remaining(Decimal(4), TARGET) == 6
    assert remaining(Decimal(10), TARGET) == 0
    assert remaining(Decimal(13), TARGET) == 0


# Status, with a target of 10 over the week 2026-W49


def test_not_started_before_the_period() -> None:
    assert (
        status(Decimal(0), TARGET, WEEK, at(11, 29, 12)) is ProgressStatus.NOT_STARTED
    )


def test_not_started_mid_period_while_nothing_is_recorded() -> None:
    # Friday noon: 4.5 of 7 days gone, but zero is "not started", not "at risk".
    assert status(Decimal(0), TARGET, WEEK, at(12, 4, 12)) is ProgressStatus.NOT_STARTED


def test_on_track_when_ahead_of_the_elapsed_share() -> None:
    # Thursday noon is exactly half way; 5 of 10 keeps pace.
    assert status(Decimal(5), TARGET, WEEK, at(12, 3, 12)) is ProgressStatus.ON_TRACK
    assert status(Decimal(6), TARGET, WEEK, at(12, 3, 12)) is ProgressStatus.ON_TRACK


def test_at_risk_when_behind_the_elapsed_share() -> None:
    # Thursday noon is half way; 4 of 10 is behind.
    assert status(Decimal(4), TARGET, WEEK, at(12, 3, 12)) is ProgressStatus.AT_RISK


def test_achieved_once_the_target_is_reached() -> None:
    assert status(Decimal(10), TARGET, WEEK, at(12, 1, 9)) is ProgressStatus.ACHIEVED
    assert status(Decimal(12), TARGET, WEEK, at(12, 1, 9)) is ProgressStatus.ACHIEVED


def test_achieved_stays_achieved_after_the_period() -> None:
    assert status(Decimal(10), TARGET, WEEK, at(12, 9)) is ProgressStatus.ACHIEVED


def test_missed_when_the_period_ends_short() -> None:
    assert status(Decimal(9), TARGET, WEEK, at(12, 7)) is ProgressStatus.MISSED
    assert status(Decimal(0), TARGET, WEEK, at(12, 20)) is ProgressStatus.MISSED


def test_last_second_of_the_period_is_not_yet_missed() -> None:
    last_second = datetime(2026, 12, 6, 23, 59, 59, tzinfo=SHANGHAI)
    assert status(Decimal("9.99"), TARGET, WEEK, last_second) is ProgressStatus.AT_RISK


def test_status_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        status(Decimal(1), TARGET, WEEK, datetime(2026, 12, 3))


# Milestones


@pytest.mark.parametrize(
    ("before", "after", "crossed"),
    [
        (0, 5, [Milestone.HALF]),
        (4, 10, [Milestone.HALF, Milestone.COMPLETE]),
        (0, 12, [Milestone.HALF, Milestone.COMPLETE]),
        (5, 10, [Milestone.COMPLETE]),
        (10, 12, []),
        (6, 9, []),
        (9, 4, []),
        (0, 4, []),
    ],
)
def test_crossed_milestones_with_target_10(
    before: int, after: int, crossed: list[Milestone]
) -> None:
    assert crossed_milestones(Decimal(before), Decimal(after), TARGET) == crossed


def test_milestone_thresholds_with_fractional_target() -> None:
    target = Decimal("0.5")
    assert crossed_milestones(Decimal(0), Decimal("0.25"), target) == [Milestone.HALF]


def test_milestones_of_a_non_positive_target() -> None:
    assert crossed_milestones(Decimal(0), Decimal(5), Decimal(0)) == []


amounts = st.decimals(min_value=0, max_value=1000, places=2)
targets = st.decimals(min_value="0.01", max_value=1000, places=2)


@given(before=amounts, middle=amounts, after=amounts, target=targets)
def test_milestones_are_crossed_once_on_the_way_up(
    before: Decimal, middle: Decimal, after: Decimal, target: Decimal
) -> None:
    low, mid, high = sorted([before, middle, after])
    in_two_steps = crossed_milestones(low, mid, target) + crossed_milestones(
        mid, high, target
    )
    assert in_two_steps == crossed_milestones(low, high, target)
    assert crossed_milestones(high, low, target) == []


@given(current=amounts, target=targets)
def test_achieved_exactly_when_complete_is_reached(
    current: Decimal, target: Decimal
) -> None:
    achieved = status(current, target, WEEK, at(12, 3)) is ProgressStatus.ACHIEVED
    assert achieved == (percent(current, target) >= 100)
    assert achieved == (remaining(current, target) == 0)
