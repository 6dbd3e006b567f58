"""Appraisal templates: weighted dimensions, grade bands and the pay they move.

Everything a template holds is checked before anything is stored: each
metric dimension's scale with the scoring engine's own parser, the bands
likewise, so a cycle never meets a setting it cannot score.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict
from spur.engine import money
from spur.engine.appraisal import (
    DEFAULT_BANDS,
    HUNDRED,
    Band,
    DimensionKind,
    ScoringError,
    dump_bands,
    parse_bands,
    parse_scale,
)
from spur.engine.messages import SUPPORTED_LANGUAGES
from spur.models import (
    AppraisalDimension,
    AppraisalTemplate,
    Company,
    MetricDefinition,
)
from spur.resolvers.ledger import checked_text

logger = logging.getLogger(__name__)

MAX_NAME = 200
MAX_DIMENSIONS = 30
MAX_AMOUNT = Decimal(10) ** 12
PLACES = Decimal("0.0001")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")

Titles = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class DimensionSpec:
    """One dimension as sent: rated, or a metric with its scale."""

    code: str
    name: str
    titles: Titles
    kind: DimensionKind
    weight: Decimal
    metric: str | None = None
    per_metric: str | None = None
    divisor: Decimal | None = None
    per_working_day: bool = False
    scale: Any = None


@dataclass(frozen=True)
class TemplateSpec:
    """A template as sent; `bands` None means the default bands."""

    name: str
    titles: Titles
    dimensions: Sequence[DimensionSpec]
    bands: Any = None
    bonus_base: Decimal | None = None
    process_reward_min: Decimal | None = None
    process_reward_amount: Decimal | None = None


async def create_template(viewer: Viewer, spec: TemplateSpec) -> AppraisalTemplate:
    """Store a checked template and its dimensions; CONFLICT on a taken name."""
    company = await Company.get(id=viewer.company_id)
    values = _template_values(spec, company.currency)
    metrics = await _metrics(viewer.company_id, spec.dimensions)
    rows = [_dimension(d, i, metrics) for i, d in enumerate(_checked_list(spec))]
    try:
        async with in_transaction() as conn:
            template = await AppraisalTemplate.create(
                using_db=conn, company_id=company.id, **values
            )
            await _store_dimensions(conn, template, rows)
    except IntegrityError as error:
        raise Conflict("A template with this name exists.", field="name") from error
    logger.info(
        "member %s created appraisal template %s", viewer.member_id, template.id
    )
    return template


def _template_values(spec: TemplateSpec, currency: str) -> dict[str, Any]:
    minimum, amount = spec.process_reward_min, spec.process_reward_amount
    if (minimum is None) != (amount is None):
        raise BadUserInput(
            "processRewardMin and processRewardAmount go together.",
            field="processRewardAmount",
        )
    if minimum is not None and not 0 <= minimum <= HUNDRED:
        raise BadUserInput("processRewardMin is 0 to 100.", field="processRewardMin")
    return {
        "name": checked_text(spec.name, "name", MAX_NAME, required=True),
        "titles": _titles(spec.titles, "titles"),
        "bands": dump_bands(_bands(spec.bands)),
        "bonus_base": _money(spec.bonus_base, currency, "bonusBase"),
        "process_reward_min": _places(minimum, "processRewardMin"),
        "process_reward_amount": _money(amount, currency, "processRewardAmount"),
    }


def _bands(raw: Any) -> tuple[Band, ...]:
    if raw is None:
        return DEFAULT_BANDS
    try:
        return parse_bands(raw)
    except ScoringError as error:
        raise BadUserInput(str(error), field=error.field) from error


def _titles(titles: Titles, field: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for index, (language, text) in enumerate(titles):
        where = f"{field}.{index}"
        if language not in SUPPORTED_LANGUAGES or language in found:
            raise BadUserInput(
                f"language is one of {', '.join(SUPPORTED_LANGUAGES)}, each once.",
                field=f"{where}.language",
            )
        found[language] = checked_text(text, f"{where}.text", MAX_NAME, required=True)
    return found


def _money(amount: Decimal | None, currency: str, field: str) -> Decimal | None:
    if amount is None:
        return None
    if not 0 <= amount < MAX_AMOUNT or money.has_excess_places(amount, currency):
        raise BadUserInput(
            f"{field} is zero or more, below {MAX_AMOUNT:f}, in whole {currency} "
            "minor units.",
            field=field,
        )
    return amount


def _places(value: Decimal | None, field: str) -> Decimal | None:
    if value is not None and value != value.quantize(PLACES):
        raise BadUserInput(f"{field} has at most four decimals.", field=field)
    return value


def _checked_list(spec: TemplateSpec) -> Sequence[DimensionSpec]:
    dimensions = spec.dimensions
    if not 0 < len(dimensions) <= MAX_DIMENSIONS:
        raise BadUserInput(
            f"A template has 1 to {MAX_DIMENSIONS} dimensions.", field="dimensions"
        )
    codes = [d.code for d in dimensions]
    for index, code in enumerate(codes):
        if _CODE.fullmatch(code) is None or codes.index(code) != index:
            raise BadUserInput(
                "A code is 1 to 64 letters, digits, _ or -, once per template.",
                field=f"dimensions.{index}.code",
            )
    return dimensions


async def _metrics(
    company_id: int, dimensions: Sequence[DimensionSpec]
) -> dict[str, MetricDefinition]:
    keys = {k for d in dimensions for k in (d.metric, d.per_metric) if k is not None}
    # A key longer than any stored one matches none; no need to send it.
    wanted = [k for k in keys if len(k) <= 64]
    found = await MetricDefinition.filter(company_id=company_id, key__in=wanted)
    return {m.key: m for m in found}


def _dimension(
    spec: DimensionSpec, index: int, metrics: dict[str, MetricDefinition]
) -> AppraisalDimension:
    where = f"dimensions.{index}"
    if not 0 < spec.weight < MAX_AMOUNT:
        raise BadUserInput("A weight is above zero.", field=f"{where}.weight")
    _places(spec.weight, f"{where}.weight")
    row = AppraisalDimension(
        code=spec.code,
        name=checked_text(spec.name, f"{where}.name", MAX_NAME, required=True),
        titles=_titles(spec.titles, f"{where}.titles"),
        kind=spec.kind,
        weight=spec.weight,
        position=index,
    )
    if spec.kind is DimensionKind.RATED:
        _check_rated(spec, where)
        return row
    row.metric_id = _metric(metrics, spec.metric, f"{where}.metric", required=True)
    row.per_metric_id = _metric(metrics, spec.per_metric, f"{where}.perMetric")
    row.divisor = _divisor(spec.divisor, f"{where}.divisor")
    row.per_working_day = spec.per_working_day
    row.scale = _scale(spec.scale, f"{where}.scale")
    return row


def _check_rated(spec: DimensionSpec, where: str) -> None:
    """A rated dimension is scored by people: nothing to measure or scale."""
    measured = (spec.metric, spec.per_metric, spec.divisor, spec.scale)
    if any(v is not None for v in measured) or spec.per_working_day:
        raise BadUserInput(
            "A RATED dimension has no metric, perMetric, divisor, "
            "perWorkingDay or scale.",
            field=where,
        )


def _metric(
    metrics: dict[str, MetricDefinition],
    key: str | None,
    field: str,
    *,
    required: bool = False,
) -> int | None:
    if key is None:
        if required:
            raise BadUserInput("A metric dimension names its metric.", field=field)
        return None
    found = metrics.get(key)
    if found is None:
        raise BadUserInput("No such metric in this company.", field=field)
    return found.id


def _divisor(value: Decimal | None, field: str) -> Decimal | None:
    if value is not None and not 0 < value < MAX_AMOUNT:
        raise BadUserInput("A divisor is above zero.", field=field)
    return _places(value, field)


def _scale(raw: Any, field: str) -> dict[str, Any]:
    if raw is None:
        raise BadUserInput("A metric dimension has a scale.", field=field)
    try:
        parse_scale(raw, field)
    except ScoringError as error:
        raise BadUserInput(str(error), field=error.field) from error
    stored: dict[str, Any] = dict(raw)
    return stored


async def _store_dimensions(
    conn: BaseDBAsyncClient,
    template: AppraisalTemplate,
    rows: list[AppraisalDimension],
) -> None:
    for row in rows:
        row.template_id = template.id
    await AppraisalDimension.bulk_create(rows, using_db=conn)
