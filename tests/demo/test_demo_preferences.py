"""The demo's survey answers tell the product's story, and profiles read them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from spur.api.context import Viewer
from spur.engine.preferences import Family, Segment
from spur.models import Member, PreferenceSurvey, Role
from spur.resolvers.preference import profiles
from tests.demo.conftest import NOW, FilledDemo


async def hr_viewer() -> Viewer:
    hr = await Member.get(email="hr@example.com")
    return Viewer(
        member_id=hr.id,
        company_id=hr.company_id,
        role=Role.HR_ADMIN,
        team_id=None,
        managed_team_ids=frozenset(),
        language="en",
        timezone=ZoneInfo("Asia/Shanghai"),
        currency="CNY",
        token_expires_at=0.0,
    )


async def test_every_salesperson_answered_in_the_last_three_weeks(
    demo: FilledDemo,
) -> None:
    staff = await Member.filter(role=Role.SALESPERSON)
    surveys = await PreferenceSurvey.all()

    assert {s.member_id for s in surveys} == {m.id for m in staff}
    today = NOW.date()
    assert all(today - timedelta(days=21) <= s.answered_on < today for s in surveys)
    first = {s.member_id: s.ranking[0] for s in surveys}
    assert all(m.incentive_preference == first[m.id] for m in staff)
    assert all(sorted(s.ranking) == sorted(f.value for f in Family) for s in surveys)


async def test_the_young_want_commission_and_the_senior_team_honour(
    demo: FilledDemo,
) -> None:
    found = await profiles(await hr_viewer(), NOW.date(), 90, None)

    young, senior = found[Segment.YOUNG].shares, found[Segment.SENIOR].shares
    assert young.top is not None
    assert young.top.family is Family.INSTANT_COMMISSION
    assert Decimal("0.70") <= young.top.share <= Decimal("0.80")
    assert senior.top is not None
    assert senior.top.family is Family.TEAM_HONOR
    assert Decimal("0.55") <= senior.top.share <= Decimal("0.70")
    # The four managers never answered: their team rules speak for them.
    assert senior.inferred == 4
    plans = {p.plan.name for p in found[Segment.YOUNG].plans}
    assert "Young staff" in " ".join(plans)
