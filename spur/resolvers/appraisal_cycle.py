"""Appraisal cycles: opened for a set of members with their metrics measured,
handed to the members for self review, and finalised in batches.

A cycle's appraisals are created in batches, each batch's metric totals read
in one query. Finalising a cycle takes every appraisal waiting in manager
review that is fully rated, a batch per transaction, so a thousand members
never hold one transaction open for long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict, NotFound
from spur.engine.appraisal import AppraisalStatus, DimensionKind
from spur.engine.periods import PeriodKind, period_starting
from spur.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalScore,
    AppraisalTemplate,
    CycleStatus,
    Member,
    Role,
)
from spur.resolvers.appraisal import load_cycle
from spur.resolvers.appraisal_fill import Measurer, load_setting
from spur.resolvers.appraisal_pay import finalize_in
from spur.resolvers.ledger import checked_text
from spur.resolvers.plan_input import Titles, check_titles

logger = logging.getLogger(__name__)

BATCH = 500
FINALIZE_BATCH = 100
MAX_NAME = 200
MAX_MEMBERS = 10_000
ATTEMPTS = 3
UNFINISHED = (
    AppraisalStatus.DRAFT,
    AppraisalStatus.SELF_REVIEW,
    AppraisalStatus.MANAGER_REVIEW,
)


@dataclass(frozen=True)
class CycleRequest:
    """What to open: a template's appraisal over one period, for whom."""

    template_id: int
    name: str
    period_kind: PeriodKind
    period_start: date
    member_ids: list[int] | None
    titles: Titles = ()


async def open_cycle(
    viewer: Viewer, request: CycleRequest
) -> tuple[AppraisalCycle, int]:
    """Open a cycle and a DRAFT appraisal per member, metrics measured.

    `member_ids` None means every active salesperson of the company.
    Returns the cycle and how many appraisals it holds.
    """
    name = checked_text(request.name, "name", MAX_NAME, required=True)
    titles = check_titles(request.titles, "titles")
    template = await _template(viewer, request.template_id)
    _check_start(request.period_kind, request.period_start, viewer.timezone)
    members = await _members(viewer, request.member_ids)
    try:
        async with in_transaction() as conn:
            cycle = await AppraisalCycle.create(
                using_db=conn,
                company_id=viewer.company_id,
                template_id=template.id,
                name=name,
                titles=titles,
                period_kind=request.period_kind,
                period_start=request.period_start,
                created_by_id=viewer.member_id,
            )
            await _create_appraisals(conn, cycle, members, viewer.timezone)
    except IntegrityError as error:
        raise Conflict("A cycle with this name exists.", field="name") from error
    logger.info("member %s opened cycle %s", viewer.member_id, cycle.id)
    return cycle, len(members)


async def _template(viewer: Viewer, template_id: int) -> AppraisalTemplate:
    template = await AppraisalTemplate.get_or_none(
        id=template_id, company_id=viewer.company_id
    )
    if template is None:
        raise NotFound("No such appraisal template.", field="templateId")
    return template


def _check_start(kind: PeriodKind, start: date, tz: ZoneInfo) -> None:
    try:
        period_starting(kind, start, tz)
    except (ValueError, OverflowError) as error:
        raise BadUserInput(
            f"periodStart is not the first day of a {kind.value}.",
            field="periodStart",
        ) from error


async def _members(viewer: Viewer, member_ids: list[int] | None) -> list[Member]:
    query = Member.filter(company_id=viewer.company_id, is_active=True)
    if member_ids is None:
        return await query.filter(role=Role.SALESPERSON).order_by("id")
    wanted = set(member_ids)
    if not 0 < len(wanted) <= MAX_MEMBERS:
        raise BadUserInput(
            f"memberIds holds 1 to {MAX_MEMBERS} members.", field="memberIds"
        )
    found = await query.filter(id__in=wanted).exclude(role=Role.PARTNER).order_by("id")
    if len(found) != len(wanted):
        raise NotFound("No such member.", field="memberIds")
    return found


async def _create_appraisals(
    conn: BaseDBAsyncClient,
    cycle: AppraisalCycle,
    members: list[Member],
    tz: ZoneInfo,
) -> None:
    dimensions = (
        await AppraisalDimension.filter(template_id=cycle.template_id)
        .order_by("position", "id")
        .using_db(conn)
    )
    measurer = Measurer(cycle, dimensions, tz)
    for first in range(0, len(members), BATCH):
        ids = [m.id for m in members[first : first + BATCH]]
        await measurer.load(conn, ids)
        await Appraisal.bulk_create(
            [
                Appraisal(company_id=cycle.company_id, cycle_id=cycle.id, member_id=i)
                for i in ids
            ],
            using_db=conn,
        )
        stored = await Appraisal.filter(cycle_id=cycle.id, member_id__in=ids).using_db(
            conn
        )
        await AppraisalScore.bulk_create(
            [_score_row(a, d, measurer) for a in stored for d in dimensions],
            using_db=conn,
        )


def _score_row(
    appraisal: Appraisal, dimension: AppraisalDimension, measurer: Measurer
) -> AppraisalScore:
    if dimension.kind is DimensionKind.RATED:
        return AppraisalScore(appraisal_id=appraisal.id, dimension_id=dimension.id)
    measured = measurer.measure(appraisal.member_id, dimension)
    return AppraisalScore(
        appraisal_id=appraisal.id,
        dimension_id=dimension.id,
        value=measured.value,
        score=measured.score,
        applies=measured.applies,
    )


async def start_self_reviews(viewer: Viewer, cycle_id: int, now: datetime) -> int:
    """Hand every DRAFT appraisal of a cycle to its member; how many moved."""
    cycle = await load_cycle(viewer, cycle_id)
    async with in_transaction() as conn:
        return await (
            Appraisal.filter(cycle_id=cycle.id, status=AppraisalStatus.DRAFT)
            .using_db(conn)
            .update(status=AppraisalStatus.SELF_REVIEW, updated_at=now)
        )


@dataclass(frozen=True)
class CycleFinalised:
    """How a cycle's finalisation went, counted over current versions."""

    cycle: AppraisalCycle
    finalized: int
    skipped: int
    not_ready: int
    events: int


async def finalize_cycle(
    viewer: Viewer, cycle_id: int, now: datetime
) -> CycleFinalised:
    """Finalise every fully rated appraisal of the cycle in manager review.

    Left in MANAGER_REVIEW (`skipped`): one with a rated dimension not yet
    scored, one no dimension applies to, and the viewer's own. The cycle
    closes once none of its appraisals is unfinished.
    """
    cycle = await load_cycle(viewer, cycle_id)
    waiting = [
        a.id
        for a in await Appraisal.filter(
            cycle_id=cycle.id, is_current=True, status=AppraisalStatus.MANAGER_REVIEW
        )
        .exclude(member_id=viewer.member_id)
        .order_by("id")
        .only("id")
    ]
    finalized = events = 0
    for first in range(0, len(waiting), FINALIZE_BATCH):
        batch = waiting[first : first + FINALIZE_BATCH]
        done, written = await _finalize_batch(viewer, cycle, batch, now)
        finalized, events = finalized + done, events + written
    counts = await _unfinished(cycle)
    if not any(counts.values()):
        await AppraisalCycle.filter(id=cycle.id).update(status=CycleStatus.CLOSED)
        cycle.status = CycleStatus.CLOSED
    logger.info(
        "member %s finalised %s appraisals of cycle %s",
        viewer.member_id,
        finalized,
        cycle.id,
    )
    skipped = counts[AppraisalStatus.MANAGER_REVIEW]
    not_ready = counts[AppraisalStatus.DRAFT] + counts[AppraisalStatus.SELF_REVIEW]
    return CycleFinalised(cycle, finalized, skipped, not_ready, events)


async def _finalize_batch(
    viewer: Viewer, cycle: AppraisalCycle, batch: list[int], now: datetime
) -> tuple[int, int]:
    """Finalise a batch in one transaction; (appraisals, events) written.

    A reviewer who finalised one of them meanwhile rolls the batch back as
    CONFLICT; it is tried again without that appraisal.
    """
    attempt = 1
    while True:
        try:
            return await _finalize_once(viewer, cycle, batch, now)
        except Conflict:
            if attempt == ATTEMPTS:
                raise
            attempt += 1


async def _finalize_once(
    viewer: Viewer, cycle: AppraisalCycle, batch: list[int], now: datetime
) -> tuple[int, int]:
    done = events = 0
    async with in_transaction() as conn:
        rows = await Appraisal.filter(
            id__in=batch, status=AppraisalStatus.MANAGER_REVIEW
        ).using_db(conn)
        setting = await load_setting(conn, cycle, rows)
        for appraisal in rows:
            try:
                result = await finalize_in(
                    conn, setting, viewer.member_id, appraisal, now
                )
            except BadUserInput:
                continue  # not fully rated: scoring wrote nothing
            done, events = done + 1, events + len(result.events)
    return done, events


async def _unfinished(cycle: AppraisalCycle) -> dict[AppraisalStatus, int]:
    """How many current versions are in each status short of FINALIZED."""
    rows = await (
        Appraisal.filter(cycle_id=cycle.id, is_current=True, status__in=UNFINISHED)
        .annotate(count=Count("id"))
        .group_by("status")
        .values_list("status", "count")
    )
    counts = dict.fromkeys(UNFINISHED, 0)
    for status, count in rows:
        counts[AppraisalStatus(status)] = int(count)
    return counts
