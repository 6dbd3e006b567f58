"""Writing what incentive rules pay: rounding, caps, budgets, statuses, events.

Each reward becomes one ledger entry under its unique key (a key already
paid writes nothing), rounded half-up to the company currency's minor unit
once, then held to the member's cap and the plan's budget through locked
counters, then given its status. A reward someone would be glad to hear of
becomes one REWARD_EARNED event, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

from spur.engine import messages, money
from spur.engine.incentives import capped
from spur.engine.periods import period_containing
from spur.models import (
    CASH_KINDS,
    AchievementEvent,
    Activity,
    Company,
    EventKind,
    IncentivePlan,
    LedgerEntry,
    Member,
    PlanVersion,
    RewardKind,
    RewardStatus,
)
from spur.models.upserts import Counters, StoredCounters, insert_new
from spur.resolvers.rating import Earned

# Entitlements that change someone's standing always wait for a person.
ALWAYS_REVIEWED = frozenset({RewardKind.EQUITY, RewardKind.PROMOTION})


@dataclass
class Payout:
    """Where one activity's rewards are written, and what was written."""

    conn: BaseDBAsyncClient
    company: Company
    activity: Activity
    people: dict[int, Member]
    team_language: str
    now: datetime

    @property
    def counters(self) -> StoredCounters:
        return StoredCounters(self.conn, self.company.id, self.now)

    async def pay(
        self, earned: list[Earned]
    ) -> tuple[list[int], list[AchievementEvent]]:
        """Write every reward not paid before; the new entry ids and events."""
        ids: list[int] = []
        events: list[AchievementEvent] = []
        for reward in earned:
            written = await self._write(reward)
            if written is None:
                continue
            entry_id, amount = written
            ids.append(entry_id)
            if _announced(reward, amount):
                events.append(await self._event(reward, entry_id, amount))
        return ids, events

    async def _write(self, reward: Earned) -> tuple[int, Decimal | None] | None:
        currency = self.company.currency
        amount = None
        if reward.amount is not None:
            amount = money.quantize(reward.amount, currency)
            if amount == 0:
                return None
        values = self._values(reward, amount)
        entry_id = await insert_new(self.conn, LedgerEntry, values)
        if entry_id is None:
            return None
        if amount is not None:
            amount = await self._hold_to_limits(reward, entry_id, amount, values)
        return entry_id, amount

    def _values(self, reward: Earned, amount: Decimal | None) -> dict[str, object]:
        rule, activity = reward.rule, self.activity
        cash = reward.kind in CASH_KINDS
        return {
            "company_id": self.company.id,
            "member_id": reward.member_id,
            "key": reward.key,
            "kind": reward.kind,
            "title": reward.title or rule.rule.title,
            "titles": reward.titles if reward.title else rule.rule.titles,
            "amount": amount,
            "currency": self.company.currency if cash else None,
            "quantity": reward.quantity,
            "status": entry_status(rule.plan.approval_threshold, reward.kind, amount),
            "source_activity_id": activity.id,
            "goal_id": reward.goal_id,
            "period_start": reward.period_start,
            "rule_ref": f"plan:{rule.plan.id}:v{rule.version.number}:{rule.rule.code}",
            "plan_version_id": rule.version.id,
            "rule_id": rule.rule.id,
            "inputs": reward.inputs,
            "earned_at": activity.occurred_at,
            "created_at": self.now,
        }

    async def _hold_to_limits(
        self,
        reward: Earned,
        entry_id: int,
        amount: Decimal,
        values: dict[str, object],
    ) -> Decimal:
        """Cap the entry (just inserted, not yet committed) to what fits."""
        tz = ZoneInfo(self.company.timezone)
        limits = limits_for(reward, self.activity.occurred_at, tz)
        granted = await hold_to_limits(self.counters, limits, amount)
        if granted != amount:
            await self._shrink(reward, entry_id, granted, amount, values)
        return granted

    async def _shrink(
        self,
        reward: Earned,
        entry_id: int,
        granted: Decimal,
        amount: Decimal,
        values: dict[str, object],
    ) -> None:
        inputs = reward.inputs | {"uncapped": f"{amount:f}"}
        status = entry_status(reward.rule.plan.approval_threshold, reward.kind, granted)
        await (
            LedgerEntry.filter(id=entry_id)
            .using_db(self.conn)
            .update(amount=granted, inputs=inputs, status=status)
        )
        values.update(amount=granted, inputs=inputs, status=status)

    async def _event(
        self, reward: Earned, entry_id: int, amount: Decimal | None
    ) -> AchievementEvent:
        member = self.people[reward.member_id]
        title = reward.title or reward.rule.rule.title
        titles = reward.titles if reward.title else reward.rule.rule.titles
        shown = (
            None
            if amount is None
            else money.format_money(amount, self.company.currency)
        )
        return await AchievementEvent.create(
            using_db=self.conn,
            company_id=self.company.id,
            kind=EventKind.REWARD_EARNED,
            member_id=member.id,
            team_id=reward.team_id or member.team_id,
            goal_id=reward.goal_id,
            period_start=reward.period_start,
            ledger_entry_id=entry_id,
            dedupe_key=f"reward:{reward.key}",
            message=messages.reward_earned(
                member.language,
                reward_title=messages.localized(title, titles, member.language),
                amount=shown,
                goal_title=None,
                period_kind=None,
            ),
            team_message=messages.reward_earned_by(
                self.team_language,
                member_name=member.name,
                reward_title=messages.localized(title, titles, self.team_language),
                amount=shown,
            ),
            occurred_at=self.activity.occurred_at,
        )


def entry_status(
    threshold: Decimal | None, kind: RewardKind, amount: Decimal | None
) -> RewardStatus:
    """PENDING when a person must look first, APPROVED otherwise."""
    if kind in ALWAYS_REVIEWED:
        return RewardStatus.PENDING
    if amount is not None and threshold is not None and amount > threshold:
        return RewardStatus.PENDING
    return RewardStatus.APPROVED


def _announced(reward: Earned, amount: Decimal | None) -> bool:
    """Gains are news; take-backs and fully capped lines only go in the ledger."""
    if reward.kind in CASH_KINDS:
        return amount is not None and amount > 0
    return reward.quantity is None or reward.quantity > 0


def limits_for(
    reward: Earned, occurred_at: datetime, tz: ZoneInfo
) -> list[tuple[str, Decimal]]:
    """The counters a cash reward must fit under, with their limits: the
    member's cap of the version in force, then the plan's budget."""
    rule = reward.rule
    return plan_limits(rule.plan, rule.version, reward.member_id, occurred_at, tz)


def plan_limits(
    plan: IncentivePlan,
    version: PlanVersion,
    member_id: int,
    occurred_at: datetime,
    tz: ZoneInfo,
) -> list[tuple[str, Decimal]]:
    """The member-cap and plan-budget counters of cash earned at `occurred_at`
    under `version`; a void gives room back on exactly these keys."""
    found: list[tuple[str, Decimal]] = []
    if version.member_cap is not None and version.cap_period is not None:
        period = period_containing(version.cap_period, occurred_at, tz)
        where = f"{period.kind.value}:{period.start_date.isoformat()}"
        found.append((f"cap:p{plan.id}:m{member_id}:{where}", version.member_cap))
    if plan.budget is not None:
        where = "ALL:-"
        if plan.budget_period is not None:
            period = period_containing(plan.budget_period, occurred_at, tz)
            where = f"{period.kind.value}:{period.start_date.isoformat()}"
        found.append((f"budget:p{plan.id}:{where}", plan.budget))
    return found


async def hold_to_limits(
    counters: Counters, limits: list[tuple[str, Decimal]], amount: Decimal
) -> Decimal:
    """The part of `amount` that fits every limit, counted as used.

    A negative amount (a refund) gives room back, never below nothing used.
    """
    used = [(await counters.add(key, Decimal(0))).after for key, _ in limits]
    granted = amount
    for (_, cap), so_far in zip(limits, used, strict=True):
        granted = capped(granted, so_far, cap)
    for (key, _), so_far in zip(limits, used, strict=True):
        change = granted if granted >= 0 else max(granted, -so_far)
        await counters.add(key, change)
    return granted
