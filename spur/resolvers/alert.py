"""Manager alerts for people: listing them, accepting and dismissing.

A team's managers and HR admins read and decide a team's alerts; nobody
decides an alert about themselves. Accepting moves the alert from OPEN by a
conditional UPDATE, so of two concurrent accepts one wins and the other is
a CONFLICT, while accepting an accepted alert again answers it as it is.
An alert with a suggested reward writes one ledger entry under the key
`alert:{id}` (cause MANAGER_AWARD), its status by the approval thresholds of
the plans covering the member today; dismissing writes none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict, Forbidden, NotFound
from spur.api.services import Services
from spur.engine import messages, money
from spur.engine.incentives import covers
from spur.models import (
    AchievementEvent,
    AlertStatus,
    Company,
    EntryCause,
    EventKind,
    LedgerEntry,
    ManagerAlert,
    Member,
    RewardKind,
    RewardStatus,
    Team,
)
from spur.models.upserts import insert_new
from spur.resolvers.activity_input import MAX_AMOUNT
from spur.resolvers.payout import entry_status
from spur.resolvers.rulebook import load_rulebook, person_of

logger = logging.getLogger(__name__)

MAX_REASON = 500
AWARD_TITLE = "Manager award"
AWARD_TITLES = {"zh-CN": "经理奖励", "en": AWARD_TITLE}


@dataclass(frozen=True)
class Decided:
    """An alert after a decision, and whether this call made it."""

    alert: ManagerAlert
    entry: LedgerEntry | None
    already_decided: bool


async def list_alerts(
    viewer: Viewer,
    status: AlertStatus | None,
    team_id: int | None,
    offset: int,
    limit: int,
) -> list[ManagerAlert]:
    """The newest alerts first; one extra row tells of a next page."""
    teams = await visible_teams(viewer, team_id)
    query = ManagerAlert.filter(company_id=viewer.company_id)
    if status is not None:
        query = query.filter(status=status)
    if teams is not None:
        query = query.filter(team_id__in=teams)
    return await query.order_by("-raised_at", "-id").offset(offset).limit(limit + 1)


async def visible_teams(viewer: Viewer, team_id: int | None) -> list[int] | None:
    """The teams whose alerts to list (None: the whole company, for HR)."""
    if team_id is None:
        return None if viewer.is_hr_admin else sorted(viewer.managed_team_ids)
    team = await Team.get_or_none(id=team_id, company_id=viewer.company_id)
    if team is None:
        raise NotFound("No such team.")
    if not viewer.can_watch_team(team.id):
        raise Forbidden("Only the team's managers and HR admins read its alerts.")
    return [team.id]


async def load_alert(viewer: Viewer, alert_id: int) -> ManagerAlert:
    """An alert the viewer may decide: of their company (else NOT_FOUND), of
    a team they manage or any for HR, and not about themselves."""
    alert = await ManagerAlert.get_or_none(id=alert_id, company_id=viewer.company_id)
    if alert is None:
        raise NotFound("No such alert.")
    if not viewer.can_watch_team(alert.team_id):
        raise Forbidden("Only the team's managers and HR admins decide its alerts.")
    if alert.member_id == viewer.member_id:
        raise Forbidden("Someone else decides on an alert about you.")
    return alert


def checked_amount(amount: Decimal | None, currency: str) -> Decimal | None:
    """An award amount typed by a manager: positive, in minor units."""
    if amount is None:
        return None
    if not amount.is_finite() or not 0 < amount < MAX_AMOUNT:
        raise BadUserInput("amount must be above zero.", field="amount")
    if money.quantize(amount, currency) != amount:
        raise BadUserInput(f"amount has more decimals than {currency}.", field="amount")
    return amount


def checked_reason(reason: str, required: bool) -> str:
    text = reason.strip()
    if (required and not text) or len(text) > MAX_REASON:
        raise BadUserInput(
            f"reason must be 1 to {MAX_REASON} characters.", field="reason"
        )
    return text


async def accept_alert(
    services: Services,
    viewer: Viewer,
    alert_id: int,
    amount: Decimal | None,
    reason: str,
) -> Decided:
    """Accept an alert once; its suggested (or the given) award goes to the ledger."""
    alert = await load_alert(viewer, alert_id)
    if alert.status is AlertStatus.ACCEPTED:
        return Decided(alert, await _entry_of(alert), True)
    if alert.status is not AlertStatus.OPEN:
        raise Conflict("This alert was dismissed.")
    company = await Company.get(id=viewer.company_id)
    award = checked_amount(amount, company.currency)
    award = award if award is not None else alert.suggested_amount
    if amount is not None and alert.member_id is None:
        raise BadUserInput("A team alert pays nobody.", field="amount")
    note = checked_reason(reason, required=False)

    now = services.clock()
    async with in_transaction() as conn:
        await _decide(conn, alert, AlertStatus.ACCEPTED, viewer, note, now)
        entry_id = None
        if award is not None and alert.member_id is not None:
            entry_id = await _award(conn, company, alert, award, viewer, now)
            await (
                ManagerAlert.filter(id=alert.id)
                .using_db(conn)
                .update(ledger_entry_id=entry_id)
            )

    if entry_id is not None:
        services.relay.poke()
    logger.info("member %s accepted alert %s", viewer.member_id, alert.id)
    fresh = await ManagerAlert.get(id=alert.id)
    return Decided(fresh, await _entry_of(fresh), False)


async def dismiss_alert(
    services: Services, viewer: Viewer, alert_id: int, reason: str
) -> Decided:
    """Dismiss an alert once, with a reason; nothing goes to the ledger."""
    note = checked_reason(reason, required=True)
    alert = await load_alert(viewer, alert_id)
    if alert.status is AlertStatus.DISMISSED:
        return Decided(alert, None, True)
    if alert.status is not AlertStatus.OPEN:
        raise Conflict("This alert was accepted.")
    async with in_transaction() as conn:
        await _decide(
            conn, alert, AlertStatus.DISMISSED, viewer, note, services.clock()
        )
    logger.info("member %s dismissed alert %s", viewer.member_id, alert.id)
    return Decided(await ManagerAlert.get(id=alert.id), None, False)


async def _decide(
    conn: BaseDBAsyncClient,
    alert: ManagerAlert,
    status: AlertStatus,
    viewer: Viewer,
    reason: str,
    now: datetime,
) -> None:
    moved = (
        await ManagerAlert.filter(id=alert.id, status=AlertStatus.OPEN)
        .using_db(conn)
        .update(
            status=status, decided_by_id=viewer.member_id, decided_at=now, reason=reason
        )
    )
    if moved != 1:
        raise Conflict("The alert was decided meanwhile; reload it.")


async def _entry_of(alert: ManagerAlert) -> LedgerEntry | None:
    if alert.ledger_entry_id is None:
        return None
    return await LedgerEntry.get_or_none(id=alert.ledger_entry_id)


async def _award(
    conn: BaseDBAsyncClient,
    company: Company,
    alert: ManagerAlert,
    amount: Decimal,
    viewer: Viewer,
    now: datetime,
) -> int:
    """The award's ledger entry (one per alert, by its key) and its event."""
    member = await Member.filter(id=alert.member_id).using_db(conn).get()
    threshold = await approval_threshold(conn, company, member, now)
    values: dict[str, object] = {
        "company_id": company.id,
        "member_id": member.id,
        "key": f"alert:{alert.id}",
        "kind": RewardKind.CASH,
        "title": AWARD_TITLE,
        "titles": AWARD_TITLES,
        "amount": amount,
        "currency": company.currency,
        "status": _award_status(threshold, amount),
        "goal_id": alert.goal_id,
        "period_start": alert.period_start,
        "rule_ref": award_ref(alert, viewer.member_id),
        "cause": EntryCause.MANAGER_AWARD,
        "inputs": _inputs(alert, amount, viewer),
        "earned_at": now,
        "created_at": now,
    }
    entry_id = await insert_new(conn, LedgerEntry, values)
    if entry_id is None:  # the key is the alert's: only a racing accept gets here
        raise Conflict("The alert was decided meanwhile; reload it.")
    await _award_event(conn, company, member, alert, entry_id, amount, now)
    return entry_id


def award_ref(alert: ManagerAlert, accepted_by: int) -> str:
    """The award's rule reference: the alert's rule and who accepted it
    (`alert:CONVERSION_LEAD:by12`), so approvals can keep that person out."""
    return f"alert:{alert.rule.value}{accepted_suffix(accepted_by)}"


def accepted_suffix(member_id: int) -> str:
    """How an award's rule reference ends when `member_id` accepted it."""
    return f":by{member_id}"


def _award_status(threshold: Decimal | None, amount: Decimal) -> RewardStatus:
    # Without a plan's threshold to go by, a second person approves.
    if threshold is None:
        return RewardStatus.PENDING
    return entry_status(threshold, RewardKind.CASH, amount)


def _inputs(alert: ManagerAlert, amount: Decimal, viewer: Viewer) -> dict[str, str]:
    found = {
        "alert": str(alert.id),
        "rule": alert.rule.value,
        "value": f"{alert.value:f}",
        "baseline": f"{alert.baseline:f}",
        "accepted_by": str(viewer.member_id),
        "amount": f"{amount:f}",
    }
    if alert.suggested_amount is not None:
        found["suggested"] = f"{alert.suggested_amount:f}"
    return found


async def approval_threshold(
    conn: BaseDBAsyncClient, company: Company, member: Member, now: datetime
) -> Decimal | None:
    """The lowest approval threshold of the active plans covering the member
    today (None when no such plan sets one)."""
    book = await load_rulebook(conn, company.id)
    person = person_of(member)
    day = now.astimezone(ZoneInfo(company.timezone)).date()
    found = [
        plan.approval_threshold
        for plan in book.plans
        if plan.approval_threshold is not None
        and book.version_on(plan.id, day) is not None
        and any(covers(a, person, day) for a in book.audiences[plan.id])
    ]
    return min(found, default=None)


async def _award_event(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    alert: ManagerAlert,
    entry_id: int,
    amount: Decimal,
    now: datetime,
) -> None:
    shown = money.format_money(amount, company.currency)
    lead = await _lead(conn, alert.team_id)
    team_language = lead.language if lead else member.language
    await AchievementEvent.create(
        using_db=conn,
        company_id=company.id,
        kind=EventKind.REWARD_EARNED,
        member_id=member.id,
        team_id=member.team_id,
        period_start=alert.period_start,
        ledger_entry_id=entry_id,
        dedupe_key=f"reward:alert:{alert.id}",
        message=messages.reward_earned(
            member.language,
            reward_title=messages.localized(AWARD_TITLE, AWARD_TITLES, member.language),
            amount=shown,
            goal_title=None,
            period_kind=None,
        ),
        team_message=messages.reward_earned_by(
            team_language,
            member_name=member.name,
            reward_title=messages.localized(AWARD_TITLE, AWARD_TITLES, team_language),
            amount=shown,
        ),
        occurred_at=now,
    )


async def _lead(conn: BaseDBAsyncClient, team_id: int) -> Member | None:
    team = await Team.filter(id=team_id).using_db(conn).first()
    if team is None or team.manager_id is None:
        return None
    return await Member.filter(id=team.manager_id).using_db(conn).first()
