"""The demo's appraisals: the last quarter's cycle, its pay and events, and
senior.sea's three excellent years with the equity they grant."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from spur.demo.appraisals import (
    BONUS_BASE,
    PROCESS_REWARD,
    PROCESS_REWARD_MIN,
    covered_share,
    last_quarter,
)
from spur.engine.appraisal import AppraisalStatus, Grade
from spur.engine.money import quantize
from spur.engine.periods import PeriodKind
from spur.models import (
    AchievementEvent,
    Appraisal,
    AppraisalCycle,
    CycleStatus,
    EntryCause,
    EventKind,
    LedgerEntry,
    Member,
    RewardKind,
    RewardStatus,
    Role,
)
from tests.demo.conftest import NOW, SHANGHAI, FilledDemo
from tests.demo.test_demo_plans import GraphQL, gql, sign_in

__all__ = ["gql"]  # the API fixture, shared with the plan tests

SENIOR = "senior.sea@example.com"
QUARTER = "2026-Q3 appraisal"
QUARTER_ZH = "2026 年第 3 季度考核"
MULTIPLIERS = {
    Grade.EXCELLENT: Decimal("1.20"),
    Grade.GOOD: Decimal("1.00"),
    Grade.QUALIFIED: Decimal("0.90"),
    Grade.UNQUALIFIED: Decimal("0.50"),
}


def test_the_cycle_is_the_last_complete_quarter_with_prorated_targets() -> None:
    quarter = last_quarter(NOW, SHANGHAI)
    assert (quarter.kind, quarter.start_date, quarter.label) == (
        PeriodKind.QUARTER,
        date(2026, 7, 1),
        "2026-Q3",
    )
    # History from 2026-09-05 (a Saturday): 18 of Q3's 66 weekdays.
    assert covered_share(quarter, NOW, SHANGHAI) == Decimal(18) / Decimal(66)


async def quarterly() -> list[Appraisal]:
    return (
        await Appraisal.filter(cycle__name=QUARTER)
        .select_related("member")
        .order_by("id")
    )


async def test_senior_sea_reads_a_finalised_appraisal_through_my_appraisals(
    demo: FilledDemo, gql: GraphQL
) -> None:
    token = await sign_in(gql, SENIOR)
    data = await gql("MyAppraisals", {}, token)

    nodes = [edge["node"] for edge in data["viewer"]["appraisals"]["edges"]]
    by_cycle = {node["cycle"]["name"]: node for node in nodes}
    # Wang Jianguo reads Chinese: the cycles carry their Chinese names.
    assert set(by_cycle) == {
        QUARTER_ZH,
        "2023 年度评审",
        "2024 年度评审",
        "2025 年度评审",
    }
    node = by_cycle[QUARTER_ZH]
    assert node["status"] == "FINALIZED"
    assert node["grade"] in {g.value for g in Grade}
    assert isinstance(node["score"], float)
    assert 0 <= node["score"] <= 100
    assert Decimal(node["bonusMultiplier"]) == MULTIPLIERS[Grade(node["grade"])]
    assert len(node["scores"]) == 11
    assert sum(s["weight"] for s in node["scores"]) == pytest.approx(1)
    assert all(s["score"] is not None for s in node["scores"])
    # Wang Jianguo reads Chinese: the dimensions carry their Chinese names.
    assert "销售额" in {s["dimension"] for s in node["scores"]}
    weighted = sum(s["weight"] * s["score"] for s in node["scores"])
    assert node["score"] == pytest.approx(weighted, abs=0.01)
    for year in (2023, 2024, 2025):
        assert by_cycle[f"{year} 年度评审"]["grade"] == "EXCELLENT"


async def test_every_bonus_names_its_appraisal_version_at_base_times_multiplier(
    demo: FilledDemo,
) -> None:
    appraisals = await quarterly()
    entries = {e.key: e for e in await LedgerEntry.filter(cause=EntryCause.APPRAISAL)}

    rewarded = 0
    for a in appraisals:
        assert a.status is AppraisalStatus.FINALIZED
        assert a.grade is not None
        assert a.score is not None
        assert a.bonus_multiplier == MULTIPLIERS[a.grade]
        prefix = f"appraisal:c{a.cycle_id}:m{a.member_id}:v1"
        bonus = entries[f"{prefix}:bonus"]
        assert (bonus.kind, bonus.appraisal_id) == (RewardKind.CASH, a.id)
        assert bonus.amount == quantize(BONUS_BASE * a.bonus_multiplier, "CNY")
        assert bonus.inputs["appraisal_version"] == "1"
        assert bonus.inputs["grade"] == a.grade.value
        process = entries.get(f"{prefix}:process")
        earned = a.process_score is not None and a.process_score >= PROCESS_REWARD_MIN
        assert (process is not None) is earned
        if process is not None:
            assert process.amount == PROCESS_REWARD
            rewarded += 1
    assert rewarded >= 1
    senior = next(a for a in appraisals if a.member.email == SENIOR)
    assert f"appraisal:c{senior.cycle_id}:m{senior.member_id}:v1:bonus" in entries


async def test_appraisal_finalized_reaches_the_member_and_the_team_feed(
    demo: FilledDemo,
) -> None:
    appraisals = await quarterly()
    events = {
        e.dedupe_key: e
        for e in await AchievementEvent.filter(kind=EventKind.APPRAISAL_FINALIZED)
    }

    for a in appraisals:
        event = events[f"appraisal:{a.id}:finalized"]
        assert (event.member_id, event.team_id) == (a.member_id, a.member.team_id)
        assert event.team_id is not None
        assert a.member.name in event.team_message
        assert event.seq is not None
        assert event.published_at is not None
    # The three yearly reviews too; nothing else is appraised.
    assert len(events) == len(appraisals) + 3


async def test_appraisal_lines_name_the_cycle_in_the_readers_language(
    demo: FilledDemo,
) -> None:
    events = await AchievementEvent.filter(
        kind=EventKind.APPRAISAL_FINALIZED
    ).select_related("member")
    by_language = Counter(e.member.language for e in events)
    assert by_language["zh-CN"] > 0
    assert by_language["en"] > 0
    for event in events:
        if event.member.language == "zh-CN":
            assert "appraisal" not in event.message
            assert "yearly review" not in event.message
            assert "季度考核」" in event.message or "年度评审」" in event.message
        else:
            assert "appraisal”" in event.message or "yearly review”" in event.message


async def test_three_excellent_years_grant_senior_sea_pending_equity(
    demo: FilledDemo,
) -> None:
    senior = await Member.get(email=SENIOR)
    years = await Appraisal.filter(
        member=senior, cycle__period_kind=PeriodKind.YEAR
    ).values_list("cycle__period_start", "grade", "status")
    assert sorted(years) == [
        (date(year, 1, 1), Grade.EXCELLENT, AppraisalStatus.FINALIZED)
        for year in (2023, 2024, 2025)
    ]

    equity = await LedgerEntry.filter(kind=RewardKind.EQUITY).select_related(
        "plan_version__plan", "rule"
    )
    assert len(equity) == 1
    grant = equity[0]
    assert grant.member_id == senior.id
    assert grant.status is RewardStatus.PENDING
    assert (grant.title, grant.quantity) == ("1% equity", Decimal(1))
    assert grant.titles == {"zh-CN": "1% 股权"}
    assert grant.key.endswith(":2025")
    assert grant.plan_version is not None
    assert grant.rule is not None
    assert grant.plan_version.plan.name == "Senior staff team rules"
    assert grant.inputs["through"] == "2025"


async def test_the_grades_spread_over_all_four_bands(demo: FilledDemo) -> None:
    appraisals = await quarterly()
    grades = Counter(a.grade for a in appraisals)

    assert set(grades) == set(Grade)
    assert max(grades.values()) <= 0.6 * len(appraisals)


async def test_the_staff_hired_by_the_quarters_end_are_appraised(
    demo: FilledDemo,
) -> None:
    sellers = await Member.filter(role=Role.SALESPERSON).values_list("id", "hire_date")
    appraised = {a.member_id for a in await quarterly()}
    cycle = await AppraisalCycle.get(name=QUARTER)

    assert appraised == {i for i, hired in sellers if hired <= date(2026, 9, 30)}
    assert len(appraised) == len(sellers) - 1  # the newhire joined last week
    assert cycle.status is CycleStatus.CLOSED
