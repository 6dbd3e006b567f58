"""Ledger entries, plans and rules written straight through the models.

The workflow and report tests build the ledger by hand: they test approvals,
statements and exports, not the activity path that writes plan entries.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import count
from typing import Any

from spur.models import (
    Company,
    EntryCause,
    IncentivePlan,
    LedgerEntry,
    Member,
    PlanRule,
    PlanVersion,
    RewardKind,
    RewardStatus,
    RuleKind,
)
from tests.api.conftest import NOW
from tests.api.helpers import global_id

_keys = count(1)


async def plan_rule(
    company: Company,
    plan_name: str = "Young staff",
    code: str = "commission",
    title: str = "Order commission",
    number: int = 1,
    titles: dict[str, str] | None = None,
    plan_titles: dict[str, str] | None = None,
) -> PlanRule:
    """A rule in version `number` of a plan, both created as needed."""
    found, _ = await IncentivePlan.get_or_create(
        company=company, name=plan_name, defaults={"titles": plan_titles or {}}
    )
    version, _ = await PlanVersion.get_or_create(
        plan=found, number=number, defaults={"effective_from": date(2026, 1, 1)}
    )
    return await PlanRule.create(
        version=version,
        code=code,
        kind=RuleKind.COMMISSION,
        title=title,
        titles=titles or {},
        params={"rate": "0.05"},
    )


async def entry(
    member: Member,
    amount: str | None = "100.00",
    status: RewardStatus = RewardStatus.PENDING,
    *,
    kind: RewardKind = RewardKind.COMMISSION,
    rule: PlanRule | None = None,
    earned_at: datetime = NOW,
    cause: EntryCause = EntryCause.EARNED,
    currency: str | None = "CNY",
    **extra: Any,
) -> LedgerEntry:
    """One ledger entry of `member`, with a key no other entry has."""
    return await LedgerEntry.create(
        company_id=member.company_id,
        member=member,
        key=f"test:{next(_keys)}",
        kind=kind,
        title=extra.pop("title", "Commission"),
        amount=None if amount is None else Decimal(amount),
        currency=currency if amount is not None else None,
        status=status,
        rule=rule,
        plan_version_id=rule.version_id if rule else None,
        rule_ref=f"rule:{rule.id}" if rule else "manual",
        cause=cause,
        earned_at=earned_at,
        **extra,
    )


def reward_id(row: LedgerEntry) -> str:
    """The Reward global id of a ledger entry."""
    return global_id("Reward", row.id)
