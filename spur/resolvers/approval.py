"""Moving ledger entries on their way to pay: approve, reject, mark paid.

A batch moves all its entries or none. Every entry is checked first (it
exists in the viewer's company, the viewer may move it, it is in a status
the move starts from); then, in one transaction, each entry is moved by a
conditional UPDATE that names the status it was read in, and each move is
recorded as a `StatusChange`. An UPDATE that touches no row means someone
else moved the entry in between: the whole batch rolls back as CONFLICT.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict, Forbidden, NotFound
from spur.models import (
    EntryCause,
    LedgerEntry,
    Member,
    RewardKind,
    RewardStatus,
    Role,
    StatusChange,
    Team,
)
from spur.resolvers.alert import accepted_suffix
from spur.resolvers.ledger import global_ids

logger = logging.getLogger(__name__)

MAX_BATCH = 100


@dataclass(frozen=True)
class Transition:
    """A move between statuses, and whether a team's manager may make it."""

    verb: str
    sources: frozenset[RewardStatus]
    target: RewardStatus
    managers_may: bool


APPROVE = Transition(
    "approve", frozenset({RewardStatus.PENDING}), RewardStatus.APPROVED, True
)
REJECT = Transition(
    "reject",
    frozenset({RewardStatus.PENDING, RewardStatus.APPROVED}),
    RewardStatus.REJECTED,
    True,
)
PAY = Transition("pay", frozenset({RewardStatus.APPROVED}), RewardStatus.PAID, False)

# A promotion or a share of the company is HR's decision, even for a team's
# manager who may approve the team's cash.
HR_DECIDES = frozenset({RewardKind.EQUITY, RewardKind.PROMOTION})


@dataclass(frozen=True)
class MoveRequest:
    """Which entries to move and the words recorded with each move."""

    entry_ids: Sequence[int]
    reason: str
    reference: str | None = None


async def move_entries(
    viewer: Viewer,
    transition: Transition,
    request: MoveRequest,
    clock: Callable[[], datetime],
) -> list[LedgerEntry]:
    """Move every entry of `request` by `transition`, or none of them.

    Returns the moved entries in request order, with their new status.
    """
    _check_batch(request.entry_ids)
    entries = await load_entries(viewer, request.entry_ids)
    _refuse_any(viewer, transition, request.entry_ids, entries)

    now = clock()
    async with in_transaction() as conn:
        changes = []
        # In id order, so two batches sharing entries lock them alike and
        # one waits for the other instead of deadlocking.
        for entry in sorted(entries.values(), key=lambda e: e.id):
            previous = await _move(conn, entry, transition.target)
            changes.append(_record(entry, previous, viewer, request, now))
        await StatusChange.bulk_create(changes, using_db=conn)

    logger.info(
        "member %s %s %s ledger entries",
        viewer.member_id,
        transition.verb,
        len(entries),
    )
    return [entries[key] for key in request.entry_ids]


def _check_batch(entry_ids: Sequence[int]) -> None:
    if not 0 < len(entry_ids) <= MAX_BATCH:
        raise BadUserInput(f"ids must hold 1 to {MAX_BATCH} ids.", field="ids")
    if len(set(entry_ids)) != len(entry_ids):
        raise BadUserInput("ids names an entry more than once.", field="ids")


async def load_entries(
    viewer: Viewer, entry_ids: Sequence[int]
) -> dict[int, LedgerEntry]:
    """The entries of the viewer's company among `entry_ids`, with their members."""
    rows = await LedgerEntry.filter(
        id__in=list(entry_ids), company_id=viewer.company_id
    ).select_related("member")
    return {row.id: row for row in rows}


def _refuse_any(
    viewer: Viewer,
    transition: Transition,
    entry_ids: Sequence[int],
    entries: dict[int, LedgerEntry],
) -> None:
    """Raise for the first kind of problem any entry has, naming every entry
    with that problem: unknown, then not the viewer's to move, then in the
    wrong status."""
    missing = [key for key in entry_ids if key not in entries]
    if missing:
        raise NotFound("No such reward.", ids=global_ids("Reward", missing))
    found = [entries[key] for key in entry_ids]
    barred = [e.id for e in found if not may_move(viewer, transition, e)]
    if barred:
        raise Forbidden(
            f"You may not {transition.verb} these rewards.",
            ids=global_ids("Reward", barred),
        )
    stale = [e.id for e in found if e.status not in transition.sources]
    if stale:
        raise Conflict(_wrong_status(transition), ids=global_ids("Reward", stale))


def may_move(viewer: Viewer, transition: Transition, entry: LedgerEntry) -> bool:
    """HR admins move anyone's entries but their own; a manager, where the
    transition allows, those of the teams they manage, never their own and
    never a promotion or equity (`entry.member` loaded). Nobody moves a
    manager award they granted themselves."""
    owner: Member = entry.member
    if owner.id == viewer.member_id or _awarded_by(entry, viewer.member_id):
        return False
    if viewer.role is Role.HR_ADMIN:
        return True
    return (
        transition.managers_may
        and entry.kind not in HR_DECIDES
        and viewer.role is Role.MANAGER
        and owner.team_id in viewer.managed_team_ids
    )


def _awarded_by(entry: LedgerEntry, member_id: int) -> bool:
    """A manager award is approved by someone other than who granted it."""
    return entry.cause is EntryCause.MANAGER_AWARD and entry.rule_ref.endswith(
        accepted_suffix(member_id)
    )


def _wrong_status(transition: Transition) -> str:
    sources = " or ".join(sorted(status.value for status in transition.sources))
    return f"Only {sources} rewards can be moved to {transition.target.value}."


async def _move(
    conn: BaseDBAsyncClient, entry: LedgerEntry, target: RewardStatus
) -> RewardStatus:
    """Move one entry from the status it was read in, which is returned;
    CONFLICT if it moved since."""
    moved = (
        await LedgerEntry.filter(id=entry.id, status=entry.status)
        .using_db(conn)
        .update(status=target)
    )
    if moved != 1:
        raise Conflict(
            "The reward was changed meanwhile; reload it and try again.",
            ids=global_ids("Reward", [entry.id]),
        )
    previous, entry.status = entry.status, target
    return previous


def _record(
    entry: LedgerEntry,
    previous: RewardStatus,
    viewer: Viewer,
    request: MoveRequest,
    now: datetime,
) -> StatusChange:
    return StatusChange(
        entry_id=entry.id,
        from_status=previous,
        to_status=entry.status,
        actor_id=viewer.member_id,
        reason=request.reason,
        reference=request.reference,
        changed_at=now,
    )


async def pending_entries(
    viewer: Viewer, team_id: int | None, offset: int, limit: int
) -> list[LedgerEntry]:
    """Entries waiting for the viewer's decision, oldest first.

    One extra row tells of a next page. The viewer's own entries are left
    out: someone else decides on them; so are manager awards the viewer
    granted, and, for a manager, promotions and equity, which HR decides.
    """
    team_ids = await _deciding_teams(viewer, team_id)
    query = (
        LedgerEntry.filter(company_id=viewer.company_id, status=RewardStatus.PENDING)
        .exclude(member_id=viewer.member_id)
        .filter(
            ~Q(cause=EntryCause.MANAGER_AWARD)
            | ~Q(rule_ref__endswith=accepted_suffix(viewer.member_id))
        )
    )
    if not viewer.is_hr_admin:
        query = query.exclude(kind__in=list(HR_DECIDES))
    if team_ids is not None:
        if not team_ids:
            return []
        query = query.filter(member__team_id__in=team_ids)
    return await query.order_by("created_at", "id").offset(offset).limit(limit + 1)


async def _deciding_teams(viewer: Viewer, team_id: int | None) -> list[int] | None:
    """The teams to list (None: the whole company, for HR without a team)."""
    if team_id is None:
        return None if viewer.is_hr_admin else sorted(viewer.managed_team_ids)
    team = await Team.get_or_none(id=team_id, company_id=viewer.company_id)
    if team is None:
        raise NotFound("No such team.")
    if not (viewer.is_hr_admin or team.id in viewer.managed_team_ids):
        raise Forbidden("Only the team's managers and HR admins decide on its rewards.")
    return [team.id]
