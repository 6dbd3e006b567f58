"""Measuring an appraisal's metric dimensions from the stored totals.

A cycle covers one period of a kind the totals are kept for, so every metric
dimension of every member is read from `metric_total` in one query per
batch of members: the cycle's activity, without scanning it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine.appraisal import (
    DimensionKind,
    Scale,
    metric_score,
    parse_scale,
    round_score,
)
from spur.engine.incentives import working_days
from spur.engine.periods import period_starting
from spur.models import AppraisalCycle, AppraisalDimension, MetricTotal


@dataclass(frozen=True)
class Measured:
    """A metric dimension's value and score (None: it does not apply)."""

    value: Decimal | None
    score: Decimal | None

    @property
    def applies(self) -> bool:
        return self.score is not None


class Measurer:
    """Measures metric dimensions of one cycle for many members."""

    def __init__(
        self,
        cycle: AppraisalCycle,
        dimensions: list[AppraisalDimension],
        tz: ZoneInfo,
    ) -> None:
        self.cycle = cycle
        self.dimensions = [d for d in dimensions if d.kind is not DimensionKind.RATED]
        self.scales: dict[int, Scale] = {
            d.id: parse_scale(d.scale) for d in self.dimensions
        }
        period = period_starting(cycle.period_kind, cycle.period_start, tz)
        self.working_days = working_days(period)
        self.totals: dict[tuple[int, int], Decimal] = {}

    def metric_ids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dimensions:
            found |= {i for i in (d.metric_id, d.per_metric_id) if i is not None}
        return found

    async def load(
        self, conn: BaseDBAsyncClient | None, member_ids: Iterable[int]
    ) -> None:
        """Read the members' totals of every metric the dimensions use."""
        rows = await (
            MetricTotal.filter(
                scope="member",
                subject_id__in=list(member_ids),
                metric_id__in=list(self.metric_ids()),
                period_kind=self.cycle.period_kind,
                period_start=self.cycle.period_start,
            )
            .using_db(conn)
            .values_list("subject_id", "metric_id", "value")
        )
        for subject, metric, value in rows:
            self.totals[(int(subject), int(metric))] = _decimal(value)

    def measure(self, member_id: int, dimension: AppraisalDimension) -> Measured:
        """The dimension's value for the member over the cycle, and its score."""
        if dimension.metric_id is None:
            return Measured(None, None)
        value = self._total(member_id, dimension.metric_id)
        if dimension.per_metric_id is not None:
            per = self._total(member_id, dimension.per_metric_id)
            if per == 0:
                return Measured(None, None)
            value /= per
        if dimension.divisor:
            value /= dimension.divisor
        if dimension.per_working_day:
            value /= self.working_days
        value = value.quantize(Decimal("0.0001"))
        score = round_score(metric_score(value, self.scales[dimension.id]))
        return Measured(value, score)

    def _total(self, member_id: int, metric_id: int) -> Decimal:
        return self.totals.get((member_id, metric_id), Decimal(0))


def _decimal(stored: object) -> Decimal:
    # Whether or not values_list converted it, read it as the field stores it.
    field = MetricTotal._meta.fields_map["value"]
    value = field.to_python_value(stored)
    assert isinstance(value, Decimal)
    return value
