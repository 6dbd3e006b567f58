"""Voiding an activity: what it counted and what it earned, taken back once.

Nothing recorded is deleted or edited. In one transaction the activity is
marked voided by a conditional UPDATE, so of any number of repeated or
concurrent voids only the first writes anything. Its metric contributions
are then added again, negated, to the same totals and goal periods (a goal
already completed stays completed, and no events are written), and every
ledger line it earned, or a re-rating adjusted since, gets a compensating
line: a line not yet paid moves to REVERSED together with its
compensation, a paid one gets an APPROVED clawback for payroll to deduct,
a rejected one needs nothing. Cash it earned gives its room back on the
member's cap and the plan's budget. Step high-water marks stay where they
are, so a step never pays twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import Conflict, Forbidden, NotFound
from spur.api.services import Services
from spur.engine.periods import Period, period_containing
from spur.models import (
    CASH_KINDS,
    Activity,
    Company,
    EntryCause,
    Goal,
    GoalProgress,
    LedgerEntry,
    Member,
    PlanVersion,
    RewardStatus,
    Role,
)
from spur.models.upserts import (
    StoredCounters,
    add_to_progress,
    add_to_totals,
    insert_new,
)
from spur.resolvers.activity import metric_changes, total_deltas
from spur.resolvers.goal_progress import goal_applies
from spur.resolvers.ledger import checked_text, global_ids, reverse_entry
from spur.resolvers.payout import plan_limits
from spur.resolvers.scores import record_scores
from spur.subscriptions.relay import publish_progress

logger = logging.getLogger(__name__)

MAX_REASON = 500
# Lines not yet paid are taken back whole; paid ones are clawed back.
UNPAID = frozenset({RewardStatus.PENDING, RewardStatus.APPROVED})
# What an activity's lines were written for: earned by it, or adjusted by a
# re-rating since (appraisal lines name no activity).
CAUSES = (EntryCause.EARNED, EntryCause.RERATE)


@dataclass(frozen=True)
class Voided:
    """The activity as it now stands, and the compensating lines written."""

    activity: Activity
    already_voided: bool
    compensations: list[LedgerEntry]


async def void_activity(
    services: Services, viewer: Viewer, activity_id: int, reason: str
) -> Voided:
    """Void an activity once; a repeat finds it voided and writes nothing.

    The member's manager or an HR admin may void, never their own activity
    (voiding a refund would pay them). Another company's activity is
    NOT_FOUND.
    """
    why = checked_text(reason, "reason", MAX_REASON, required=True)
    activity = await _voidable(viewer, activity_id)
    company = await Company.get(id=viewer.company_id)

    now = services.clock()
    async with in_transaction() as conn:
        if not await _mark_voided(conn, activity, viewer, why, now):
            current = await Activity.filter(id=activity.id).using_db(conn).get()
            return Voided(current, True, [])
        undo = _Undo(conn, company, activity, viewer, why, now)
        moved = await undo.counts()
        written = await undo.rewards()

    await _announce(services, activity, moved)
    logger.info(
        "activity %s voided by member %s: %s compensating entries",
        activity.id,
        viewer.member_id,
        len(written),
    )
    return Voided(await Activity.get(id=activity.id), False, written)


async def _voidable(viewer: Viewer, activity_id: int) -> Activity:
    activity = (
        await Activity.filter(id=activity_id, company_id=viewer.company_id)
        .select_related("member")
        .first()
    )
    if activity is None:
        raise NotFound("No such activity.")
    if not may_void(viewer, activity.member):
        raise Forbidden(
            "Only the member's manager or an HR admin may void this activity, "
            "never their own."
        )
    return activity


def may_void(viewer: Viewer, owner: Member) -> bool:
    """HR admins void anyone's activity but their own; managers their teams'."""
    if owner.id == viewer.member_id:
        return False
    if viewer.role is Role.HR_ADMIN:
        return True
    return viewer.role is Role.MANAGER and owner.team_id in viewer.managed_team_ids


async def _mark_voided(
    conn: BaseDBAsyncClient,
    activity: Activity,
    viewer: Viewer,
    reason: str,
    now: datetime,
) -> bool:
    """Whether this call voided the activity (False: it already was)."""
    changed = (
        await Activity.filter(id=activity.id, voided_at__isnull=True)
        .using_db(conn)
        .update(voided_at=now, voided_by_id=viewer.member_id, void_reason=reason)
    )
    return changed == 1


async def _announce(
    services: Services, activity: Activity, moved: list[tuple[int, str]]
) -> None:
    """After commit: progress bars showing the goals move back."""
    if moved:
        member = activity.member
        await publish_progress(
            services.broker, activity.company_id, moved, member.id, member.team_id
        )


class _Undo:
    """Takes one voided activity's counts and rewards back, in its transaction."""

    def __init__(
        self,
        conn: BaseDBAsyncClient,
        company: Company,
        activity: Activity,
        viewer: Viewer,
        reason: str,
        now: datetime,
    ) -> None:
        self.conn, self.company, self.activity = conn, company, activity
        self.viewer, self.reason, self.now = viewer, reason, now
        self.tz = ZoneInfo(company.timezone)

    async def counts(self) -> list[tuple[int, str]]:
        """Negate the activity's metric contributions in totals and goals.

        The member's current team is the one debited: the activity row does
        not record the team it was counted for.
        """
        member = self.activity.member
        added = await metric_changes(self.conn, self.company.id, self.activity)
        changes = {metric_id: -delta for metric_id, delta in added.items()}
        deltas = total_deltas(member, self.activity, changes, self.tz)
        await add_to_totals(self.conn, self.company.id, deltas, self.now)
        await record_scores(
            self.conn, self.company, member, self.activity, changes, self.now
        )
        return await self._goals(member, changes)

    async def _goals(
        self, member: Member, changes: dict[int, Decimal]
    ) -> list[tuple[int, str]]:
        """Take the changes out of every goal period the activity counted in."""
        counted = await self._counted_periods(member, changes)
        stored = await self._stored(counted)
        moved = []
        for goal, period in counted:
            if (goal.id, period.start_date) not in stored:
                continue  # never counted: no row holds anything to take out
            delta = changes[goal.metric_id]
            start = period.start_date
            await add_to_progress(
                self.conn, goal.id, start, delta, goal.target, self.now
            )
            moved.append((goal.id, start.isoformat()))
        return moved

    async def _counted_periods(
        self, member: Member, changes: dict[int, Decimal]
    ) -> list[tuple[Goal, Period]]:
        if not changes:
            return []
        owner = Q(member_id=member.id)
        if member.team_id is not None:
            owner |= Q(team_id=member.team_id)
        goals = (
            await Goal.filter(
                owner, company_id=self.company.id, metric_id__in=list(changes)
            )
            .order_by("id")
            .using_db(self.conn)
        )
        at = self.activity.occurred_at
        found = [(g, period_containing(g.period_kind, at, self.tz)) for g in goals]
        return [(g, period) for g, period in found if goal_applies(g, period, at)]

    async def _stored(
        self, counted: list[tuple[Goal, Period]]
    ) -> set[tuple[int, date]]:
        if not counted:
            return set()
        rows = (
            await GoalProgress.filter(
                goal_id__in=[goal.id for goal, _ in counted],
                period_start__in=list({period.start_date for _, period in counted}),
            )
            .using_db(self.conn)
            .values_list("goal_id", "period_start")
        )
        return {(int(goal_id), start) for goal_id, start in rows}

    async def rewards(self) -> list[LedgerEntry]:
        """A compensating line for every line the activity earned or a
        re-rating adjusted, in id order.

        The lines are locked first (on PostgreSQL), so an approval or payment
        running meanwhile waits and then finds them moved.
        """
        found = (
            await LedgerEntry.filter(
                company_id=self.company.id,
                source_activity_id=self.activity.id,
                cause__in=CAUSES,
            )
            .order_by("id")
            .select_for_update()
            .using_db(self.conn)
        )
        settled = _settled(found)
        ids = []
        for entry in found:
            if entry.id in settled:
                continue
            written = await self._compensate(entry)
            if written is not None:
                ids.append(written)
        rows = LedgerEntry.filter(id__in=ids).order_by("id").using_db(self.conn)
        return list(await rows) if ids else []

    async def _compensate(self, entry: LedgerEntry) -> int | None:
        if entry.status not in UNPAID and entry.status is not RewardStatus.PAID:
            return None  # rejected: nothing was owed
        paid = entry.status is RewardStatus.PAID
        status = RewardStatus.APPROVED if paid else RewardStatus.REVERSED
        written = await insert_new(
            self.conn, LedgerEntry, compensation(entry, status, self.now)
        )
        if written is None:
            return None  # compensated before
        if not paid:
            await self._reverse(entry)
        await self._give_room_back(entry)
        return written

    async def _reverse(self, entry: LedgerEntry) -> None:
        reversed_ = await reverse_entry(
            self.conn, entry, self.viewer.member_id, self.reason, self.now
        )
        if not reversed_:
            raise Conflict(
                "A reward of this activity was changed meanwhile; try again.",
                ids=global_ids("Reward", [entry.id]),
            )

    async def _give_room_back(self, entry: LedgerEntry) -> None:
        """Release the entry's cash from the counters payout held it to."""
        amount = entry.amount
        if entry.kind not in CASH_KINDS or amount is None:
            return
        if entry.cause is not EntryCause.EARNED:
            return  # re-rating adjusts the ledger, never the counters
        if entry.plan_version_id is None:
            return  # a goal reward: no cap or budget held it
        version = (
            await PlanVersion.filter(id=entry.plan_version_id)
            .select_related("plan")
            .using_db(self.conn)
            .get()
        )
        counters = StoredCounters(self.conn, self.company.id, self.now)
        limits = plan_limits(
            version.plan, version, entry.member_id, entry.earned_at, self.tz
        )
        for key, _ in limits:
            used = (await counters.add(key, Decimal(0))).after
            await counters.add(key, max(-amount, -used))


def _settled(entries: list[LedgerEntry]) -> set[int]:
    """Lines a re-rating took back and the lines taking them back.

    Each pair already nets to nothing; a compensation of the take-back (an
    entitlement without a quantity that names what it reverses) would count
    as a second take-back.
    """
    pairs = [e for e in entries if e.cause is EntryCause.RERATE and e.reverses_id]
    return {e.id for e in pairs} | {e.reverses_id for e in pairs if e.reverses_id}


def compensation(
    original: LedgerEntry, status: RewardStatus, now: datetime
) -> dict[str, object]:
    """The line that cancels `original`: the same line, negated, naming it."""
    return {
        "company_id": original.company_id,
        "member_id": original.member_id,
        "key": f"{original.key}:void",
        "kind": original.kind,
        "title": original.title,
        "titles": original.titles,
        "amount": _negated(original.amount),
        "currency": original.currency,
        "quantity": _negated(original.quantity),
        "status": status,
        "source_activity_id": original.source_activity_id,
        "goal_id": original.goal_id,
        "period_start": original.period_start,
        "rule_ref": original.rule_ref,
        "plan_version_id": original.plan_version_id,
        "rule_id": original.rule_id,
        "cause": EntryCause.VOID,
        "inputs": {"voided_activity": str(original.source_activity_id)},
        "reverses_id": original.id,
        "earned_at": original.earned_at,
        "created_at": now,
    }


def _negated(value: Decimal | None) -> Decimal | None:
    return None if value is None else -value
