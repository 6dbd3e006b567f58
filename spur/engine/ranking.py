"""Ranking as pure functions: order, ranks, windows, scopes and the count tree.

One order serves the live board and every prize: higher value first; among
equal values, whoever reached the value first; then name; then member id,
so the order is total. Equal values share a competition rank (1, 2, 2, 4).

A member's rank is one plus the number of scores strictly above theirs. To
count those without reading them, every board keeps a tree of counts over
the hex digits of its (offset) scaled values: `LEVELS` levels, the last one
the exact value. Scores above `u` are, at each level, the siblings of `u`'s
prefix with a larger digit: at most 15 nodes a level, 180 in all, however
many members the board has (`sibling_ranges`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from spur.engine.metrics import ActivityKind
from spur.engine.periods import PeriodKind

COMPANY = "company"
TOP_N = 10
DIGIT_BITS = 4
LEVELS = 12
DOMAIN_BITS = DIGIT_BITS * LEVELS
OFFSET = 1 << (DOMAIN_BITS - 1)
SCALE = 10**4

# Boards whose changes tell the member (RANK_CHANGED): the company board of
# orders and sales (every ORDER_CLOSED metric) for the week and the month.
# Other boards are read on demand and stay quiet.
RANK_EVENT_KINDS = frozenset({PeriodKind.WEEK, PeriodKind.MONTH})
RANK_EVENT_ACTIVITY = ActivityKind.ORDER_CLOSED

# Age segments: full years on the period's first day.
YOUNG_MAX_AGE = 30
SENIOR_MIN_AGE = 35
AGE_YOUNG = "age:30-"
AGE_SENIOR = "age:35+"


@dataclass(frozen=True)
class Standing:
    """A member's score on a board, with what orders a tie."""

    member_id: int
    name: str
    value: Decimal
    reached_at: datetime


@dataclass(frozen=True)
class Ranked:
    """A standing with its competition rank."""

    rank: int
    standing: Standing


def order_key(item: Standing) -> tuple[Decimal, datetime, str, int]:
    """Sort key of the declared order (ascending sort puts the leader first)."""
    return (-item.value, item.reached_at, item.name, item.member_id)


def rank_standings(items: Iterable[Standing], first_rank: int = 1) -> list[Ranked]:
    """Standings in board order with competition ranks from `first_rank`.

    `first_rank` is the rank of the first item when the items are a page
    that starts part-way down a board (it is `1 + scores above it`).
    """
    ordered = sorted(items, key=order_key)
    ranked: list[Ranked] = []
    for index, item in enumerate(ordered):
        tied = ranked and ranked[-1].standing.value == item.value
        rank = ranked[-1].rank if tied else first_rank + index
        ranked.append(Ranked(rank, item))
    return ranked


def page_ranks(values: Sequence[Decimal], first_rank: int, above: int) -> list[int]:
    """Competition ranks of a page of board-ordered values.

    `first_rank` is the rank of the first value; `above` is how many
    entries precede the page on the board (its offset).
    """
    ranks: list[int] = []
    for index, value in enumerate(values):
        if ranks and values[index - 1] == value:
            ranks.append(ranks[-1])
        else:
            ranks.append(first_rank if index == 0 else above + index + 1)
    return ranks


def window(position: int, total: int, n: int) -> tuple[int, int]:
    """The [start, end) offsets of `n` entries either side of `position`.

    At the top or bottom of a board the window slides inward, so it still
    holds `2n + 1` entries when the board has that many.
    """
    if total <= 0:
        return (0, 0)
    size = min(2 * n + 1, total)
    start = min(max(position - n, 0), total - size)
    return (start, start + size)


def full_years(birth: date, on: date) -> int:
    """Age in whole years on a day."""
    before_birthday = (on.month, on.day) < (birth.month, birth.day)
    return on.year - birth.year - int(before_birthday)


def team_scope(team_id: int) -> str:
    """The scope key of a team's board."""
    return f"team:{team_id}"


def market_scope(market: str) -> str:
    """The scope key of a market segment: members of teams in that market."""
    return f"market:{market.upper()}"


def member_scopes(
    team_id: int | None,
    market: str | None,
    birth: date | None,
    period_start: date,
) -> list[str]:
    """Every board scope a member's score counts on in a period.

    The company always; the member's team; the team's market; an age band
    when the member's age on the period's first day falls in one (30 or
    under, 35 or over; 31 to 34 and unknown ages are in neither).
    """
    scopes = [COMPANY]
    if team_id is not None:
        scopes.append(team_scope(team_id))
    if market:
        scopes.append(market_scope(market))
    if birth is not None:
        age = full_years(birth, period_start)
        if age <= YOUNG_MAX_AGE:
            scopes.append(AGE_YOUNG)
        elif age >= SENIOR_MIN_AGE:
            scopes.append(AGE_SENIOR)
    return scopes


def is_segment(scope: str) -> bool:
    """Whether a scope key names a segment (not the company or a team)."""
    if scope in (AGE_YOUNG, AGE_SENIOR):
        return True
    return scope.startswith("market:") and len(scope) > len("market:")


def tree_value(value: Decimal) -> int:
    """A value's place in the count tree: scaled, offset, clamped to the domain.

    The domain covers ±(2**47 / 10**4), about ±14 billion in a metric's
    unit per member and period; values beyond it count as its ends.
    """
    scaled = int(value * SCALE) + OFFSET
    return min(max(scaled, 0), (1 << DOMAIN_BITS) - 1)


def node_path(u: int) -> list[tuple[int, int]]:
    """The (level, prefix) nodes a tree value is counted in, root first."""
    return [
        (level, u >> (DIGIT_BITS * (LEVELS - level))) for level in range(1, LEVELS + 1)
    ]


def node_deltas(
    moves: Iterable[tuple[int | None, int | None]],
) -> Counter[tuple[int, int]]:
    """Count changes for scores moving from one tree value to another.

    `None` is "not on the board". Nodes both paths share cancel out, so a
    small increase touches only the last few levels.
    """
    deltas: Counter[tuple[int, int]] = Counter()
    for before, after in moves:
        if before is not None:
            deltas.subtract(node_path(before))
        if after is not None:
            deltas.update(node_path(after))
    return Counter({node: n for node, n in deltas.items() if n != 0})


def sibling_ranges(u: int) -> list[tuple[int, int, int]]:
    """(level, low, high) prefix ranges whose counts sum to the scores above `u`.

    A larger value first differs from `u` at exactly one level, where its
    digit is larger under the same parent: counted once, in that range.
    """
    mask = (1 << DIGIT_BITS) - 1
    ranges = []
    for level, prefix in node_path(u):
        if prefix & mask != mask:
            ranges.append((level, prefix + 1, prefix | mask))
    return ranges


def count_above(u: int, counts: dict[tuple[int, int], int]) -> int:
    """Scores above `u` from in-memory node counts (the SQL read's twin)."""
    return sum(
        n
        for (level, prefix), n in counts.items()
        for lv, low, high in sibling_ranges(u)
        if lv == level and low <= prefix <= high
    )


def rank_change_reason(
    rank_before: int | None, rank_after: int, overtaken: int, top_n: int = TOP_N
) -> str | None:
    """Why a rise on a board is news, or None when it is not.

    "top" when the member enters the top N (from outside it, or new to the
    board); "overtook" when they passed at least one member; else None
    (a tie is not a pass, and a fall is never news).
    """
    was_outside = rank_before is None or rank_before > top_n
    if rank_after <= top_n and was_outside:
        return "top"
    if rank_before is not None and overtaken > 0:
        return "overtook"
    return None
