"""Member statements: ledger lines grouped by rule, with totals by status.

Pure functions over plain values. The resolvers load the entries and name the
line each belongs to; here they are grouped, summed and ordered. Amounts are
already rounded once per ledger line, so sums are exact and never rounded
again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

# The ledger's statuses in the order statements list them (RewardStatus's).
STATUSES: tuple[str, ...] = ("PENDING", "APPROVED", "PAID", "REJECTED", "REVERSED")
# What counts as earned: everything but refused and reversed lines.
LIVE_STATUSES: frozenset[str] = frozenset({"PENDING", "APPROVED", "PAID"})
PAYABLE = "APPROVED"
PAID = "PAID"
ZERO = Decimal(0)


@dataclass(frozen=True, order=True)
class LineKey:
    """What a statement line groups by: a kind of line and a source.

    `rank` orders kinds of lines (earned before adjustments); `source` names
    what paid, such as a plan's rule code, the same across its versions.
    """

    rank: int
    source: str


@dataclass(frozen=True)
class StatementItem:
    """One cash ledger entry as a statement sees it, and its line's name."""

    key: LineKey
    label: str
    status: str
    amount: Decimal


@dataclass(frozen=True)
class StatementLine:
    """The entries of one rule (or kind of adjustment) in the month."""

    key: LineKey
    label: str
    entries: int
    by_status: tuple[tuple[str, Decimal], ...]
    total: Decimal


@dataclass(frozen=True)
class Statement:
    """Lines by rule and the month's totals; `total` excludes dead statuses."""

    lines: tuple[StatementLine, ...]
    totals_by_status: tuple[tuple[str, Decimal], ...]
    total: Decimal
    payable: Decimal
    paid: Decimal


def status_totals(pairs: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """The sum of amounts per status, every status present (zero when none).

    Raises ValueError for a status the ledger does not have, so a new status
    cannot silently fall out of every total.
    """
    totals = dict.fromkeys(STATUSES, ZERO)
    for status, amount in pairs:
        if status not in totals:
            raise ValueError(f"unknown ledger status: {status!r}")
        totals[status] += amount
    return totals


def live_total(totals: Mapping[str, Decimal]) -> Decimal:
    """What was earned: the sum over pending, approved and paid."""
    return sum((totals[status] for status in STATUSES if status in LIVE_STATUSES), ZERO)


def build_line(key: LineKey, items: list[StatementItem]) -> StatementLine:
    """One line: its entries counted, summed per status present, and in total.

    It is called as its last item names it: with items oldest first, a rule
    renamed in a later version reads with its newer title.
    """
    totals = status_totals((item.status, item.amount) for item in items)
    present = {item.status for item in items}
    return StatementLine(
        key=key,
        label=items[-1].label,
        entries=len(items),
        by_status=tuple((s, totals[s]) for s in STATUSES if s in present),
        total=live_total(totals),
    )


def _line_order(line: StatementLine) -> tuple[int, str, str]:
    return (line.key.rank, line.label, line.key.source)


def build_statement(items: Iterable[StatementItem]) -> Statement:
    """Group `items` (oldest first) into lines and total the month by status.

    Lines are ordered by rank, then name, then source.
    """
    grouped: defaultdict[LineKey, list[StatementItem]] = defaultdict(list)
    for item in items:
        grouped[item.key].append(item)
    built = (build_line(key, group) for key, group in grouped.items())
    lines = tuple(sorted(built, key=_line_order))

    totals = status_totals(
        (status, amount) for line in lines for status, amount in line.by_status
    )
    return Statement(
        lines=lines,
        totals_by_status=tuple(totals.items()),
        total=live_total(totals),
        payable=totals[PAYABLE],
        paid=totals[PAID],
    )
