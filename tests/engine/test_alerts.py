"""Manager alert rules on plain values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from spur.engine import alerts as rules
from spur.engine.alerts import AlertRule, Direction
from spur.engine.periods import PeriodKind

D = Decimal


def test_conversion_five_points_above_the_rest_of_the_team_suggests_an_award() -> None:
    # 6 of 20 is 30%; the rest of the team: 10 of 50 is 20%.
    found = rules.conversion_lead(D(6), D(20), D(16), D(70))

    assert found is not None
    assert found.rule is AlertRule.CONVERSION_LEAD
    assert (found.value, found.baseline) == (D("30.00"), D("20.00"))
    assert found.award == D("500.00")


def test_conversion_just_under_five_points_above_is_no_alert() -> None:
    # 24.9% against 20%.
    assert rules.conversion_lead(D(249), D(1000), D(349), D(1500)) is None
    assert rules.conversion_lead(D(250), D(1000), D(350), D(1500)) is not None


def test_conversion_needs_enough_inquiries_on_both_sides() -> None:
    assert rules.conversion_lead(D(5), D(9), D(10), D(100)) is None
    assert rules.conversion_lead(D(5), D(10), D(5), D(19)) is None
    assert rules.conversion_lead(D(5), D(10), D(6), D(20)) is not None


def test_upkeep_below_the_line_so_far_this_week() -> None:
    found = rules.low_upkeep(upkept_days=5, headcount=4, days_so_far=3)

    assert found is not None
    assert (found.value, found.baseline) == (D("41.67"), D("60.00"))
    assert rules.low_upkeep(8, 4, 3) is None  # 66.67%
    assert rules.low_upkeep(0, 4, 1) is None  # one day is too early to tell
    assert rules.low_upkeep(0, 0, 3) is None


def test_reply_time_drifting_up() -> None:
    # 40 minutes on average this week against 25 last week.
    found = rules.reply_drift(D(400), D(10), D(250), D(10))

    assert found is not None
    assert (found.value, found.baseline) == (D("40.00"), D("25.00"))
    # Up by a quarter but only 5 minutes: noise.
    assert rules.reply_drift(D(250), D(10), D(200), D(10)) is None
    # Up 10 minutes but less than a quarter.
    assert rules.reply_drift(D(700), D(10), D(600), D(10)) is None
    assert rules.reply_drift(D(400), D(4), D(250), D(10)) is None


def test_goal_at_risk_near_the_end_and_behind_pace() -> None:
    found = rules.goal_at_risk(D(4), D(10), D("0.80"), days_left=2)

    assert found is not None
    assert (found.value, found.baseline) == (D("40.00"), D("80.00"))
    assert rules.goal_at_risk(D(7), D(10), D("0.80"), 2) is None  # on pace
    assert rules.goal_at_risk(D(4), D(10), D("0.80"), 4) is None  # time left
    assert rules.goal_at_risk(D(10), D(10), D("0.80"), 1) is None  # done
    assert rules.goal_at_risk(D(0), D(10), D(1), 0) is None  # over


def test_the_key_names_rule_subject_and_period_once() -> None:
    key = rules.alert_key(
        AlertRule.REPLY_DRIFT, "m7", PeriodKind.WEEK, date(2026, 11, 30)
    )

    assert key == "REPLY_DRIFT:m7:WEEK:2026-11-30"


@given(st.integers(0, 1000), st.integers(0, 1000), st.booleans())
def test_direction_follows_which_way_is_better(a: int, b: int, up: bool) -> None:
    found = rules.direction(D(a), D(b), higher_is_better=up)

    if a == b:
        assert found is Direction.UNCHANGED
    else:
        assert (found is Direction.BETTER) == ((b > a) == up)
    assert rules.direction(None, D(b), up) is Direction.UNKNOWN
