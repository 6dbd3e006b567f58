"""An appraisal's reviews: the member's self review, the manager's review,
and a correction as a new version of a finalised one.

Every move is a conditional UPDATE on the expected status inside one
transaction, so two reviewers racing, a retried request or a skipped step
change nothing and answer CONFLICT. A rated dimension is written only by the
reviewer whose turn it is: the member in SELF_REVIEW, the member's manager
(or HR) in MANAGER_REVIEW.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict, Forbidden, NotFound
from spur.engine.appraisal import (
    HUNDRED,
    NEXT_STATUS,
    AppraisalStatus,
    DimensionKind,
)
from spur.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalScore,
    CycleStatus,
    Role,
)
from spur.resolvers.ledger import checked_text

logger = logging.getLogger(__name__)

MAX_COMMENT = 2000


@dataclass(frozen=True)
class Rating:
    """A reviewer's 0–100 score of one rated dimension, by its code."""

    dimension: str
    score: Decimal
    comment: str | None = None


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


async def load_cycle(viewer: Viewer, cycle_id: int) -> AppraisalCycle:
    """A cycle of the viewer's company (NOT_FOUND otherwise)."""
    cycle = await AppraisalCycle.get_or_none(id=cycle_id, company_id=viewer.company_id)
    if cycle is None:
        raise NotFound("No such appraisal cycle.")
    return cycle


def check_reviewer(viewer: Viewer, appraisal: Appraisal) -> None:
    """The member's team manager or an HR admin; never the member."""
    if appraisal.member_id == viewer.member_id:
        raise Forbidden("No one reviews their own appraisal.")
    if viewer.role is Role.HR_ADMIN:
        return
    team = appraisal.member.team_id
    if viewer.role is not Role.MANAGER or team not in viewer.managed_team_ids:
        raise Forbidden("Only the member's manager or HR reviews this appraisal.")


def check_status(appraisal: Appraisal, expected: AppraisalStatus) -> None:
    """CONFLICT unless the appraisal is where the move starts from."""
    if appraisal.status is not expected:
        raise Conflict(
            f"The appraisal is {appraisal.status.value}, not {expected.value}.",
            field="status",
        )


async def advance(
    conn: BaseDBAsyncClient,
    appraisal: Appraisal,
    expected: AppraisalStatus,
    now: datetime,
    **changes: object,
) -> None:
    """Move the appraisal one step on from `expected`, or CONFLICT."""
    check_status(appraisal, expected)
    moved = (
        await Appraisal.filter(id=appraisal.id, status=expected)
        .using_db(conn)
        .update(status=NEXT_STATUS[expected], updated_at=now, **changes)
    )
    if moved != 1:
        raise Conflict("Someone else moved this appraisal first.", field="status")
    appraisal.status = NEXT_STATUS[expected]
    for name, value in changes.items():
        setattr(appraisal, name, value)


async def submit_self_review(
    viewer: Viewer,
    appraisal_id: int,
    ratings: Sequence[Rating],
    comment: str | None,
    now: datetime,
) -> Appraisal:
    """The member rates themselves and hands over to the manager."""
    appraisal = await load_appraisal(viewer, appraisal_id)
    if appraisal.member_id != viewer.member_id:
        raise Forbidden("Only the member writes their self review.")
    text = _comment(comment, "comment")
    if any(r.comment is not None for r in ratings):
        raise BadUserInput(
            "A self rating has no comment of its own; use the review's comment.",
            field="ratings",
        )
    check_status(appraisal, AppraisalStatus.SELF_REVIEW)
    async with in_transaction() as conn:
        rows = await _rated_rows(conn, appraisal, ratings)
        await advance(
            conn, appraisal, AppraisalStatus.SELF_REVIEW, now, self_comment=text
        )
        for row, rating in rows:
            await (
                AppraisalScore.filter(id=row.id)
                .using_db(conn)
                .update(self_score=rating.score)
            )
    return await Appraisal.get(id=appraisal.id).select_related("member")


async def review(
    viewer: Viewer,
    appraisal_id: int,
    ratings: Sequence[Rating],
    comment: str | None,
    now: datetime,
) -> Appraisal:
    """The manager (or HR) scores the rated dimensions; the status stays.

    A comment left out keeps the one written before.
    """
    appraisal = await load_appraisal(viewer, appraisal_id)
    check_reviewer(viewer, appraisal)
    text = _comment(comment, "comment")
    check_status(appraisal, AppraisalStatus.MANAGER_REVIEW)
    changes: dict[str, object] = {"reviewer_id": viewer.member_id, "updated_at": now}
    if comment is not None:
        changes["manager_comment"] = text
    async with in_transaction() as conn:
        rows = await _rated_rows(conn, appraisal, ratings)
        # First, so a finalisation that won the race leaves nothing written.
        kept = (
            await Appraisal.filter(
                id=appraisal.id, status=AppraisalStatus.MANAGER_REVIEW
            )
            .using_db(conn)
            .update(**changes)
        )
        if kept != 1:
            raise Conflict("The appraisal moved on meanwhile.", field="status")
        for row, rating in rows:
            await (
                AppraisalScore.filter(id=row.id)
                .using_db(conn)
                .update(
                    score=rating.score,
                    comment=_comment(rating.comment, "ratings.comment"),
                    rated_by_id=viewer.member_id,
                )
            )
    return await Appraisal.get(id=appraisal.id).select_related("member")


def _comment(comment: str | None, field: str) -> str | None:
    if comment is None:
        return None
    return checked_text(comment, field, MAX_COMMENT, required=False) or None


async def _rated_rows(
    conn: BaseDBAsyncClient, appraisal: Appraisal, ratings: Sequence[Rating]
) -> list[tuple[AppraisalScore, Rating]]:
    """Each rating with the score row of its dimension; BAD_USER_INPUT for a
    dimension that is not rated, named twice, or a score outside 0–100."""
    rated = {
        s.dimension.code: s
        for s in await AppraisalScore.filter(appraisal_id=appraisal.id)
        .select_related("dimension")
        .using_db(conn)
        if s.dimension.kind is DimensionKind.RATED
    }
    found: list[tuple[AppraisalScore, Rating]] = []
    for index, rating in enumerate(ratings):
        where = f"ratings.{index}"
        row = rated.pop(rating.dimension, None)
        if row is None:
            raise BadUserInput(
                f"{rating.dimension!r} is not a rated dimension of this appraisal, "
                "or is rated twice.",
                field=f"{where}.dimension",
            )
        if not 0 <= rating.score <= HUNDRED or rating.score != round(rating.score, 2):
            raise BadUserInput(
                "A rating is 0 to 100 with at most two decimals.",
                field=f"{where}.score",
            )
        _comment(rating.comment, f"{where}.comment")
        found.append((row, rating))
    return found


async def correct(viewer: Viewer, appraisal_id: int, reason: str) -> Appraisal:
    """A new version of a finalised appraisal, back in manager review.

    The finalised version stays as it was; finalising the correction pays
    by its grade and takes back what the old version paid.
    """
    old = await load_appraisal(viewer, appraisal_id)
    check_reviewer(viewer, old)
    why = checked_text(reason, "reason", MAX_COMMENT, required=True)
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
        new = await _copy(conn, old, why)
        # A closed cycle has an appraisal to finalise again.
        await (
            AppraisalCycle.filter(id=old.cycle_id, status=CycleStatus.CLOSED)
            .using_db(conn)
            .update(status=CycleStatus.OPEN)
        )
    logger.info("member %s corrected appraisal %s", viewer.member_id, old.id)
    new.member = old.member
    return new


async def _copy(conn: BaseDBAsyncClient, old: Appraisal, reason: str) -> Appraisal:
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
