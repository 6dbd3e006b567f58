"""Preference profiles: what each group of people wants from a reward. No I/O.

A member's preference is what they stated (the first of the ranking in
their latest survey, else the preference on their profile), or else what
their rewards say they chase: the family with the most "things chased" in
a window, where a cash or commission rule counts once per ISO week and an
entitlement once per entry, so a busy seller's hundred commission lines
count as the weeks they chased commission, not as a hundred votes.
Appraisal pay is left out: nobody chooses it. Shares are counted per
segment (30 or under, 35 or over, everyone else), and a recommended mix
follows from them.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

YOUNG_MAX_AGE = 30
SENIOR_MIN_AGE = 35


class Family(enum.StrEnum):
    """The four kinds of reward people are asked to rank (the values of
    `IncentivePreference`)."""

    INSTANT_COMMISSION = "INSTANT_COMMISSION"
    GROWTH_TRAINING = "GROWTH_TRAINING"
    TEAM_HONOR = "TEAM_HONOR"
    LONG_TERM_BENEFITS = "LONG_TERM_BENEFITS"


FAMILIES: tuple[Family, ...] = tuple(Family)


class Segment(enum.StrEnum):
    YOUNG = "YOUNG"
    SENIOR = "SENIOR"
    OTHER = "OTHER"


class Source(enum.StrEnum):
    STATED = "STATED"
    INFERRED = "INFERRED"


# Which family a ledger line's reward kind speaks for. Team rules (a title
# or a bonus for the team's result) speak for team honour whatever they pay.
KIND_FAMILY: dict[str, Family] = {
    "CASH": Family.INSTANT_COMMISSION,
    "COMMISSION": Family.INSTANT_COMMISSION,
    "TRAINING": Family.GROWTH_TRAINING,
    "LEAD_ALLOCATION": Family.GROWTH_TRAINING,
    "PROMOTION": Family.GROWTH_TRAINING,
    "HONOR_TITLE": Family.TEAM_HONOR,
    "PAID_LEAVE": Family.LONG_TERM_BENEFITS,
    "EQUITY": Family.LONG_TERM_BENEFITS,
}


def segment_of(birth_date: date | None, today: date) -> Segment:
    """30 or under, 35 or over, or other (including an unknown birth date)."""
    if birth_date is None:
        return Segment.OTHER
    age = today.year - birth_date.year
    age -= (today.month, today.day) < (birth_date.month, birth_date.day)
    if age <= YOUNG_MAX_AGE:
        return Segment.YOUNG
    return Segment.SENIOR if age >= SENIOR_MIN_AGE else Segment.OTHER


def check_ranking(ranking: Sequence[str]) -> list[Family]:
    """A survey answer: one to four distinct families, the favourite first.

    Raises ValueError for an empty, repeated or unknown answer.
    """
    if not 1 <= len(ranking) <= len(FAMILIES):
        raise ValueError("rank one to four kinds of reward")
    if len(set(ranking)) != len(ranking):
        raise ValueError("each kind of reward may be ranked once")
    return [Family(choice) for choice in ranking]


@dataclass(frozen=True)
class Chased:
    """One ledger line as inference reads it."""

    kind: str
    team_rule: bool
    week: date
    rule_ref: str


def family_of(line: Chased) -> Family | None:
    if line.team_rule:
        return Family.TEAM_HONOR
    return KIND_FAMILY.get(line.kind)


def inferred(lines: Iterable[Chased]) -> Family | None:
    """The family a member chases most; ties go to the earlier family in
    FAMILIES; None without any line."""
    seen: set[tuple[str, str, date] | int] = set()
    counts: Counter[Family] = Counter()
    for n, line in enumerate(lines):
        family = family_of(line)
        if family is None:
            continue
        cash = family is Family.INSTANT_COMMISSION and not line.team_rule
        mark: tuple[str, str, date] | int = (line.rule_ref, line.kind, line.week)
        if not cash:
            mark = n
        if mark in seen:
            continue
        seen.add(mark)
        counts[family] += 1
    if not counts:
        return None
    best = max(counts.values())
    return next(f for f in FAMILIES if counts[f] == best)


@dataclass(frozen=True)
class Answer:
    """One member's preference and where it came from (None: unknown)."""

    member_id: int
    segment: Segment
    family: Family | None
    source: Source | None


@dataclass(frozen=True)
class Share:
    family: Family
    count: int
    share: Decimal


@dataclass(frozen=True)
class SegmentShares:
    """How a segment's members divide among the families."""

    segment: Segment
    members: int
    stated: int
    inferred: int
    shares: list[Share]

    @property
    def known(self) -> int:
        return self.stated + self.inferred

    @property
    def top(self) -> Share | None:
        """The most chosen family; None when nobody's preference is known."""
        if self.known == 0:
            return None
        return max(self.shares, key=lambda s: (s.count, -FAMILIES.index(s.family)))


def percent(part: int, whole: int) -> Decimal:
    """`part / whole` as a share rounded half-up to 0.01 (0 for no whole)."""
    if whole == 0:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def shares(answers: Iterable[Answer], segment: Segment) -> SegmentShares:
    """The shares of one segment among members whose preference is known."""
    mine = [a for a in answers if a.segment is segment]
    known = [a for a in mine if a.family is not None]
    counts = Counter(a.family for a in known)
    return SegmentShares(
        segment=segment,
        members=len(mine),
        stated=sum(1 for a in known if a.source is Source.STATED),
        inferred=sum(1 for a in known if a.source is Source.INFERRED),
        shares=[Share(f, counts[f], percent(counts[f], len(known))) for f in FAMILIES],
    )


def recommended_mix(found: SegmentShares) -> dict[Family, Decimal]:
    """How to split a segment's reward budget among the families.

    The shares smoothed by one imagined member per family (so a family
    nobody chose still gets a little, and a segment of three is not steered
    by one answer), rounded to whole percent by largest remainder so the mix
    adds up to exactly 1.
    """
    whole = found.known + len(FAMILIES)
    raw = {s.family: Decimal(100 * (s.count + 1)) / whole for s in found.shares}
    floors = {f: int(v) for f, v in raw.items()}
    left = 100 - sum(floors.values())
    by_remainder = sorted(FAMILIES, key=lambda f: (-(raw[f] - floors[f]), f.value))
    for family in by_remainder[:left]:
        floors[family] += 1
    return {f: Decimal(floors[f]) / 100 for f in FAMILIES}


def offered_mix(families: Iterable[Family]) -> dict[Family, Decimal]:
    """The share of rules by family in the plans a segment is on."""
    counts = Counter(families)
    total = sum(counts.values())
    return {f: percent(counts[f], total) for f in FAMILIES}


SEGMENT_WORDS = {
    "en": {
        Segment.YOUNG: "staff aged 30 or under",
        Segment.SENIOR: "staff aged 35 or over",
        Segment.OTHER: "other staff",
    },
    "zh-CN": {
        Segment.YOUNG: "30 岁及以下的员工",
        Segment.SENIOR: "35 岁及以上的员工",
        Segment.OTHER: "其他员工",
    },
}
FAMILY_WORDS = {
    "en": {
        Family.INSTANT_COMMISSION: "instant commission",
        Family.GROWTH_TRAINING: "growth and training",
        Family.TEAM_HONOR: "team honour",
        Family.LONG_TERM_BENEFITS: "long-term benefits",
    },
    "zh-CN": {
        Family.INSTANT_COMMISSION: "即时提成",
        Family.GROWTH_TRAINING: "成长与培训",
        Family.TEAM_HONOR: "团队荣誉",
        Family.LONG_TERM_BENEFITS: "长期福利",
    },
}


def headline(found: SegmentShares, lang: str) -> str:
    """ "75% of staff aged 30 or under prefer instant commission"."""
    zh = lang.lower().startswith("zh")
    words = "zh-CN" if zh else "en"
    who = SEGMENT_WORDS[words][found.segment]
    top = found.top
    if top is None:
        return f"{who}尚无偏好数据" if zh else f"No preferences known for {who}"
    what = FAMILY_WORDS[words][top.family]
    share = f"{(top.share * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"
    if zh:
        return f"{share}的{who}偏好{what}"
    return f"{share} of {who} prefer {what}"
