"""An appraisal's life: opened with its metrics measured, reviewed in turn,
finalised into pay, and corrected only by a new version.

Every move is a conditional UPDATE on the expected status inside one
transaction, so two reviewers racing, a retried request or a skipped step
change nothing and answer CONFLICT.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict, Forbidden, NotFound
from spur.engine.appraisal import NEXT_STATUS, AppraisalStatus, DimensionKind
from spur.engine.periods import PeriodKind, period_starting
from spur.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalScore,
    AppraisalTemplate,
    Member,
    Role,
)
from spur.resolvers.appraisal_fill import Measurer

logger = logging.getLogger(__name__)

BATCH = 500
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Rating:
    """A reviewer's 0–100 score of one rated dimension, by its code."""

    dimension: str
    score: Decimal
    comment: str | None = None


async def open_cycle(
    viewer: Viewer,
    *,
    template_id: int,
    name: str,
    period_kind: PeriodKind,
    period_start: date,
    member_ids: list[int] | None,
) -> AppraisalCycle:
    """Open a cycle and a DRAFT appraisal per member, metrics measured.

    `member_ids` None means every active salesperson of the company.
    """
    template = await _template(viewer, template_id)
    start = period_starting(period_kind, period_start, viewer.timezone)
    if start.start_date != period_start:
        raise BadUserInput(
            "periodStart is not the start of a period.", field="periodStart"
        )
    members = await _members(viewer, member_ids)
    async with in_transaction() as conn:
        if (
            await AppraisalCycle.filter(company_id=viewer.company_id, name=name)
            .using_db(conn)
            .exists()
        ):
            raise Conflict("A cycle with this name exists.", field="name")
        cycle = await AppraisalCycle.create(
            using_db=conn,
            company_id=viewer.company_id,
            template_id=template.id,
            name=name,
            period_kind=period_kind,
            period_start=period_start,
            created_by_id=viewer.member_id,
        )
        await _create_appraisals(conn, cycle, members, viewer.timezone)
    return cycle


async def _template(viewer: Viewer, template_id: int) -> AppraisalTemplate:
    template = await AppraisalTemplate.get_or_none(
        id=template_id, company_id=viewer.company_id
    )
    if template is None:
        raise NotFound("No such appraisal template.")
    return template


async def _members(viewer: Viewer, member_ids: list[int] | None) -> list[Member]:
    query = Member.filter(company_id=viewer.company_id, is_active=True)
    if member_ids is None:
        return await query.filter(role=Role.SALESPERSON).order_by("id")
    found = await query.filter(id__in=member_ids).order_by("id")
    if len(found) != len(set(member_ids)):
        raise NotFound("No such member.", field="memberIds")
    return found


async def _create_appraisals(
    conn: BaseDBAsyncClient,
    cycle: AppraisalCycle,
    members: list[Member],
    tz: ZoneInfo,
) -> None:
    dimensions = await _dimensions(conn, cycle.template_id)
    measurer = Measurer(cycle, dimensions, tz)
    for first in range(0, len(members), BATCH):
        batch = members[first : first + BATCH]
        await measurer.load(conn, [m.id for m in batch])
        await Appraisal.bulk_create(
            [
                Appraisal(
                    company_id=cycle.company_id, cycle_id=cycle.id, member_id=m.id
                )
                for m in batch
            ],
            using_db=conn,
        )
        stored = await Appraisal.filter(
            cycle_id=cycle.id, member_id__in=[m.id for m in batch]
        ).using_db(conn)
        await AppraisalScore.bulk_create(
            [_score_row(a, d, measurer) for a in stored for d in dimensions],
            using_db=conn,
        )


async def _dimensions(
    conn: BaseDBAsyncClient | None, template_id: int
) -> list[AppraisalDimension]:
    return (
        await AppraisalDimension.filter(template_id=template_id)
        .order_by("position", "id")
        .using_db(conn)
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


async def load_appraisal(viewer: Viewer, appraisal_id: int) -> Appraisal:
    """The appraisal, if the viewer may see it (NOT_FOUND otherwise)."""
    appraisal = await Appraisal.get_or_none(
        id=appraisal_id, company_id=viewer.company_id
    ).select_related("member")
    if appraisal is None or not viewer.can_see_member(
        appraisal.member_id, appraisal.member.team_id
    ):
        raise NotFound("No such appraisal.")
    return appraisal


async def advance(
    conn: BaseDBAsyncClient,
    appraisal: Appraisal,
    expected: AppraisalStatus,
    now: datetime,
    **changes: object,
) -> None:
    """Move the appraisal one step on from `expected`, or CONFLICT."""
    if appraisal.status is not expected:
        raise Conflict(
            f"The appraisal is {appraisal.status.value}, not {expected.value}.",
            field="status",
        )
    moved = (
        await Appraisal.filter(id=appraisal.id, status=expected)
        .using_db(conn)
        .update(status=NEXT_STATUS[expected], updated_at=now, **changes)
    )
    if moved != 1:
        raise Conflict("Someone else moved this appraisal first.", field="status")
    appraisal.status = NEXT_STATUS[expected]


async def start_self_reviews(viewer: Viewer, cycle_id: int, now: datetime) -> int:
    """Hand every DRAFT appraisal of a cycle to its member; how many moved."""
    cycle = await load_cycle(viewer, cycle_id)
    async with in_transaction() as conn:
        return await (
            Appraisal.filter(cycle_id=cycle.id, status=AppraisalStatus.DRAFT)
            .using_db(conn)
            .update(status=AppraisalStatus.SELF_REVIEW, updated_at=now)
        )


async def load_cycle(viewer: Viewer, cycle_id: int) -> AppraisalCycle:
    cycle = await AppraisalCycle.get_or_none(id=cycle_id, company_id=viewer.company_id)
    if cycle is None:
        raise NotFound("No such appraisal cycle.")
    return cycle


async def submit_self_review(
    viewer: Viewer,
    appraisal_id: int,
    ratings: list[Rating],
    comment: str | None,
    now: datetime,
) -> Appraisal:
    """The member rates themselves and hands over to the manager."""
    appraisal = await load_appraisal(viewer, appraisal_id)
    if appraisal.member_id != viewer.member_id:
        raise Forbidden("Only the member writes their self review.")
    _check_comment(comment)
    async with in_transaction() as conn:
        await advance(
            conn, appraisal, AppraisalStatus.SELF_REVIEW, now, self_comment=comment
        )
        await _rate(conn, appraisal, ratings, viewer, own=True)
    return appraisal


async def review(
    viewer: Viewer,
    appraisal_id: int,
    ratings: list[Rating],
    comment: str | None,
    now: datetime,
) -> Appraisal:
    """The manager (or HR) scores the rated dimensions; the status stays."""
    appraisal = await load_appraisal(viewer, appraisal_id)
    check_reviewer(viewer, appraisal)
    _check_comment(comment)
    if appraisal.status is not AppraisalStatus.MANAGER_REVIEW:
        raise Conflict(
            f"The appraisal is {appraisal.status.value}: it is not the manager's turn.",
            field="status",
        )
    async with in_transaction() as conn:
        await _rate(conn, appraisal, ratings, viewer, own=False)
        await (
            Appraisal.filter(id=appraisal.id, status=AppraisalStatus.MANAGER_REVIEW)
            .using_db(conn)
            .update(
                manager_comment=comment, reviewer_id=viewer.member_id, updated_at=now
            )
        )
    return appraisal


def check_reviewer(viewer: Viewer, appraisal: Appraisal) -> None:
    """The member's team manager or an HR admin; never the member."""
    if appraisal.member_id == viewer.member_id:
        raise Forbidden("No one reviews their own appraisal.")
    if viewer.role is Role.HR_ADMIN:
        return
    team = appraisal.member.team_id
    if viewer.role is not Role.MANAGER or team not in viewer.managed_team_ids:
        raise Forbidden("Only the member's manager or HR reviews this appraisal.")


def _check_comment(comment: str | None) -> None:
    if comment is not None and len(comment) > MAX_COMMENT:
        raise BadUserInput(f"comment is longer than {MAX_COMMENT}.", field="comment")
    if comment is not None and "\x00" in comment:
        raise BadUserInput("comment may not contain NUL.", field="comment")


async def _rate(
    conn: BaseDBAsyncClient,
    appraisal: Appraisal,
    ratings: list[Rating],
    viewer: Viewer,
    *,
    own: bool,
) -> None:
    rated = {
        s.dimension.code: s
        for s in await AppraisalScore.filter(appraisal_id=appraisal.id)
        .select_related("dimension")
        .using_db(conn)
        if s.dimension.kind is DimensionKind.RATED
    }
    for index, rating in enumerate(ratings):
        row = rated.get(rating.dimension)
        if row is None:
            raise BadUserInput(
                f"{rating.dimension!r} is not a rated dimension of this appraisal.",
                field=f"ratings.{index}.dimension",
            )
        if not Decimal(0) <= rating.score <= Decimal(100) or rating.score != round(
            rating.score, 2
        ):
            raise BadUserInput(
                "A rating is 0 to 100 with at most two decimals.",
                field=f"ratings.{index}.score",
            )
        _check_comment(rating.comment)
        await _store_rating(conn, row, rating, viewer, own)


async def _store_rating(
    conn: BaseDBAsyncClient,
    row: AppraisalScore,
    rating: Rating,
    viewer: Viewer,
    own: bool,
) -> None:
    query = AppraisalScore.filter(id=row.id).using_db(conn)
    if own:
        await query.update(self_score=rating.score)
        return
    await query.update(
        score=rating.score, comment=rating.comment, rated_by_id=viewer.member_id
    )


async def correct(
    viewer: Viewer, appraisal_id: int, reason: str, now: datetime
) -> Appraisal:
    """A new version of a finalised appraisal, back in manager review.

    The finalised version stays as it was; finalising the correction pays
    by its grade and takes back what the old version paid.
    """
    old = await load_appraisal(viewer, appraisal_id)
    check_reviewer(viewer, old)
    if not reason.strip() or len(reason) > MAX_COMMENT:
        raise BadUserInput("A correction needs a reason.", field="reason")
    if old.status is not AppraisalStatus.FINALIZED:
        raise Conflict("Only a finalised appraisal is corrected.", field="status")
    async with in_transaction() as conn:
        retired = (
            await Appraisal.filter(id=old.id, is_current=True)
            .using_db(conn)
            .update(is_current=False)
        )
        if retired != 1:
            raise Conflict("This version was already corrected.", field="appraisalId")
        new = await _copy(conn, old, reason, now)
    new.member = old.member
    return new


async def _copy(
    conn: BaseDBAsyncClient, old: Appraisal, reason: str, now: datetime
) -> Appraisal:
    new = await Appraisal.create(
        using_db=conn,
        company_id=old.company_id,
        cycle_id=old.cycle_id,
        member_id=old.member_id,
        version=old.version + 1,
        status=AppraisalStatus.MANAGER_REVIEW,
        self_comment=old.self_comment,
        manager_comment=old.manager_comment,
        reviewer_id=old.reviewer_id,
        supersedes_id=old.id,
        correction_reason=reason,
    )
    rows = await AppraisalScore.filter(appraisal_id=old.id).using_db(conn)
    await AppraisalScore.bulk_create(
        [
            AppraisalScore(
                appraisal_id=new.id,
                dimension_id=r.dimension_id,
                value=r.value,
                self_score=r.self_score,
                score=r.score,
                applies=r.applies,
                comment=r.comment,
                rated_by_id=r.rated_by_id,
            )
            for r in rows
        ],
        using_db=conn,
    )
    return new
