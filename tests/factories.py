"""Small worlds for tests: a company with teams, people, metrics and goals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from spur.api.auth import hash_password
from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import PeriodKind
from spur.models import (
    Company,
    ExchangeRate,
    Goal,
    GoalReward,
    Member,
    MetricDefinition,
    Role,
    Team,
)

PASSWORD = "correct horse battery"


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class World:
    company: Company
    team: Team
    other_team: Team
    seller: Member
    teammate: Member
    outsider: Member
    manager: Member
    hr: Member
    partner: Member
    follow_ups: MetricDefinition
    sales: MetricDefinition
    weekly: Goal


async def member(
    company: Company, team: Team | None, email: str, role: Role, language: str = "en"
) -> Member:
    return await Member.create(
        company=company,
        team=team,
        email=email,
        name=email.split("@")[0].title(),
        role=role,
        password_hash=password_hash(),
        language=language,
        birth_date=date(1996, 5, 1),
        hire_date=date(2022, 3, 1),
    )


async def build_world(prefix: str = "", since: date = date(2026, 1, 5)) -> World:
    """One company: a SEA team with a seller and a manager, an EU team, HR."""
    company = await Company.create(name=f"{prefix}Acme Trading")
    team = await Team.create(company=company, name="Southeast Asia", market="SEA")
    other = await Team.create(company=company, name="Europe", market="EU")
    manager = await member(company, team, f"{prefix}manager@example.com", Role.MANAGER)
    team.manager = manager
    await team.save()
    seller = await member(
        company, team, f"{prefix}seller@example.com", Role.SALESPERSON, language="zh-CN"
    )
    follow_ups = await MetricDefinition.create(
        company=company,
        key="new_customer_follow_ups",
        name="New-customer follow-ups",
        activity_kind=ActivityKind.CUSTOMER_FOLLOW_UP,
        aggregation=Aggregation.COUNT,
        new_customer=True,
    )
    sales = await MetricDefinition.create(
        company=company,
        key="sales_amount",
        name="Sales",
        unit="CNY",
        activity_kind=ActivityKind.ORDER_CLOSED,
        aggregation=Aggregation.SUM_AMOUNT,
    )
    weekly = await weekly_goal(company, seller, follow_ups, since)
    await ExchangeRate.create(
        company=company,
        currency="USD",
        on_date=date(2026, 12, 4),
        rate=Decimal("7.1234"),
    )
    return World(
        company=company,
        team=team,
        other_team=other,
        seller=seller,
        teammate=await member(
            company, team, f"{prefix}mate@example.com", Role.SALESPERSON
        ),
        outsider=await member(
            company, other, f"{prefix}eu@example.com", Role.SALESPERSON
        ),
        manager=manager,
        hr=await member(company, None, f"{prefix}hr@example.com", Role.HR_ADMIN),
        partner=await member(
            company, None, f"{prefix}partner@example.com", Role.PARTNER
        ),
        follow_ups=follow_ups,
        sales=sales,
        weekly=weekly,
    )


async def weekly_goal(
    company: Company, owner: Member, metric: MetricDefinition, since: date
) -> Goal:
    goal = await Goal.create(
        company=company,
        member=owner,
        metric=metric,
        title="10 new-customer follow-ups",
        period_kind=PeriodKind.WEEK,
        target=Decimal(10),
        active_from=since,
    )
    await GoalReward.create(
        goal=goal, kind="CASH", title="Weekly follow-up bonus", amount=Decimal("500.00")
    )
    return goal
