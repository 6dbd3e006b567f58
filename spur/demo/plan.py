"""The whole demo company as plain data, before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from spur.demo.activity import generate_activities
from spur.demo.calendar import Window, local_date
from spur.demo.catalogue import GoalPlan, goal_plans
from spur.demo.drafts import Draft
from spur.demo.incentives import PlanDef, demo_plans
from spur.demo.people import COMPANY_TIMEZONE, Person, demo_people
from spur.demo.rates import DAYS_AHEAD, daily_rates
from spur.engine.periods import require_aware


@dataclass(frozen=True)
class DemoPlan:
    """People, rates, goals, incentive plans and activities, from one seed."""

    now: datetime
    tz: ZoneInfo
    people: list[Person]
    rates: dict[tuple[str, date], Decimal]
    goals: list[GoalPlan]
    incentives: tuple[PlanDef, ...]
    activities: list[Draft]


def build_plan(now: datetime, seed: int) -> DemoPlan:
    """Generate the demo for the moment `now` (aware); pure and deterministic."""
    require_aware(now, "now")
    tz = ZoneInfo(COMPANY_TIMEZONE)
    window = Window(now, tz)
    people = demo_people(window.today, seed)
    first_rate_day = local_date(window.start, tz)
    rates = daily_rates(first_rate_day, window.today + timedelta(days=DAYS_AHEAD), seed)
    return DemoPlan(
        now=now,
        tz=tz,
        people=people,
        rates=rates,
        goals=goal_plans(people, now, tz, seed),
        incentives=demo_plans(first_rate_day, window.today),
        activities=generate_activities(people, window, rates, seed),
    )
