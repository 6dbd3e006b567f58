"""Driver analysis: how an outcome differs between units above and below a
behaviour's threshold, as pure statistics over arrays.

A unit is one observation (a member's working day, or one inquiry). Each
unit belongs to a cluster (its member), carries the behaviour's value and an
outcome as a numerator over a denominator, so that a group's mean is a ratio
of sums: orders per member-day (denominator 1 a day) or conversions per
inquiry received. The interval of the lift is a cluster bootstrap: whole
members are drawn with replacement, because one person's days are not
independent of each other (a busy person is busy every day), and drawing
days alone would make intervals too narrow. The seed is fixed, so the same
data always gives the same interval.

What this measures is correlation: people who spend an hour a day on the
platform may differ in other ways too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

RESAMPLES = 2000
SEED = 20_261_204
CONFIDENCE = 0.95
# Below these, a finding is shown with a warning rather than hidden.
SMALL_UNITS = 30
SMALL_MEMBERS = 5
_CHUNK = 250
CORRELATION_NOTE = (
    "Correlation, not causation: members above a threshold may differ in "
    "other ways too. Intervals are 95% from a bootstrap over members."
)


@dataclass(frozen=True)
class Units:
    """Observations: cluster (member) ids, behaviour values, outcome parts."""

    cluster: npt.NDArray[np.int64]
    behaviour: Array
    numerator: Array
    denominator: Array

    def __post_init__(self) -> None:
        sizes = {len(self.cluster), len(self.behaviour), len(self.numerator)}
        if len(sizes | {len(self.denominator)}) != 1:
            raise ValueError("units need arrays of one length")


@dataclass(frozen=True)
class Comparison:
    """The outcome above and below a threshold, with the lift's interval.

    `lift` is relative (0.30: 30% more above than below); `low` and `high`
    bound it at `CONFIDENCE`. Correlations are over units with a
    denominator, between the behaviour and the unit's own outcome rate.
    """

    mean_above: float | None
    mean_below: float | None
    lift: float | None
    low: float | None
    high: float | None
    pearson: float | None
    spearman: float | None
    n_above: int
    n_below: int
    members_above: int
    members_below: int

    @property
    def significant(self) -> bool:
        """The interval leaves out zero: no lift is an unlikely explanation."""
        if self.low is None or self.high is None:
            return False
        return self.low > 0 or self.high < 0

    @property
    def small_sample(self) -> bool:
        """Too few units or members on one side to trust the interval."""
        return (
            min(self.n_above, self.n_below) < SMALL_UNITS
            or min(self.members_above, self.members_below) < SMALL_MEMBERS
        )


def compare(
    units: Units,
    above: npt.NDArray[np.bool_],
    below: npt.NDArray[np.bool_],
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Comparison:
    """Compare the outcome of units `above` and `below` (masks, disjoint).

    Units in neither mask (replies between one and two hours, say) count for
    the correlation only.
    """
    if np.any(above & below):
        raise ValueError("a unit cannot be both above and below")
    sums = _cluster_sums(units, above, below)
    low, high = _interval(sums, resamples, seed)
    mean_above = _ratio(sums[0].sum(), sums[1].sum())
    mean_below = _ratio(sums[2].sum(), sums[3].sum())
    counted = units.denominator > 0
    rate = units.numerator[counted] / units.denominator[counted]
    behaviour = units.behaviour[counted]
    return Comparison(
        mean_above,
        mean_below,
        _lift(mean_above, mean_below),
        low,
        high,
        pearson(behaviour, rate),
        pearson(average_ranks(behaviour), average_ranks(rate)),
        int(np.count_nonzero(above & counted)),
        int(np.count_nonzero(below & counted)),
        len(np.unique(units.cluster[above & counted])),
        len(np.unique(units.cluster[below & counted])),
    )


def _cluster_sums(
    units: Units, above: npt.NDArray[np.bool_], below: npt.NDArray[np.bool_]
) -> Array:
    """Rows: above numerator, above denominator, below ones; a column a member."""
    _, index = np.unique(units.cluster, return_inverse=True)
    size = int(index.max()) + 1 if len(index) else 0
    rows = [
        np.bincount(index, weights=np.where(mask, values, 0.0), minlength=size)
        for mask in (above, below)
        for values in (units.numerator, units.denominator)
    ]
    return np.array(rows, dtype=np.float64).reshape(4, size)


def _interval(
    sums: Array, resamples: int, seed: int
) -> tuple[float | None, float | None]:
    """Percentile interval of the lift over members drawn with replacement."""
    members = sums.shape[1]
    if members == 0 or resamples <= 0:
        return None, None
    rng = np.random.default_rng(seed)
    lifts: list[Array] = []
    for start in range(0, resamples, _CHUNK):
        # Drawing members with replacement: how often each is drawn.
        count = min(_CHUNK, resamples - start)
        weights = rng.multinomial(members, np.full(members, 1 / members), size=count)
        drawn = weights.astype(np.float64) @ sums.T
        with np.errstate(divide="ignore", invalid="ignore"):
            above = drawn[:, 0] / drawn[:, 1]
            below = drawn[:, 2] / drawn[:, 3]
            lifts.append(above / below - 1)
    found = np.concatenate(lifts)
    found = found[np.isfinite(found)]
    # An interval from a few usable draws would look more certain than it is.
    if len(found) < resamples * 0.9:
        return None, None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(found, [tail, 100 - tail])
    return float(low), float(high)


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator > 0 else None


def _lift(above: float | None, below: float | None) -> float | None:
    if above is None or below is None or below == 0:
        return None
    return above / below - 1


def pearson(x: Array, y: Array) -> float | None:
    """Pearson's correlation; None when either side does not vary."""
    if len(x) < 3:
        return None
    dx, dy = x - x.mean(), y - y.mean()
    scale = float(np.sqrt((dx * dx).sum() * (dy * dy).sum()))
    if scale == 0:
        return None
    return float((dx * dy).sum() / scale)


def average_ranks(values: Array) -> Array:
    """Ranks from 1, ties sharing the mean of the ranks they span (Spearman)."""
    distinct, inverse, counts = np.unique(
        values, return_inverse=True, return_counts=True
    )
    last = np.cumsum(counts)
    mean_rank = last - (counts - 1) / 2
    return mean_rank[inverse].astype(np.float64) if len(distinct) else values
