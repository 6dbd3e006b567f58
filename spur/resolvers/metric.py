"""Metric definitions: what counts toward goals and incentive rules.

HR admins define metrics as data (an activity kind, optional filters, an
aggregation). A new metric counts the activity recorded after it exists:
stored totals are kept as activity arrives, never rebuilt from history.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict
from spur.engine.metrics import ActivityKind, Aggregation
from spur.models import MetricDefinition
from spur.resolvers.plan_input import MAX_NAME, Titles, check_text, check_titles

logger = logging.getLogger(__name__)
_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_UNIT = 32
MAX_MARKET = 16
MAX_CATEGORY = 64
MAX_REPLY_MINUTES = 7 * 24 * 60
KEY_TAKEN = "The company already has a metric with that key."


@dataclass(frozen=True)
class MetricSpec:
    """A metric definition as HR wrote it."""

    key: str
    name: str
    activity_kind: ActivityKind
    aggregation: Aggregation
    unit: str = ""
    market: str | None = None
    product_category: str | None = None
    new_customer: bool | None = None
    reply_within_minutes: int | None = None
    titles: Titles = ()


async def define_metric(viewer: Viewer, spec: MetricSpec) -> MetricDefinition:
    """A new metric of the company; CONFLICT when its key is taken."""
    metric = _checked(viewer, spec)
    if await MetricDefinition.exists(company_id=viewer.company_id, key=metric.key):
        raise Conflict(KEY_TAKEN, field="key")

    try:
        async with in_transaction() as conn:
            await metric.save(using_db=conn)
    except IntegrityError as error:  # the same key saved meanwhile
        raise Conflict(KEY_TAKEN, field="key") from error

    logger.info("metric %s defined by member %s", metric.key, viewer.member_id)
    return metric


def _checked(viewer: Viewer, spec: MetricSpec) -> MetricDefinition:
    if _KEY.fullmatch(spec.key) is None:
        raise BadUserInput(
            "key must be 1 to 64 lowercase letters, digits or '_', starting "
            "with a letter.",
            field="key",
        )
    unit = check_text(spec.unit, "unit", MAX_UNIT)
    # Sales are summed in the company currency, so that is their unit.
    if spec.aggregation is Aggregation.SUM_AMOUNT and not unit:
        unit = viewer.currency
    return MetricDefinition(
        company_id=viewer.company_id,
        key=spec.key,
        name=check_text(spec.name, "name", MAX_NAME, required=True),
        titles=check_titles(spec.titles, "titles"),
        unit=unit,
        activity_kind=spec.activity_kind,
        aggregation=spec.aggregation,
        market=_optional(spec.market, "market", MAX_MARKET, upper=True),
        product_category=_optional(
            spec.product_category, "productCategory", MAX_CATEGORY
        ),
        new_customer=spec.new_customer,
        reply_within_minutes=_minutes(spec.reply_within_minutes),
    )


def _optional(
    text: str | None, field: str, limit: int, *, upper: bool = False
) -> str | None:
    """A filter's text trimmed (a market uppercased, as activity stores it)."""
    if text is None:
        return None
    return check_text(text.upper() if upper else text, field, limit, required=True)


def _minutes(minutes: int | None) -> int | None:
    if minutes is not None and not 0 < minutes <= MAX_REPLY_MINUTES:
        raise BadUserInput(
            f"replyWithinMinutes must be 1 to {MAX_REPLY_MINUTES}.",
            field="replyWithinMinutes",
        )
    return minutes


async def list_metrics(
    viewer: Viewer, offset: int, limit: int
) -> list[MetricDefinition]:
    """A page of the company's metric definitions by key."""
    rows = MetricDefinition.filter(company_id=viewer.company_id).order_by("key")
    return list(await rows.offset(offset).limit(limit + 1))
