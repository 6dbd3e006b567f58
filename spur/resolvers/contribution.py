"""Special contributions: a manager puts a member on the promotion track.

The mark is a PROMOTION entitlement in the ledger, PENDING until an HR admin
approves it (spur.resolvers.approval keeps that decision to HR). A client
reference makes the mark idempotent: sent again, it finds the first one.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import Forbidden, NotFound
from spur.models import EntryCause, LedgerEntry, Member, RewardKind, RewardStatus, Role
from spur.models.upserts import insert_new
from spur.resolvers.ledger import checked_text

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 200  # LedgerEntry.title
MAX_REFERENCE = 64


@dataclass(frozen=True)
class Marked:
    """The PROMOTION entry, and whether the reference had marked it before."""

    entry: LedgerEntry
    duplicate: bool


async def mark_special_contribution(
    viewer: Viewer,
    member_id: int,
    description: str,
    reference: str | None,
    now: datetime,
) -> Marked:
    """A PROMOTION entitlement awaiting HR, once per `reference` (a fresh
    one when none is given)."""
    member = await Member.get_or_none(id=member_id, company_id=viewer.company_id)
    if member is None or not viewer.can_see_member(member.id, member.team_id):
        raise NotFound("No such member.", field="memberId")
    _check_marker(viewer, member)
    title = checked_text(description, "description", MAX_DESCRIPTION, required=True)
    ref = checked_text(reference, "reference", MAX_REFERENCE, required=False)
    key = f"special:m{member.id}:{ref or uuid.uuid4().hex}"
    async with in_transaction() as conn:
        new_id = await insert_new(
            conn,
            LedgerEntry,
            {
                "company_id": viewer.company_id,
                "member_id": member.id,
                "key": key,
                "kind": RewardKind.PROMOTION,
                "title": title,
                "titles": {},
                "status": RewardStatus.PENDING,
                "rule_ref": f"special:{viewer.member_id}",
                "cause": EntryCause.APPRAISAL,
                "inputs": {"marked_by": str(viewer.member_id)},
                "earned_at": now,
                "created_at": now,
            },
        )
        entry = (
            await LedgerEntry.filter(company_id=viewer.company_id, key=key)
            .using_db(conn)
            .get()
        )
    if new_id is not None:
        logger.info("member %s marked member %s", viewer.member_id, member.id)
    return Marked(entry, new_id is None)


def _check_marker(viewer: Viewer, member: Member) -> None:
    """The member's team manager or an HR admin, never for themselves; an
    active member who can be promoted (not a partner app)."""
    if member.id == viewer.member_id:
        raise Forbidden("No one marks their own contribution.")
    managed = member.team_id in viewer.managed_team_ids
    if viewer.role is not Role.HR_ADMIN and not (
        viewer.role is Role.MANAGER and managed
    ):
        raise Forbidden("Only the member's manager or HR marks a contribution.")
    if not member.is_active or member.role is Role.PARTNER:
        raise NotFound("No such member.", field="memberId")
