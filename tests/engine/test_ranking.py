"""Ranking rules: order, competition ranks, windows, scopes and the count tree."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from spur.engine import ranking
from spur.engine.ranking import Standing

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def standing(member: int, value: str, minute: int, name: str = "") -> Standing:
    return Standing(
        member, name or f"M{member}", Decimal(value), T0 + timedelta(minutes=minute)
    )


def test_equal_values_share_a_rank_and_the_next_rank_skips() -> None:
    board = ranking.rank_standings(
        [
            standing(1, "5", 0),
            standing(2, "9", 0),
            standing(3, "5", 1),
            standing(4, "1", 0),
        ]
    )
    assert [(r.rank, r.standing.member_id) for r in board] == [
        (1, 2),
        (2, 1),
        (2, 3),
        (4, 4),
    ]


def test_inside_a_tie_the_first_to_reach_leads_then_the_name() -> None:
    board = ranking.rank_standings(
        [
            standing(1, "7", 5, "Zhao"),
            standing(2, "7", 3, "Wang"),
            standing(3, "7", 5, "Li"),
        ]
    )
    assert [r.standing.name for r in board] == ["Wang", "Li", "Zhao"]
    assert {r.rank for r in board} == {1}


standings = st.lists(
    st.builds(
        standing,
        member=st.integers(1, 10_000),
        value=st.integers(-50, 50).map(str),
        minute=st.integers(0, 5),
        name=st.sampled_from(["A", "B", "b", "Ä"]),
    ),
    max_size=40,
    unique_by=lambda s: s.member_id,
)


@given(standings)
def test_a_rank_is_one_plus_the_members_strictly_above(items: list[Standing]) -> None:
    for ranked in ranking.rank_standings(items):
        above = sum(1 for other in items if other.value > ranked.standing.value)
        assert ranked.rank == above + 1


@given(standings)
def test_the_order_is_total_and_does_not_depend_on_input_order(
    items: list[Standing],
) -> None:
    forward = ranking.rank_standings(items)
    backward = ranking.rank_standings(list(reversed(items)))
    assert forward == backward
    keys = [ranking.order_key(r.standing) for r in forward]
    assert keys == sorted(keys)


@given(standings, st.integers(0, 39), st.integers(1, 10))
def test_page_ranks_agree_with_the_whole_board(
    items: list[Standing], offset: int, size: int
) -> None:
    board = ranking.rank_standings(items)
    page = board[offset : offset + size]
    if not page:
        return
    first = 1 + sum(1 for s in items if s.value > page[0].standing.value)
    ranks = ranking.page_ranks([r.standing.value for r in page], first, offset)
    assert ranks == [r.rank for r in page]


def test_the_window_slides_inward_at_the_top_and_bottom() -> None:
    assert ranking.window(0, 10, 2) == (0, 5)
    assert ranking.window(1, 10, 2) == (0, 5)
    assert ranking.window(5, 10, 2) == (3, 8)
    assert ranking.window(9, 10, 2) == (5, 10)
    assert ranking.window(0, 3, 2) == (0, 3)
    assert ranking.window(0, 1, 0) == (0, 1)
    assert ranking.window(0, 0, 2) == (0, 0)


@given(st.integers(1, 60), st.integers(0, 59), st.integers(0, 10))
def test_the_window_holds_the_position_and_as_many_as_it_can(
    total: int, raw: int, n: int
) -> None:
    position = raw % total
    start, end = ranking.window(position, total, n)
    assert 0 <= start <= position < end <= total
    assert end - start == min(2 * n + 1, total)


def test_scopes_are_company_team_market_and_age_band() -> None:
    young = ranking.member_scopes(7, "sea", date(1996, 5, 1), date(2026, 11, 30))
    assert young == ["company", "team:7", "market:SEA", "age:30-"]
    # 31 to 34 is in neither band; 35 is in the senior one from the birthday.
    assert ranking.member_scopes(None, None, date(1994, 1, 1), date(2026, 1, 5)) == [
        "company"
    ]
    senior = ranking.member_scopes(None, None, date(1991, 3, 2), date(2026, 3, 2))
    assert senior == ["company", "age:35+"]
    assert ranking.member_scopes(None, None, date(1991, 3, 2), date(2026, 3, 1)) == [
        "company"
    ]


def test_segments_are_recognised() -> None:
    assert ranking.is_segment("age:30-")
    assert ranking.is_segment("market:SEA")
    assert not ranking.is_segment("market:")
    assert not ranking.is_segment("team:3")
    assert not ranking.is_segment("company")


values = st.decimals(
    min_value=Decimal(-10_000), max_value=Decimal(10_000), places=4, allow_nan=False
)


@given(st.lists(values, max_size=30), values)
def test_the_tree_counts_exactly_the_values_above(
    board: list[Decimal], probe: Decimal
) -> None:
    counts = ranking.node_deltas([(None, ranking.tree_value(v)) for v in board])
    expected = sum(1 for v in board if v > probe)
    assert ranking.count_above(ranking.tree_value(probe), dict(counts)) == expected


@given(st.lists(st.tuples(values, values), max_size=20))
def test_moving_scores_in_the_tree_equals_building_it_afresh(
    moves: list[tuple[Decimal, Decimal]],
) -> None:
    moved: Counter[tuple[int, int]] = Counter()
    moved.update(ranking.node_deltas([(None, ranking.tree_value(a)) for a, _ in moves]))
    moved.update(
        ranking.node_deltas(
            [(ranking.tree_value(a), ranking.tree_value(b)) for a, b in moves]
        )
    )
    fresh = ranking.node_deltas([(None, ranking.tree_value(b)) for _, b in moves])
    assert +moved == fresh


def test_a_rank_read_touches_a_bounded_number_of_ranges() -> None:
    for value in ("0", "1", "12345.6789", "-3"):
        ranges = ranking.sibling_ranges(ranking.tree_value(Decimal(value)))
        assert len(ranges) <= ranking.LEVELS
        assert all(high - low < 15 for _, low, high in ranges)


def test_values_beyond_the_domain_count_as_its_ends() -> None:
    assert ranking.tree_value(Decimal(10) ** 15) == (1 << ranking.DOMAIN_BITS) - 1
    assert ranking.tree_value(-(Decimal(10) ** 15)) == 0


def test_news_is_entering_the_top_or_passing_someone() -> None:
    assert ranking.rank_change_reason(None, 3, 0) == "top"
    assert ranking.rank_change_reason(None, 11, 0) is None
    assert ranking.rank_change_reason(12, 10, 2) == "top"
    assert ranking.rank_change_reason(5, 4, 1) == "overtook"
    assert ranking.rank_change_reason(5, 5, 0) is None
    assert ranking.rank_change_reason(20, 15, 5) == "overtook"
    # Drawing level with the member above is no pass.
    assert ranking.rank_change_reason(5, 4, 0) is None
    assert ranking.rank_change_reason(3, 3, 0, top_n=3) is None
