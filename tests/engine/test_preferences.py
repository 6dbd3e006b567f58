"""Preference shares, inference and the recommended mix on plain values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine import preferences as prefs
from spur.engine.preferences import FAMILIES, Answer, Chased, Family, Segment, Source

TODAY = date(2026, 12, 4)
WEEK = date(2026, 11, 30)


def test_segments_by_age_on_the_day() -> None:
    assert prefs.segment_of(date(1996, 12, 4), TODAY) is Segment.YOUNG  # 30 today
    assert prefs.segment_of(date(1995, 12, 4), TODAY) is Segment.OTHER  # 31
    assert prefs.segment_of(date(1991, 12, 5), TODAY) is Segment.OTHER  # 34
    assert prefs.segment_of(date(1991, 12, 4), TODAY) is Segment.SENIOR  # 35
    assert prefs.segment_of(None, TODAY) is Segment.OTHER


def test_a_ranking_is_one_to_four_distinct_kinds() -> None:
    assert prefs.check_ranking(["TEAM_HONOR"]) == [Family.TEAM_HONOR]
    for bad in ([], ["TEAM_HONOR", "TEAM_HONOR"], ["CASH"], list(FAMILIES) * 2):
        with pytest.raises(ValueError, match=r"rank|valid"):
            prefs.check_ranking(bad)


def test_commission_lines_count_once_a_week_per_rule() -> None:
    weeks = [date(2026, 11, 16), date(2026, 11, 23), WEEK]
    lines = [Chased("COMMISSION", False, w, "plan:1:v1:base") for w in weeks] * 10
    lines += [Chased("TRAINING", False, WEEK, "plan:1:v1:hours")] * 2

    assert prefs.inferred(lines) is Family.INSTANT_COMMISSION  # 3 weeks against 2
    lines += [Chased("TRAINING", False, WEEK, "plan:1:v1:hours")] * 2
    assert prefs.inferred(lines) is Family.GROWTH_TRAINING


def test_team_rules_and_long_term_kinds() -> None:
    team = [Chased("CASH", True, WEEK, "plan:2:v1:star")] * 2
    assert prefs.inferred(team) is Family.TEAM_HONOR
    assert prefs.inferred([Chased("EQUITY", False, WEEK, "x")]) is (
        Family.LONG_TERM_BENEFITS
    )
    assert prefs.inferred([]) is None


def answers(segment: Segment, *families: Family | None) -> list[Answer]:
    return [
        Answer(n, segment, f, Source.STATED if f else None)
        for n, f in enumerate(families)
    ]


def test_shares_of_a_segment_among_known_preferences() -> None:
    found = prefs.shares(
        answers(Segment.YOUNG, *[Family.INSTANT_COMMISSION] * 3, Family.TEAM_HONOR)
        + answers(Segment.YOUNG, None)
        + answers(Segment.SENIOR, Family.TEAM_HONOR),
        Segment.YOUNG,
    )

    assert (found.members, found.stated, found.known) == (5, 4, 4)
    by_family = {s.family: s.share for s in found.shares}
    assert by_family[Family.INSTANT_COMMISSION] == Decimal("0.75")
    assert found.top is not None
    assert found.top.family is Family.INSTANT_COMMISSION
    assert prefs.headline(found, "en") == (
        "75% of staff aged 30 or under prefer instant commission"
    )
    assert prefs.headline(found, "zh-CN") == "75%的30 岁及以下的员工偏好即时提成"


def test_a_segment_nobody_answered_for() -> None:
    found = prefs.shares(answers(Segment.OTHER, None), Segment.OTHER)

    assert found.top is None
    assert prefs.recommended_mix(found) == dict.fromkeys(FAMILIES, Decimal("0.25"))


@given(st.lists(st.sampled_from(FAMILIES), max_size=60))
def test_the_mix_adds_up_and_follows_the_shares(chosen: list[Family]) -> None:
    found = prefs.shares(answers(Segment.SENIOR, *chosen), Segment.SENIOR)
    mix = prefs.recommended_mix(found)

    assert sum(mix.values()) == 1
    assert all(share > 0 for share in mix.values())
    counts = {f: chosen.count(f) for f in FAMILIES}
    for a in FAMILIES:
        for b in FAMILIES:
            if counts[a] > counts[b]:
                assert mix[a] >= mix[b]


def test_offered_mix_counts_rules_by_family() -> None:
    mix = prefs.offered_mix(
        [Family.INSTANT_COMMISSION, Family.INSTANT_COMMISSION, Family.GROWTH_TRAINING]
    )

    assert mix[Family.INSTANT_COMMISSION] == Decimal("0.67")
    assert mix[Family.TEAM_HONOR] == 0
