"""Appraisal scoring with worked numbers: scales, renormalised weights, bands,
streaks, and the refusals of template settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine.appraisal import (
    DEFAULT_BANDS,
    NEXT_STATUS,
    AppraisalStatus,
    Grade,
    Scale,
    ScoringError,
    Weighted,
    band_for,
    completes_streak,
    dump_bands,
    metric_score,
    parse_bands,
    parse_scale,
    round_score,
    run_length,
    shares,
    weighted_score,
)

D = Decimal
EXCELLENT, GOOD, QUALIFIED = Grade.EXCELLENT, Grade.GOOD, Grade.QUALIFIED
UNQUALIFIED = Grade.UNQUALIFIED

# --- scales ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "score"),
    [("0", "0"), ("30", "75"), ("40", "100"), ("55", "100"), ("-3", "0")],
)
def test_a_target_scores_the_share_reached_capped_at_100(
    value: str, score: str
) -> None:
    assert metric_score(D(value), Scale(target=D(40))) == D(score)


@pytest.mark.parametrize(
    ("minutes", "score"),
    [
        ("12", "100"),
        ("30", "100"),
        ("45", "50"),
        ("54", "20"),
        ("60", "0"),
        ("95", "0"),
    ],
)
def test_lower_is_better_falls_from_the_target_to_zero_at_twice_it(
    minutes: str, score: str
) -> None:
    # Average reply time against a 30-minute target: 45 minutes is half-way
    # from 30 to 60, so 50 points.
    scale = Scale(target=D(30), lower_is_better=True)
    assert metric_score(D(minutes), scale) == D(score)


POINTS = Scale(points=((D(0), D(0)), (D(100000), D(60)), (D(300000), D(100))))


@pytest.mark.parametrize(
    ("sales", "score"),
    [
        ("-5", "0"),
        ("0", "0"),
        ("50000", "30"),
        ("100000", "60"),
        ("200000", "80"),
        ("300000", "100"),
        ("900000", "100"),
    ],
)
def test_points_draw_straight_lines_flat_beyond_the_ends(
    sales: str, score: str
) -> None:
    assert metric_score(D(sales), POINTS) == D(score)


def test_scores_round_half_up_to_two_places() -> None:
    # A 0.9 reply rate against 0.95: 94.7368… points.
    assert round_score(metric_score(D("0.9"), Scale(target=D("0.95")))) == D("94.74")
    assert round_score(D("83.425")) == D("83.43")
    assert round_score(D("83.424999")) == D("83.42")


# --- weights -----------------------------------------------------------------


def test_the_weighted_mean_with_every_dimension_applying() -> None:
    # Platform hours 0.2, sales 0.3, inquiry reply rate 0.5.
    parts = [
        Weighted(D("0.2"), D(75)),
        Weighted(D("0.3"), D(80)),
        Weighted(D("0.5"), D("94.74")),
    ]
    assert weighted_score(parts) == D("86.37")  # 15 + 24 + 47.37
    assert shares(parts) == [D("0.2"), D("0.3"), D("0.5")]


def test_weights_renormalise_when_a_dimension_does_not_apply() -> None:
    # No inquiries: the reply rate is out, and 0.2/0.3 become 0.4/0.6.
    parts = [
        Weighted(D("0.2"), D(75)),
        Weighted(D("0.3"), D(80)),
        Weighted(D("0.5"), None),
    ]
    assert shares(parts) == [D("0.4"), D("0.6"), D(0)]
    assert weighted_score(parts) == D("78.00")  # 0.4 × 75 + 0.6 × 80
    thirds = [Weighted(D(1), D(70)), Weighted(D(2), D(80)), Weighted(D(3), None)]
    assert weighted_score(thirds) == D("76.67")  # (70 + 160) / 3, half-up


def test_nothing_applying_has_no_score_and_no_shares() -> None:
    parts = [Weighted(D(1), None), Weighted(D(2), None)]
    assert weighted_score(parts) is None
    assert shares(parts) == [D(0), D(0)]
    assert weighted_score([]) is None


scores = st.decimals(min_value=0, max_value=100, places=2)
weights = st.decimals(min_value=D("0.01"), max_value=10, places=2)
parts_st = st.lists(
    st.builds(Weighted, weights, st.one_of(st.none(), scores)), min_size=1, max_size=8
)


@given(parts_st)
def test_the_score_lies_between_the_lowest_and_highest_applying(
    parts: list[Weighted],
) -> None:
    applying = [p.score for p in parts if p.score is not None]
    found = weighted_score(parts)
    if not applying:
        assert found is None
        return
    assert found is not None
    assert round_score(min(applying)) <= found <= round_score(max(applying))


@given(parts_st)
def test_shares_of_the_applying_dimensions_sum_to_one(parts: list[Weighted]) -> None:
    total = sum(shares(parts), D(0))
    expected = 1 if any(p.score is not None for p in parts) else 0
    assert abs(total - expected) < D("1e-20")


# --- bands -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "grade", "multiplier"),
    [
        ("100", EXCELLENT, "1.20"),
        ("90", EXCELLENT, "1.20"),
        ("89.99", GOOD, "1.00"),
        ("80", GOOD, "1.00"),
        ("79.99", QUALIFIED, "0.90"),
        ("70", QUALIFIED, "0.90"),
        ("69.99", UNQUALIFIED, "0.50"),
        ("0", UNQUALIFIED, "0.50"),
    ],
)
def test_band_edges(score: str, grade: Grade, multiplier: str) -> None:
    band = band_for(D(score), DEFAULT_BANDS)
    assert (band.grade, band.multiplier) == (grade, D(multiplier))


def test_configured_bands_parse_sorted_and_dump_back() -> None:
    raw = [
        {"minimum": "0", "grade": "UNQUALIFIED", "multiplier": "0"},
        {"minimum": "95", "grade": "EXCELLENT", "multiplier": "1.5"},
        {"minimum": "60", "grade": "QUALIFIED", "multiplier": "0.8"},
    ]
    bands = parse_bands(raw)
    assert [b.grade for b in bands] == [EXCELLENT, QUALIFIED, UNQUALIFIED]
    assert band_for(D("94.99"), bands).grade is QUALIFIED
    assert band_for(D("59.99"), bands).multiplier == 0
    assert parse_bands(dump_bands(bands)) == bands
    assert dump_bands(DEFAULT_BANDS)[0] == {
        "minimum": "90",
        "grade": "EXCELLENT",
        "multiplier": "1.20",
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "bands"),
        ({"minimum": "0"}, "bands"),
        ([{"minimum": "0", "grade": "GOOD"}], "bands.0"),
        ([{"minimum": "0", "grade": "SUPERB", "multiplier": "1"}], "bands.0.grade"),
        ([{"minimum": 0.5, "grade": "GOOD", "multiplier": "1"}], "bands.0.minimum"),
        ([{"minimum": "101", "grade": "GOOD", "multiplier": "1"}], "bands.0"),
        ([{"minimum": "0", "grade": "GOOD", "multiplier": "-1"}], "bands.0"),
        ([{"minimum": "10", "grade": "GOOD", "multiplier": "1"}], "bands"),
        (
            [
                {"minimum": "0", "grade": "GOOD", "multiplier": "1"},
                {"minimum": "50", "grade": "GOOD", "multiplier": "1"},
            ],
            "bands",
        ),
        (
            [
                {"minimum": "0", "grade": "GOOD", "multiplier": "1"},
                {"minimum": "0", "grade": "EXCELLENT", "multiplier": "1"},
            ],
            "bands",
        ),
    ],
)
def test_unusable_bands_are_refused_naming_the_field(raw: Any, field: str) -> None:
    with pytest.raises(ScoringError) as caught:
        parse_bands(raw)
    assert caught.value.field == field


# --- scales as set -------------------------------------------------------------


def test_scales_parse_from_their_settings() -> None:
    assert parse_scale({"target": "40"}) == Scale(target=D(40))
    assert parse_scale({"target": 30, "lowerIsBetter": True}) == Scale(
        target=D(30), lower_is_better=True
    )
    assert parse_scale({"points": [["0", "0"], ["10", "100"]]}) == Scale(
        points=((D(0), D(0)), (D(10), D(100)))
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("40", "scale"),
        ({}, "scale"),
        ({"target": "40", "points": []}, "scale"),
        ({"target": "0"}, "scale.target"),
        ({"target": 0.95}, "scale.target"),
        ({"target": "NaN"}, "scale.target"),
        ({"target": "40", "lowerIsBetter": "yes"}, "scale.lowerIsBetter"),
        ({"target": "40", "cap": "100"}, "scale"),
        ({"points": [["0", "0"]]}, "scale.points"),
        ({"points": [["0", "0"], ["0", "100"]]}, "scale.points.1.0"),
        ({"points": [["0", "0"], ["10", "101"]]}, "scale.points.1.1"),
        ({"points": [["0", "0"], "10"]}, "scale.points.1"),
        (
            {"points": [["0", "100"], ["10", "0"]], "lowerIsBetter": True},
            "scale.lowerIsBetter",
        ),
    ],
)
def test_unusable_scales_are_refused_naming_the_field(raw: Any, field: str) -> None:
    with pytest.raises(ScoringError) as caught:
        parse_scale(raw)
    assert caught.value.field == field


# --- the state machine and streaks --------------------------------------------


def test_an_appraisal_moves_one_step_at_a_time_and_never_leaves_finalized() -> None:
    assert dict(NEXT_STATUS) == {
        AppraisalStatus.DRAFT: AppraisalStatus.SELF_REVIEW,
        AppraisalStatus.SELF_REVIEW: AppraisalStatus.MANAGER_REVIEW,
        AppraisalStatus.MANAGER_REVIEW: AppraisalStatus.FINALIZED,
    }
    assert AppraisalStatus.FINALIZED not in NEXT_STATUS


def test_three_consecutive_excellent_years_complete_a_streak() -> None:
    grades = {2024: EXCELLENT, 2025: EXCELLENT, 2026: EXCELLENT}
    assert completes_streak(grades, 2026, 3, EXCELLENT)
    assert not completes_streak(grades, 2025, 3, EXCELLENT)
    assert not completes_streak(grades, 2027, 3, EXCELLENT)
    assert run_length(grades, 2026, EXCELLENT) == 3


def test_two_years_or_a_gap_are_no_streak() -> None:
    assert not completes_streak({2025: EXCELLENT, 2026: EXCELLENT}, 2026, 3, EXCELLENT)
    gap = {2023: EXCELLENT, 2024: EXCELLENT, 2026: EXCELLENT}
    assert not completes_streak(gap, 2026, 3, EXCELLENT)
    assert run_length(gap, 2026, EXCELLENT) == 1
    good_year = {2024: EXCELLENT, 2025: GOOD, 2026: EXCELLENT}
    assert not completes_streak(good_year, 2026, 3, EXCELLENT)


def test_streaks_count_in_blocks_from_the_start_of_a_run() -> None:
    run = {year: EXCELLENT for year in range(2020, 2027)}
    ends = [y for y in range(2020, 2027) if completes_streak(run, y, 3, EXCELLENT)]
    assert ends == [2022, 2025]


def test_a_streak_of_a_lower_grade_counts_better_years() -> None:
    grades = {2024: GOOD, 2025: EXCELLENT, 2026: GOOD}
    assert completes_streak(grades, 2026, 3, GOOD)
    assert not completes_streak({**grades, 2025: QUALIFIED}, 2026, 3, GOOD)
