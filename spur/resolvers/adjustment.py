"""Which ledger lines a re-rating adjusts, and by how much: no I/O.

A rule pays under a key `rv{version}:{code}:{what}`; without its version,
`{code}:{what}` names the thing the rule pays for (an order's commission, a
step of a week, a goal's period), whichever version paid it. The ledger and
the replay are compared per such thing and reward kind: what the replay
expects against the sum of what the ledger holds, all statuses but REJECTED
(an entry and its `:void` compensation net to zero). So a retroactive
version that changes nothing for an order writes nothing for it, and one
that does writes a single line under the new version's key.

A thing someone rejected, under any version, stays as decided: re-rating
never pays it again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from spur.models import CASH_KINDS, EntryCause, LedgerEntry, RewardKind, RewardStatus
from spur.resolvers.replay import Expected, Replay

_KEY = re.compile(
    r"(?P<base>rv(?P<version>-?[0-9]+):(?P<tail>.+?))"
    r"(?::adj:(?P<n>[0-9]+))?(?::void)?"
)
# What a rule paid for: (plan id, key without version, reward kind).
Thing = tuple[int, str, RewardKind]


def version_of(key: str) -> int | None:
    """The plan version a ledger key was paid under; None for other keys."""
    match = _KEY.fullmatch(key)
    return int(match["version"]) if match else None


def measure(
    kind: RewardKind, amount: Decimal | None, quantity: Decimal | None
) -> Decimal:
    """How much a line pays: cash, else its quantity, else one entitlement."""
    if kind in CASH_KINDS:
        return amount or Decimal(0)
    return Decimal(1) if quantity is None else quantity


def held(entries: Iterable[LedgerEntry]) -> Decimal:
    """What entries add up to, all statuses but REJECTED."""
    total = Decimal(0)
    for entry in entries:
        if entry.status is RewardStatus.REJECTED:
            continue
        found = measure(entry.kind, entry.amount, entry.quantity)
        if entry.kind not in CASH_KINDS and entry.quantity is None:
            # A title has no quantity: the entry compensating it takes it back.
            found = -found if entry.reverses_id is not None else found
        total += found
    return total


@dataclass
class Line:
    """One adjustment to write: under `base`, from `previous` to `wanted`."""

    base: str
    wanted: Decimal
    previous: Decimal
    expected: Expected | None
    entries: list[LedgerEntry]

    @property
    def difference(self) -> Decimal:
        return self.wanted - self.previous

    @property
    def number(self) -> int:
        """1 + the adjustments already made under `base`."""
        found = [_KEY.fullmatch(e.key) for e in self.entries]
        numbers = [
            int(m["n"]) for m in found if m and m["n"] and m["base"] == self.base
        ]
        return 1 + max(numbers, default=0)

    @property
    def original(self) -> LedgerEntry | None:
        """The entry the rule first wrote for this thing, else the oldest."""
        earned = [e for e in self.entries if e.cause is EntryCause.EARNED]
        found = earned or self.entries
        return found[0] if found else None

    @property
    def taken_back(self) -> int | None:
        """The latest entry still granting a quantity-less entitlement."""
        granting = [
            e
            for e in self.entries
            if e.reverses_id is None and e.status is not RewardStatus.REJECTED
        ]
        return granting[-1].id if granting else None


@dataclass
class _Thing:
    entries: list[LedgerEntry] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)

    def lines(self) -> list[Line]:
        if self.expected:
            wanted = sum(
                (measure(e.kind, e.amount, e.quantity) for e in self.expected),
                Decimal(0),
            )
            previous = held(self.entries)
            if wanted == previous:
                return []
            last = self.expected[-1]
            return [Line(last.key, wanted, previous, last, self.entries)]
        # Expected under no version any more: each version's lines taken back.
        by_base: dict[str, list[LedgerEntry]] = defaultdict(list)
        for entry in self.entries:
            match = _KEY.fullmatch(entry.key)
            assert match is not None
            by_base[match["base"]].append(entry)
        return [
            Line(base, Decimal(0), held(entries), None, entries)
            for base, entries in by_base.items()
            if held(entries) != 0
        ]


def to_adjust(
    replayed: Replay,
    ledger: Iterable[LedgerEntry],
    window: tuple[datetime, datetime],
    plans: Mapping[int, int],
    member_id: int | None = None,
) -> list[Line]:
    """The adjustments that bring the range's lines to what the replay expects.

    `plans` maps the versions looked at to their plans; lines of other
    versions, and of other members than `member_id` when set, stay as they
    are. A thing is in the range when the replay expects it from an activity
    of the range, or the ledger holds an entry of it earned in the range; one
    the replay paid for an activity before the range belongs to that earlier
    range and is left alone.
    """
    things: dict[Thing, _Thing] = defaultdict(_Thing)
    in_range: set[Thing] = set()
    for entry in ledger:
        where = _where(entry.key, plans)
        if where is None or member_id not in (None, entry.member_id):
            continue
        thing = (*where, entry.kind)
        things[thing].entries.append(entry)
        if window[0] <= entry.earned_at < window[1]:
            in_range.add(thing)
    for exp in replayed.expected:
        where = _where(exp.key, plans)
        if where is not None and member_id in (None, exp.member_id):
            things[(*where, exp.kind)].expected.append(exp)
            in_range.add((*where, exp.kind))
    earlier = {_where(key, plans) for key in replayed.before_range}
    decided = {
        thing[:2]
        for thing, found in things.items()
        if any(e.status is RewardStatus.REJECTED for e in found.entries)
    }
    return [
        line
        for thing in sorted(in_range)
        if thing[:2] not in earlier and thing[:2] not in decided
        for line in things[thing].lines()
    ]


def _where(key: str, plans: Mapping[int, int]) -> tuple[int, str] | None:
    """The plan a key was paid in and what for; None outside `plans`."""
    match = _KEY.fullmatch(key)
    if match is None:
        return None
    plan = plans.get(int(match["version"]))
    return None if plan is None else (plan, match["tail"])
