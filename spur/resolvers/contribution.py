"""Special contributions: a manager puts a member on the promotion track."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Forbidden, NotFound
from spur.models import EntryCause, LedgerEntry, Member, RewardKind, RewardStatus, Role
from spur.models.upserts import insert_new

MAX_DESCRIPTION = 200
MAX_REFERENCE = 64


async def mark_special_contribution(
    viewer: Viewer,
    member_id: int,
    description: str,
    reference: str,
    now: datetime,
) -> tuple[LedgerEntry, bool]:
    """A PROMOTION entitlement awaiting HR, once per `reference`.

    Returns the entry and whether it already existed (a retried request).
    """
    member = await Member.get_or_none(id=member_id, company_id=viewer.company_id)
    if member is None or not viewer.can_see_member(member.id, member.team_id):
        raise NotFound("No such member.", field="memberId")
    _check(viewer, member, description, reference)
    key = f"special:m{member.id}:{reference}"
    async with in_transaction() as conn:
        new_id = await insert_new(
            conn,
            LedgerEntry,
            {
                "company_id": viewer.company_id,
                "member_id": member.id,
                "key": key,
                "kind": RewardKind.PROMOTION,
                "title": description.strip(),
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
    return entry, new_id is None


def _check(viewer: Viewer, member: Member, description: str, reference: str) -> None:
    if member.id == viewer.member_id:
        raise Forbidden("No one marks their own contribution.")
    managed = member.team_id in viewer.managed_team_ids
    if viewer.role is not Role.HR_ADMIN and not (
        viewer.role is Role.MANAGER and managed
    ):
        raise Forbidden("Only the member's manager or HR marks a contribution.")
    if not description.strip() or len(description) > MAX_DESCRIPTION:
        raise BadUserInput(
            f"description must have 1 to {MAX_DESCRIPTION} characters.",
            field="description",
        )
    if not reference.strip() or len(reference) > MAX_REFERENCE or "\x00" in reference:
        raise BadUserInput(
            f"reference must have 1 to {MAX_REFERENCE} characters.", field="reference"
        )
