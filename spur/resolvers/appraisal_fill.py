"""Measuring and scoring appraisals: metric dimensions from stored totals.

A cycle covers one period of a kind the totals are kept for, so every metric
dimension of every member is read from `metric_total` in one query per
batch of members: the cycle's activity, without scanning it. Scoring an
appraisal for finalisation reads everything it needs from a `Setting`
loaded once per cycle and batch, and writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.api.errors import BadUserInput
from spur.engine.appraisal import (
    DEFAULT_BANDS,
    Band,
    DimensionKind,
    Scale,
    Weighted,
    band_for,
    metric_score,
    parse_bands,
    parse_scale,
    round_score,
    weighted_score,
)
from spur.engine.incentives import working_days
from spur.engine.periods import period_starting
from spur.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalScore,
    AppraisalTemplate,
    Company,
    MetricTotal,
)
from spur.resolvers.rulebook import RuleBook, load_rulebook

# Values are stored with four decimals (a rate such as 0.9231).
VALUE_PLACES = Decimal("0.0001")


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
            if self.working_days == 0:
                return Measured(None, None)
            value /= self.working_days
        value = value.quantize(VALUE_PLACES, ROUND_HALF_UP)
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


@dataclass
class Setting:
    """What finalising any appraisal of one cycle reads once: the cycle, its
    template and bands, the members' metric totals and score rows."""

    cycle: AppraisalCycle
    template: AppraisalTemplate
    company: Company
    bands: tuple[Band, ...]
    dimensions: dict[int, AppraisalDimension]
    measurer: Measurer
    scores: dict[int, list[AppraisalScore]]
    _rulebook: RuleBook | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.company.timezone)

    async def rulebook(self, conn: BaseDBAsyncClient) -> RuleBook:
        if self._rulebook is None:
            self._rulebook = await load_rulebook(conn, self.company.id)
        return self._rulebook


async def load_setting(
    conn: BaseDBAsyncClient, cycle: AppraisalCycle, appraisals: Sequence[Appraisal]
) -> Setting:
    """The setting for finalising `appraisals` of `cycle`, in five queries."""
    template = await AppraisalTemplate.filter(id=cycle.template_id).using_db(conn).get()
    company = await Company.filter(id=cycle.company_id).using_db(conn).get()
    dimensions = await AppraisalDimension.filter(template_id=template.id).using_db(conn)
    measurer = Measurer(cycle, dimensions, ZoneInfo(company.timezone))
    await measurer.load(conn, [a.member_id for a in appraisals])
    scores: dict[int, list[AppraisalScore]] = defaultdict(list)
    rows = AppraisalScore.filter(appraisal_id__in=[a.id for a in appraisals])
    for row in await rows.order_by("id").using_db(conn):
        scores[row.appraisal_id].append(row)
    bands = parse_bands(template.bands) if template.bands else DEFAULT_BANDS
    by_id = {d.id: d for d in dimensions}
    return Setting(cycle, template, company, bands, by_id, measurer, scores)


@dataclass(frozen=True)
class Scored:
    """An appraisal's scores at finalisation, and the re-measured rows."""

    score: Decimal
    process: Decimal | None
    result: Decimal | None
    band: Band
    remeasured: list[tuple[AppraisalScore, Measured]]


def score(setting: Setting, appraisal: Appraisal) -> Scored:
    """Scores, grade and band from the metrics as they stand and the ratings;
    BAD_USER_INPUT while a rated dimension has no score."""
    rows = setting.scores[appraisal.id]
    remeasured: list[tuple[AppraisalScore, Measured]] = []
    parts: list[tuple[DimensionKind, Weighted]] = []
    missing: list[str] = []
    for row in rows:
        dimension = setting.dimensions[row.dimension_id]
        if dimension.kind is DimensionKind.RATED:
            if row.applies and row.score is None:
                missing.append(dimension.name)
            current = row.score if row.applies else None
        else:
            measured = setting.measurer.measure(appraisal.member_id, dimension)
            remeasured.append((row, measured))
            current = measured.score
        parts.append((dimension.kind, Weighted(dimension.weight, current)))
    if missing:
        raise BadUserInput(
            f"Rate {', '.join(missing)} before finalising.", field="ratings"
        )
    overall = weighted_score([w for _, w in parts])
    if overall is None:
        raise BadUserInput("No dimension of this appraisal applies.", field="scores")
    return Scored(
        overall,
        weighted_score([w for k, w in parts if k is DimensionKind.PROCESS]),
        weighted_score([w for k, w in parts if k is DimensionKind.RESULT]),
        band_for(overall, setting.bands),
        remeasured,
    )


async def store_measures(
    conn: BaseDBAsyncClient, remeasured: list[tuple[AppraisalScore, Measured]]
) -> None:
    """Metric dimensions as the cycle's activity stands at finalisation."""
    for row, now in remeasured:
        if (row.value, row.score, row.applies) == (now.value, now.score, now.applies):
            continue
        row.value, row.score, row.applies = now.value, now.score, now.applies
        await (
            AppraisalScore.filter(id=row.id)
            .using_db(conn)
            .update(value=now.value, score=now.score, applies=now.applies)
        )
