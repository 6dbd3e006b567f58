import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine.periods import (
    ALL_KINDS,
    Period,
    PeriodKind,
    as_utc,
    elapsed_share,
    next_period,
    parse_label,
    period_containing,
    period_starting,
    periods_overlapping,
    previous_period,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

# Zones with DST, odd offsets, and DST changes at midnight (Havana repeats
# midnight, Sao Paulo used to skip it).
ZONES = [
    SHANGHAI,
    BERLIN,
    NEW_YORK,
    ZoneInfo("UTC"),
    ZoneInfo("America/Havana"),
    ZoneInfo("America/Sao_Paulo"),
    ZoneInfo("Asia/Kathmandu"),
    ZoneInfo("Australia/Lord_Howe"),
    ZoneInfo("Pacific/Chatham"),
]

instants = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.just(UTC),
)
kinds = st.sampled_from(ALL_KINDS)
zones = st.sampled_from(ZONES)
spans = st.timedeltas(min_value=timedelta(days=-1), max_value=timedelta(days=200))


def shanghai(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def hours(period: Period) -> float:
    return period.duration.total_seconds() / 3600


# Week boundaries in Asia/Shanghai (UTC+8, no DST)


def test_sunday_late_evening_belongs_to_the_old_week() -> None:
    week = period_containing(PeriodKind.WEEK, shanghai(2026, 12, 6, 23, 59), SHANGHAI)
    assert week.label == "2026-W49"
    assert week.start == shanghai(2026, 11, 30)
    assert week.end == shanghai(2026, 12, 7)


def test_monday_midnight_starts_the_new_week() -> None:
    week = period_containing(PeriodKind.WEEK, shanghai(2026, 12, 7), SHANGHAI)
    assert week.label == "2026-W50"
    assert week.start_date == date(2026, 12, 7)


def test_week_boundary_given_in_utc() -> None:
    # Monday 00:00 in Shanghai is Sunday 16:00 UTC.
    before = period_containing(PeriodKind.WEEK, utc(2026, 12, 6, 15, 59, 59), SHANGHAI)
    after = period_containing(PeriodKind.WEEK, utc(2026, 12, 6, 16), SHANGHAI)
    assert before.label == "2026-W49"
    assert after.label == "2026-W50"
    assert after.start == utc(2026, 12, 6, 16)
    assert before.end == after.start


def test_day_boundary_given_in_utc() -> None:
    day = period_containing(PeriodKind.DAY, utc(2026, 12, 3, 16), SHANGHAI)
    assert day.label == "2026-12-04"
    assert day.contains(utc(2026, 12, 4, 15, 59, 59))
    assert not day.contains(utc(2026, 12, 4, 16))


def test_contains_is_half_open() -> None:
    week = period_starting(PeriodKind.WEEK, date(2026, 11, 30), SHANGHAI)
    assert week.contains(week.start)
    assert not week.contains(week.end)
    assert week.contains(week.end - timedelta(microseconds=1))


def test_contains_refuses_naive_instant() -> None:
    week = period_starting(PeriodKind.WEEK, date(2026, 11, 30), SHANGHAI)
    with pytest.raises(ValueError, match="timezone-aware"):
        week.contains(datetime(2026, 12, 1))


# Month, quarter and year ends


def test_december_31_last_second_is_still_the_old_year() -> None:
    instant = shanghai(2026, 12, 31, 23, 59, 59)
    assert period_containing(PeriodKind.MONTH, instant, SHANGHAI).label == "2026-12"
    assert period_containing(PeriodKind.QUARTER, instant, SHANGHAI).label == "2026-Q4"
    assert period_containing(PeriodKind.YEAR, instant, SHANGHAI).label == "2026"


def test_january_1_midnight_is_the_new_year() -> None:
    instant = shanghai(2027, 1, 1)
    assert period_containing(PeriodKind.MONTH, instant, SHANGHAI).label == "2027-01"
    assert period_containing(PeriodKind.QUARTER, instant, SHANGHAI).label == "2027-Q1"
    assert period_containing(PeriodKind.YEAR, instant, SHANGHAI).label == "2027"


def test_quarter_bounds() -> None:
    quarter = period_containing(PeriodKind.QUARTER, shanghai(2026, 11, 15), SHANGHAI)
    assert quarter.start == shanghai(2026, 10, 1)
    assert quarter.end == shanghai(2027, 1, 1)


def test_february_in_a_leap_year() -> None:
    month = period_containing(PeriodKind.MONTH, shanghai(2028, 2, 29, 12), SHANGHAI)
    assert month.end == shanghai(2028, 3, 1)
    assert hours(month) == 29 * 24


@pytest.mark.parametrize(
    ("kind", "instant", "label"),
    [
        (PeriodKind.DAY, datetime(2026, 12, 4, 9), "2026-12-04"),
        (PeriodKind.WEEK, datetime(2026, 12, 4, 9), "2026-W49"),
        (PeriodKind.MONTH, datetime(2026, 12, 4, 9), "2026-12"),
        (PeriodKind.QUARTER, datetime(2026, 12, 4, 9), "2026-Q4"),
        (PeriodKind.YEAR, datetime(2026, 12, 4, 9), "2026"),
        (PeriodKind.QUARTER, datetime(2026, 4, 1), "2026-Q2"),
    ],
)
def test_labels(kind: PeriodKind, instant: datetime, label: str) -> None:
    local = instant.replace(tzinfo=SHANGHAI)
    assert period_containing(kind, local, SHANGHAI).label == label


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2027, 1, 1), "2026-W53"),
        (date(2026, 12, 28), "2026-W53"),
        (date(2027, 1, 4), "2027-W01"),
        (date(2024, 12, 30), "2025-W01"),
        (date(2024, 12, 29), "2024-W52"),
        (date(2021, 1, 3), "2020-W53"),
    ],
)
def test_iso_week_labels_at_year_edges(day: date, label: str) -> None:
    instant = datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)
    assert period_containing(PeriodKind.WEEK, instant, SHANGHAI).label == label


# Daylight saving time


def test_berlin_spring_forward_week_is_167_hours() -> None:
    # The last Sunday of March 2026 is the 29th.
    week = period_containing(
        PeriodKind.WEEK, datetime(2026, 3, 29, 12, tzinfo=BERLIN), BERLIN
    )
    assert week.start_date == date(2026, 3, 23)
    assert hours(week) == 167
    assert week.start == utc(2026, 3, 22, 23)
    assert week.end == utc(2026, 3, 29, 22)


def test_berlin_fall_back_month_has_an_extra_hour() -> None:
    month = period_starting(PeriodKind.MONTH, date(2026, 10, 1), BERLIN)
    assert hours(month) == 31 * 24 + 1


def test_new_york_fall_back_day_is_25_hours() -> None:
    # Clocks went back on the first Sunday of November 2026, the 1st.
    day = period_starting(PeriodKind.DAY, date(2026, 11, 1), NEW_YORK)
    assert hours(day) == 25
    assert day.start == utc(2026, 11, 1, 4)
    assert day.end == utc(2026, 11, 2, 5)


def test_new_york_repeated_hour_belongs_to_the_same_day() -> None:
    day = period_starting(PeriodKind.DAY, date(2026, 11, 1), NEW_YORK)
    second_one_thirty = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK)
    assert day.contains(second_one_thirty)
    assert elapsed_share(day, second_one_thirty) == pytest.approx(2.5 / 25)


def test_new_york_spring_forward_day_is_23_hours() -> None:
    day = period_starting(PeriodKind.DAY, date(2026, 3, 8), NEW_YORK)
    assert hours(day) == 23


def test_havana_repeated_midnight_starts_the_day_at_its_first_occurrence() -> None:
    # Cuba turns the clocks back from 01:00 to 00:00, so midnight happens twice.
    havana = ZoneInfo("America/Havana")
    day = period_starting(PeriodKind.DAY, date(2026, 11, 1), havana)
    assert hours(day) == 25
    # A wall time that occurs twice never compares equal across zones.
    assert as_utc(day.start) == utc(2026, 11, 1, 4)


def test_sao_paulo_skipped_midnight_starts_the_day_at_one() -> None:
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    day = period_starting(PeriodKind.DAY, date(2018, 11, 4), sao_paulo)
    assert hours(day) == 23
    assert day.start == utc(2018, 11, 4, 3)
    assert (day.start.hour, day.start_date) == (1, date(2018, 11, 4))
    assert period_containing(PeriodKind.DAY, day.start, sao_paulo) == day


def test_a_day_the_zone_skipped_is_empty_and_skipped_in_ranges() -> None:
    # Samoa jumped from 2011-12-29 straight to 2011-12-31.
    apia = ZoneInfo("Pacific/Apia")
    skipped = period_starting(PeriodKind.DAY, date(2011, 12, 30), apia)
    assert skipped.duration == timedelta(0)
    found = periods_overlapping(
        PeriodKind.DAY,
        datetime(2011, 12, 29, 12, tzinfo=apia),
        datetime(2011, 12, 31, 12, tzinfo=apia),
        apia,
    )
    assert [day.label for day in found] == ["2011-12-29", "2011-12-31"]


# Errors


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        period_containing(PeriodKind.DAY, datetime(2026, 12, 4), SHANGHAI)


@pytest.mark.parametrize(
    ("kind", "start"),
    [
        (PeriodKind.WEEK, date(2026, 12, 1)),
        (PeriodKind.MONTH, date(2026, 12, 2)),
        (PeriodKind.QUARTER, date(2026, 2, 1)),
        (PeriodKind.YEAR, date(2026, 7, 1)),
    ],
)
def test_period_starting_refuses_a_mid_period_date(
    kind: PeriodKind, start: date
) -> None:
    with pytest.raises(ValueError, match="not the first day"):
        period_starting(kind, start, SHANGHAI)


def test_period_refuses_naive_bounds() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Period(PeriodKind.DAY, datetime(2026, 1, 1), datetime(2026, 1, 2))


@pytest.mark.parametrize(
    "label",
    [
        "",
        "2026-W54",
        "2025-W53",
        "2026-13",
        "2026-Q5",
        "2026-02-30",
        "26",
        "2026-w49",
        " 2026",
        "2026-12-4",
        "0000",
        "２０２６",
        "2026-Q0",
        "2026-W00",
        "2026-00",
    ],
)
def test_parse_label_refuses_junk(label: str) -> None:
    with pytest.raises(ValueError, match="period label"):
        parse_label(label, SHANGHAI)


# Navigation, ranges and elapsed share


def test_next_and_previous_quarter() -> None:
    q4 = parse_label("2026-Q4", SHANGHAI)
    assert next_period(q4, SHANGHAI).label == "2027-Q1"
    assert previous_period(q4, SHANGHAI).label == "2026-Q3"


def test_previous_week_crosses_the_year() -> None:
    week = parse_label("2027-W01", SHANGHAI)
    assert previous_period(week, SHANGHAI).label == "2026-W53"


def test_periods_overlapping_a_range() -> None:
    found = periods_overlapping(
        PeriodKind.MONTH, shanghai(2026, 11, 30), shanghai(2027, 1, 1), SHANGHAI
    )
    assert [period.label for period in found] == ["2026-11", "2026-12"]


def test_periods_overlapping_an_empty_range_is_empty() -> None:
    instant = shanghai(2026, 12, 4)
    assert periods_overlapping(PeriodKind.DAY, instant, instant, SHANGHAI) == []


def test_elapsed_share_over_a_week() -> None:
    week = parse_label("2026-W49", SHANGHAI)
    assert elapsed_share(week, shanghai(2026, 11, 29)) == 0.0
    assert elapsed_share(week, week.start) == 0.0
    assert elapsed_share(week, shanghai(2026, 12, 3, 12)) == pytest.approx(0.5)
    assert elapsed_share(week, week.end) == 1.0
    assert elapsed_share(week, shanghai(2027, 1, 1)) == 1.0


def test_elapsed_share_counts_real_hours_on_a_dst_day() -> None:
    day = period_starting(PeriodKind.DAY, date(2026, 3, 8), NEW_YORK)
    noon = datetime(2026, 3, 8, 12, tzinfo=NEW_YORK)
    assert elapsed_share(day, noon) == pytest.approx(11 / 23)


# Properties


@given(kind=kinds, instant=instants, tz=zones)
def test_containing_period_contains_the_instant(
    kind: PeriodKind, instant: datetime, tz: ZoneInfo
) -> None:
    period = period_containing(kind, instant, tz)
    assert period.contains(instant)
    assert period.start < period.end
    assert period.kind is kind


@given(kind=kinds, instant=instants, tz=zones)
def test_label_round_trips(kind: PeriodKind, instant: datetime, tz: ZoneInfo) -> None:
    period = period_containing(kind, instant, tz)
    assert parse_label(period.label, tz) == period
    assert period_starting(kind, period.start_date, tz) == period


@given(kind=kinds, instant=instants, tz=zones)
def test_periods_tile_time(kind: PeriodKind, instant: datetime, tz: ZoneInfo) -> None:
    period = period_containing(kind, instant, tz)
    following = next_period(period, tz)
    assert following.start == period.end
    assert previous_period(following, tz) == period
    assert period_containing(kind, period.end, tz) == following


@given(kind=kinds, instant=instants, tz=zones, span=spans)
def test_overlapping_periods_cover_the_range(
    kind: PeriodKind, instant: datetime, tz: ZoneInfo, span: timedelta
) -> None:
    found = periods_overlapping(kind, instant, instant + span, tz)
    if span <= timedelta(0):
        assert found == []
        return
    assert found[0].contains(instant)
    assert found[-1].contains(instant + span - timedelta(microseconds=1))
    for earlier, later in itertools.pairwise(found):
        assert later.start == earlier.end


@given(kind=kinds, instant=instants, now=instants, tz=zones)
def test_elapsed_share_is_a_share(
    kind: PeriodKind, instant: datetime, now: datetime, tz: ZoneInfo
) -> None:
    share = elapsed_share(period_containing(kind, instant, tz), now)
    assert 0.0 <= share <= 1.0
