"""Appraisal scoring as pure functions: dimensions, weights, grades, streaks.

A template's metric dimensions map a measured value to 0–100 against a target
or a scale; rated dimensions carry the reviewer's 0–100 directly. The overall
score is the weighted mean over the dimensions that apply to the member, so
weights renormalise when one does not. Scores are rounded half-up to two
places once, when the appraisal is finalised.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

HUNDRED = Decimal(100)
SCORE_PLACES = Decimal("0.01")


class DimensionKind(enum.StrEnum):
    PROCESS = "PROCESS"
    RESULT = "RESULT"
    RATED = "RATED"


class Grade(enum.StrEnum):
    EXCELLENT = "EXCELLENT"
    GOOD = "GOOD"
    QUALIFIED = "QUALIFIED"
    UNQUALIFIED = "UNQUALIFIED"


class AppraisalStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    SELF_REVIEW = "SELF_REVIEW"
    MANAGER_REVIEW = "MANAGER_REVIEW"
    FINALIZED = "FINALIZED"


# The only moves an appraisal makes; nothing skips a step or leaves FINALIZED.
NEXT_STATUS: Mapping[AppraisalStatus, AppraisalStatus] = {
    AppraisalStatus.DRAFT: AppraisalStatus.SELF_REVIEW,
    AppraisalStatus.SELF_REVIEW: AppraisalStatus.MANAGER_REVIEW,
    AppraisalStatus.MANAGER_REVIEW: AppraisalStatus.FINALIZED,
}


class ScoringError(ValueError):
    """A template setting that cannot be used; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Scale:
    """How a measured value becomes 0–100.

    With `target`: the share of the target reached (capped at 100), or for
    `lower_is_better` (reply time) 100 at or under the target, falling
    linearly to 0 at twice the target. With `points`: straight lines between
    (value, score) points, flat beyond the first and last.
    """

    target: Decimal | None = None
    points: tuple[tuple[Decimal, Decimal], ...] = ()
    lower_is_better: bool = False


@dataclass(frozen=True)
class Band:
    """Scores at or above `minimum` earn `grade` and its bonus multiplier."""

    minimum: Decimal
    grade: Grade
    multiplier: Decimal


# The demo's bands. UNQUALIFIED pays half the bonus: a poor quarter still
# shows in pay, without wiping out what a member did earn.
DEFAULT_BANDS: tuple[Band, ...] = (
    Band(Decimal(90), Grade.EXCELLENT, Decimal("1.20")),
    Band(Decimal(80), Grade.GOOD, Decimal("1.00")),
    Band(Decimal(70), Grade.QUALIFIED, Decimal("0.90")),
    Band(Decimal(0), Grade.UNQUALIFIED, Decimal("0.50")),
)


@dataclass(frozen=True)
class Weighted:
    """A dimension's weight and its 0–100 score (None: it does not apply)."""

    weight: Decimal
    score: Decimal | None


def round_score(score: Decimal) -> Decimal:
    return score.quantize(SCORE_PLACES, ROUND_HALF_UP)


def metric_score(value: Decimal, scale: Scale) -> Decimal:
    """`value` mapped to 0–100 by the scale (unrounded)."""
    if scale.points:
        return _interpolate(value, scale.points)
    assert scale.target is not None
    target = scale.target
    if scale.lower_is_better:
        if value <= target:
            return HUNDRED
        return max(Decimal(0), HUNDRED * (2 * target - value) / target)
    return min(HUNDRED, max(Decimal(0), HUNDRED * value / target))


def _interpolate(value: Decimal, points: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
    if value <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in pairwise(points):
        if value <= x1:
            return y0 + (y1 - y0) * (value - x0) / (x1 - x0)
    return points[-1][1]


def weighted_score(parts: Sequence[Weighted]) -> Decimal | None:
    """The weighted mean of the parts that apply; None if none applies."""
    applying = [p for p in parts if p.score is not None and p.weight > 0]
    total = sum((p.weight for p in applying), Decimal(0))
    if total == 0:
        return None
    mean = sum(
        (p.weight * p.score for p in applying if p.score is not None), Decimal(0)
    )
    return round_score(mean / total)


def band_for(score: Decimal, bands: Sequence[Band]) -> Band:
    """The highest band whose minimum the score reaches."""
    for band in sorted(bands, key=lambda b: b.minimum, reverse=True):
        if score >= band.minimum:
            return band
    raise ValueError(f"no band covers the score {score}")


def shares(parts: Sequence[Weighted]) -> list[Decimal]:
    """Each part's share of the weight of the parts that apply (0 for one
    that does not), so the shares of a member's dimensions sum to 1."""
    total = sum((p.weight for p in parts if p.score is not None), Decimal(0))
    if total == 0:
        return [Decimal(0) for _ in parts]
    return [p.weight / total if p.score is not None else Decimal(0) for p in parts]


# Best first: a streak of GOOD years is also kept by an EXCELLENT one.
GRADE_ORDER: tuple[Grade, ...] = (
    Grade.EXCELLENT,
    Grade.GOOD,
    Grade.QUALIFIED,
    Grade.UNQUALIFIED,
)


def at_least(grade: Grade, wanted: Grade) -> bool:
    return GRADE_ORDER.index(grade) <= GRADE_ORDER.index(wanted)


def run_length(grades_by_year: Mapping[int, Grade], year: int, wanted: Grade) -> int:
    """How many years in a row, up to and including `year`, were graded
    `wanted` or better; a year without a grade ends the run."""
    length = 0
    while (grade := grades_by_year.get(year - length)) is not None and at_least(
        grade, wanted
    ):
        length += 1
    return length


def completes_streak(
    grades_by_year: Mapping[int, Grade], year: int, years: int, wanted: Grade
) -> bool:
    """True when `year` completes a streak of `years` years graded `wanted` or
    better. Streaks are counted in blocks from the first year of a run: the
    third excellent year in a row completes one, the fourth and fifth do
    not, the sixth completes the next."""
    length = run_length(grades_by_year, year, wanted)
    return length > 0 and length % years == 0


# --- parsing template settings ---------------------------------------------


def parse_scale(raw: Mapping[str, Any], field: str = "scale") -> Scale:
    """A dimension's scale from its JSON settings, or ScoringError."""
    if not isinstance(raw, Mapping):
        raise ScoringError(field, f"{field} must be an object")
    unknown = set(raw) - {"target", "points", "lowerIsBetter"}
    if unknown:
        raise ScoringError(field, f"unknown setting {sorted(unknown)[0]!r}")
    lower = raw.get("lowerIsBetter", False)
    if not isinstance(lower, bool):
        raise ScoringError(f"{field}.lowerIsBetter", "lowerIsBetter is true or false")
    if ("target" in raw) == ("points" in raw):
        raise ScoringError(field, "set either a target or points")
    if lower and "points" in raw:
        # Points already say which way the score falls; a flag would be ignored.
        raise ScoringError(f"{field}.lowerIsBetter", "lowerIsBetter goes with a target")
    if "target" in raw:
        target = _number(raw["target"], f"{field}.target")
        if target <= 0:
            raise ScoringError(f"{field}.target", "the target must be above zero")
        return Scale(target=target, lower_is_better=lower)
    return Scale(points=_points(raw["points"], f"{field}.points"))


def _points(raw: Any, field: str) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(raw, list) or not 2 <= len(raw) <= 20:
        raise ScoringError(field, "points are a list of 2 to 20 [value, score] pairs")
    points: list[tuple[Decimal, Decimal]] = []
    for index, pair in enumerate(raw):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ScoringError(f"{field}.{index}", "a point is [value, score]")
        value = _number(pair[0], f"{field}.{index}.0")
        score = _number(pair[1], f"{field}.{index}.1")
        if not 0 <= score <= 100:
            raise ScoringError(f"{field}.{index}.1", "a score is 0 to 100")
        if points and value <= points[-1][0]:
            raise ScoringError(f"{field}.{index}.0", "point values must increase")
        points.append((value, score))
    return tuple(points)


def parse_bands(raw: Any, field: str = "bands") -> tuple[Band, ...]:
    """Grade bands from JSON: each grade once, one band starting at 0."""
    if not isinstance(raw, list) or not raw:
        raise ScoringError(field, "bands are a non-empty list")
    bands: list[Band] = []
    for index, item in enumerate(raw):
        where = f"{field}.{index}"
        if not isinstance(item, Mapping) or set(item) != {
            "minimum",
            "grade",
            "multiplier",
        }:
            raise ScoringError(where, "a band is {minimum, grade, multiplier}")
        try:
            grade = Grade(item["grade"])
        except ValueError:
            raise ScoringError(f"{where}.grade", "unknown grade") from None
        minimum = _number(item["minimum"], f"{where}.minimum")
        multiplier = _number(item["multiplier"], f"{where}.multiplier")
        if not 0 <= minimum <= 100 or not 0 <= multiplier <= 10:
            raise ScoringError(where, "minimum is 0 to 100, multiplier 0 to 10")
        bands.append(Band(minimum, grade, multiplier))
    _check_bands(bands, field)
    return tuple(sorted(bands, key=lambda b: b.minimum, reverse=True))


def dump_bands(bands: Sequence[Band]) -> list[dict[str, str]]:
    """Bands as a template stores them (the inverse of parse_bands)."""
    return [
        {
            "minimum": f"{b.minimum:f}",
            "grade": b.grade.value,
            "multiplier": f"{b.multiplier:f}",
        }
        for b in bands
    ]


def _check_bands(bands: Sequence[Band], field: str) -> None:
    if len({b.grade for b in bands}) != len(bands):
        raise ScoringError(field, "each grade appears once")
    if len({b.minimum for b in bands}) != len(bands):
        raise ScoringError(field, "two bands start at the same score")
    if min(b.minimum for b in bands) != 0:
        raise ScoringError(field, "one band must start at 0")


def _number(raw: Any, field: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ScoringError(field, f"{field} must be a decimal string")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ScoringError(field, f"{field} is not a number") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise ScoringError(field, f"{field} is out of range")
    return number
