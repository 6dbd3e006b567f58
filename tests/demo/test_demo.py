"""The demo company: its people, goals, generated activity and history."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, time, timedelta
from decimal import Decimal
from statistics import mean
from typing import Any

from spur.api.auth import verify_password
from spur.demo import fill_demo
from spur.engine.metrics import ActivityFacts, ActivityKind, MetricSpec, contributions
from spur.engine.money import convert, has_excess_places
from spur.engine.periods import PeriodKind, period_containing, period_starting
from spur.models import (
    AchievementEvent,
    Company,
    EntryCause,
    EventKind,
    ExchangeRate,
    Goal,
    GoalProgress,
    GoalReward,
    IncentivePreference,
    LedgerEntry,
    Member,
    MetricDefinition,
    MetricTotal,
    RewardStatus,
    Role,
    Team,
)
from tests.demo.conftest import NOW, SHANGHAI, FilledDemo

TODAY = NOW.date()
Row = dict[str, Any]


def age(birth: date) -> int:
    return (
        TODAY.year - birth.year - ((TODAY.month, TODAY.day) < (birth.month, birth.day))
    )


def working_days() -> list[date]:
    """Weekdays after the window's first (partial) day, up to today."""
    first = (NOW - timedelta(days=90)).date() + timedelta(days=1)
    days = (first + timedelta(days=n) for n in range((TODAY - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def of_kind(rows: Iterable[Row], kind: ActivityKind) -> list[Row]:
    return [row for row in rows if row["kind"] is kind]


async def member(email: str) -> Member:
    return await Member.get(email=email).prefetch_related("team")


# People


async def test_company_and_its_four_market_teams(demo: FilledDemo) -> None:
    company = await Company.get(id=demo.summary.company_id)
    teams = await Team.filter(company=company).prefetch_related("manager")

    assert (company.name, company.timezone, company.currency) == (
        "Silk Road Apparel Trading Co.",
        "Asia/Shanghai",
        "CNY",
    )
    managers = {team.market: (team.name, team.manager.email) for team in teams}
    assert managers == {
        "SEA": ("Southeast Asia", "manager.sea@example.com"),
        "EU": ("Europe", "manager.eu@example.com"),
        "NA": ("North America", "manager.na@example.com"),
        "ME": ("Middle East", "manager.me@example.com"),
    }


async def test_contract_accounts(demo: FilledDemo) -> None:
    hr = await member("hr@example.com")
    manager = await member("manager.sea@example.com")
    newhire = await member("newhire@example.com")
    senior = await member("senior.sea@example.com")

    assert hr.role is Role.HR_ADMIN
    assert (manager.role, manager.team.market) == (Role.MANAGER, "SEA")
    assert (newhire.role, newhire.team.market) == (Role.SALESPERSON, "SEA")
    assert newhire.birth_date is not None
    assert age(newhire.birth_date) <= 30
    assert newhire.hire_date == TODAY - timedelta(days=7)
    assert (senior.role, senior.team.market) == (Role.SALESPERSON, "SEA")
    assert senior.birth_date is not None
    assert age(senior.birth_date) >= 35
    assert senior.hire_date is not None
    assert senior.hire_date.year < TODAY.year - 5


async def test_every_account_signs_in_with_demo(demo: FilledDemo) -> None:
    hashes = await Member.all().values_list("password_hash", flat=True)
    emails = await Member.all().values_list("email", flat=True)

    assert len(set(hashes)) == 1
    assert verify_password(hashes[0], "demo")
    assert all(email == email.lower() for email in emails)


async def test_about_forty_salespeople_of_mixed_ages(demo: FilledDemo) -> None:
    staff = await Member.filter(role=Role.SALESPERSON).prefetch_related("team")

    ages = [age(person.birth_date) for person in staff if person.birth_date]
    assert 38 <= len(staff) <= 42
    assert len(ages) == len(staff)
    assert sum(a <= 30 for a in ages) / len(ages) >= 0.4
    assert sum(a >= 35 for a in ages) / len(ages) >= 0.35
    assert sum(30 < a < 35 for a in ages) <= 5
    assert Counter(p.team.market for p in staff).keys() == {"SEA", "EU", "NA", "ME"}
    languages = Counter(person.language for person in staff)
    assert languages["zh-CN"] > len(staff) / 2
    assert languages["en"] >= 1


async def test_preferences_follow_age(demo: FilledDemo) -> None:
    staff = await Member.filter(role=Role.SALESPERSON)
    young_kinds = {
        IncentivePreference.INSTANT_COMMISSION,
        IncentivePreference.GROWTH_TRAINING,
    }

    young = [
        p.incentive_preference
        for p in staff
        if p.birth_date and age(p.birth_date) <= 30
    ]
    older = [
        p.incentive_preference
        for p in staff
        if p.birth_date and age(p.birth_date) >= 35
    ]
    assert sum(pref in young_kinds for pref in young) > len(young) / 2
    assert sum(pref not in young_kinds for pref in older) > len(older) / 2


# Catalogue


async def test_metric_definitions(demo: FilledDemo) -> None:
    metrics = {m.key: m for m in await MetricDefinition.all()}

    assert set(metrics) == {
        "new_customer_follow_ups",
        "customer_follow_ups",
        "product_optimizations",
        "products_posted",
        "platform_minutes",
        "inquiries_received",
        "inquiry_replies",
        "inquiry_replies_within_60",
        "inquiry_reply_minutes",
        "orders",
        "sales_amount",
        "sea_sales_amount",
        "customer_ratings",
    }
    assert metrics["new_customer_follow_ups"].new_customer is True
    assert metrics["platform_minutes"].unit == "min"
    assert metrics["inquiry_replies_within_60"].reply_within_minutes == 60
    assert metrics["sea_sales_amount"].market == "SEA"
    assert metrics["sales_amount"].unit == "CNY"


async def test_exchange_rates_cover_the_window_and_a_month_ahead(
    demo: FilledDemo,
) -> None:
    rates = await ExchangeRate.all().values_list("currency", "on_date", "rate")
    first, last = (NOW - timedelta(days=90)).date(), TODAY + timedelta(days=30)
    days = {first + timedelta(days=n) for n in range((last - first).days + 1)}
    bands = {
        "USD": (7.10, 7.25),
        "EUR": (7.7, 7.9),
        "GBP": (9.0, 9.3),
        "AED": (1.92, 1.99),
        "SAR": (1.88, 1.94),
        "SGD": (5.2, 5.4),
        "MYR": (1.5, 1.6),
        "THB": (0.19, 0.21),
    }

    by_currency: dict[str, set[date]] = defaultdict(set)
    for currency, day, rate in rates:
        by_currency[currency].add(day)
        low, high = bands[currency]
        assert low <= rate <= high, (currency, day, rate)
    assert {currency: days for currency in bands} == by_currency


async def test_newhire_has_the_three_goal_families_and_no_activity(
    demo: FilledDemo,
) -> None:
    newhire = await member("newhire@example.com")
    goals = await Goal.filter(member=newhire).prefetch_related("rewards", "metric")

    by_title = {goal.title: goal for goal in goals}
    weekly = by_title["10 new-customer follow-ups"]
    monthly = by_title["5 product optimisations"]
    quarterly = by_title["2026-Q4 sales target"]
    assert (weekly.metric.key, weekly.period_kind, weekly.target) == (
        "new_customer_follow_ups",
        PeriodKind.WEEK,
        Decimal(10),
    )
    assert [(r.kind, r.amount) for r in weekly.rewards] == [("CASH", Decimal(500))]
    assert weekly.active_until is None
    assert weekly.active_from <= (NOW - timedelta(days=90)).date()
    assert sorted((r.kind, r.amount, r.quantity) for r in monthly.rewards) == [
        ("CASH", Decimal(300), None),
        ("TRAINING", None, Decimal(1)),
    ]
    assert (quarterly.active_from, quarterly.active_until) == (
        date(2026, 10, 1),
        date(2027, 1, 1),
    )
    children = sorted(
        (g for g in goals if g.parent_id == quarterly.id), key=lambda g: g.active_from
    )
    assert [c.title for c in children] == [
        "2026-10 sales target",
        "2026-11 sales target",
        "2026-12 sales target",
    ]
    assert sum(c.target for c in children) == quarterly.target
    assert all(c.window_start is not None for c in children)
    assert not [row for row in demo.activities if row["member_id"] == newhire.id]


async def test_senior_sea_has_history(demo: FilledDemo) -> None:
    senior = await member("senior.sea@example.com")

    kinds = {row["kind"] for row in demo.activities if row["member_id"] == senior.id}
    assert kinds == set(ActivityKind)
    assert await LedgerEntry.filter(member=senior).count() > 0
    assert await AchievementEvent.filter(member=senior).count() > 0


# Activities


async def test_activities_fall_inside_the_window_in_working_hours(
    demo: FilledDemo,
) -> None:
    rows = demo.activities
    assert 30_000 <= len(rows) <= 60_000
    assert demo.summary.activities == len(rows)
    assert len({row["external_id"] for row in rows}) == len(rows)
    for row in rows:
        at = row["occurred_at"]
        assert at.tzinfo is not None
        assert NOW - timedelta(days=90) <= at <= NOW
        local = at.astimezone(SHANGHAI)
        assert local.weekday() < 5
        assert time(9) <= local.time() <= time(18, 30)
        assert row["source"] == "demo"


async def test_orders_are_in_market_currencies_at_the_days_rate(
    demo: FilledDemo,
) -> None:
    rates = {
        (currency, day): rate
        for currency, day, rate in await ExchangeRate.all().values_list(
            "currency", "on_date", "rate"
        )
    }
    allowed = {
        "SEA": {"USD", "SGD", "MYR", "THB", "CNY"},
        "EU": {"EUR", "GBP", "CNY"},
        "NA": {"USD", "CNY"},
        "ME": {"AED", "SAR", "USD", "CNY"},
    }

    orders = of_kind(demo.activities, ActivityKind.ORDER_CLOSED)
    for order in orders:
        currency, amount = order["currency"], order["amount"]
        assert currency in allowed[order["market"]]
        assert amount > 0
        assert not has_excess_places(amount, currency)
        day = order["occurred_at"].astimezone(SHANGHAI).date()
        rate = Decimal(1) if currency == "CNY" else rates[currency, day]
        assert order["exchange_rate"] == rate
        assert order["amount_company"] == convert(amount, rate, "CNY")
    assert len({order["currency"] for order in orders}) == 8 + 1


async def test_replies_follow_their_inquiries(demo: FilledDemo) -> None:
    inquiries = {
        (row["member_id"], row["customer_ref"]): row["occurred_at"]
        for row in of_kind(demo.activities, ActivityKind.INQUIRY_RECEIVED)
    }
    replies = of_kind(demo.activities, ActivityKind.INQUIRY_REPLIED)

    assert 0.8 * len(inquiries) < len(replies) < len(inquiries)
    for reply in replies:
        waited = (
            reply["occurred_at"] - inquiries[reply["member_id"], reply["customer_ref"]]
        )
        assert int(waited.total_seconds() // 60) == reply["response_minutes"]
    minutes = [reply["response_minutes"] for reply in replies]
    assert min(minutes) <= 60
    assert any(60 < m <= 120 for m in minutes)
    assert max(minutes) > 120


async def test_ratings_and_categories_are_plausible(demo: FilledDemo) -> None:
    ratings = of_kind(demo.activities, ActivityKind.CUSTOMER_RATING)
    products = of_kind(demo.activities, ActivityKind.PRODUCT_OPTIMIZED)

    assert all(Decimal(3) <= row["rating"] <= Decimal(5) for row in ratings)
    assert {row["product_category"] for row in products} == {
        "womenswear",
        "menswear",
        "kidswear",
        "outerwear",
        "accessories",
    }


def per_member(
    rows: Iterable[Row], value: Callable[[Row], Decimal]
) -> dict[int, Decimal]:
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[row["member_id"]] += value(row)
    return sums


async def test_platform_tenders_close_about_30_percent_more_orders(
    demo: FilledDemo,
) -> None:
    days = len(working_days())
    sessions = of_kind(demo.activities, ActivityKind.PLATFORM_SESSION)
    minutes = per_member(sessions, lambda row: row["quantity"])
    orders = per_member(
        of_kind(demo.activities, ActivityKind.ORDER_CLOSED), lambda _: Decimal(1)
    )

    tenders = [m for m in minutes if minutes[m] / days >= 60]
    others = [m for m in minutes if minutes[m] / days < 60]
    ratio = mean(orders[m] / days for m in tenders) / mean(
        orders[m] / days for m in others
    )
    assert len(minutes) / 4 <= len(tenders) <= len(minutes) / 2
    assert mean(minutes[m] / days for m in others) < 30
    assert Decimal("1.25") <= ratio <= Decimal("1.35")


async def test_fast_replies_convert_about_25_percent_better(demo: FilledDemo) -> None:
    replies = of_kind(demo.activities, ActivityKind.INQUIRY_REPLIED)
    converted = {
        (row["member_id"], row["customer_ref"])
        for row in of_kind(demo.activities, ActivityKind.ORDER_CLOSED)
    }

    def conversion(within: Callable[[int], bool]) -> float:
        band = [r for r in replies if within(r["response_minutes"])]
        return sum(
            (r["member_id"], r["customer_ref"]) in converted for r in band
        ) / len(band)

    ratio = conversion(lambda m: m <= 60) / conversion(lambda m: m > 120)
    assert 1.2 <= ratio <= 1.3


async def test_a_second_fill_does_nothing(demo: FilledDemo) -> None:
    summary = await fill_demo(NOW)

    assert summary.skipped
    assert summary.company_id == demo.summary.company_id
    assert await Company.all().count() == 1
    assert await Member.all().count() == demo.summary.members


# History


async def metric_specs() -> list[MetricSpec]:
    return [
        MetricSpec(
            m.key,
            m.activity_kind,
            m.aggregation,
            m.market,
            m.product_category,
            m.new_customer,
            m.reply_within_minutes,
        )
        for m in await MetricDefinition.all()
    ]


def facts(row: Row) -> ActivityFacts:
    return ActivityFacts(
        kind=row["kind"],
        quantity=row["quantity"],
        amount=row["amount_company"],
        market=row["market"],
        product_category=row["product_category"],
        new_customer=row["new_customer"],
        response_minutes=row["response_minutes"],
        rating=row["rating"],
    )


async def test_weekly_totals_match_a_naive_recount(demo: FilledDemo) -> None:
    specs = await metric_specs()
    sellers = sorted({row["member_id"] for row in demo.activities})
    sample = set(sellers[::8])

    expected: dict[tuple[str, int, date], Decimal] = defaultdict(Decimal)
    for row in demo.activities:
        if row["member_id"] in sample:
            week = period_containing(PeriodKind.WEEK, row["occurred_at"], SHANGHAI)
            for key, value in contributions(specs, facts(row)).items():
                expected[key, row["member_id"], week.start_date] += value
    stored = await MetricTotal.filter(
        scope="member", subject_id__in=sample, period_kind=PeriodKind.WEEK
    ).values_list("metric__key", "subject_id", "period_start", "value")
    assert {(k, s, p): v for k, s, p, v in stored} == expected


async def test_team_totals_are_the_sum_of_their_members(demo: FilledDemo) -> None:
    teams = dict(await Member.all().values_list("id", "team_id"))
    rows = await MetricTotal.filter(period_kind=PeriodKind.MONTH).values_list(
        "metric_id", "scope", "subject_id", "period_start", "value"
    )

    summed: dict[tuple[int, int, date], Decimal] = defaultdict(Decimal)
    for metric, scope, subject, start, value in rows:
        if scope == "member":
            summed[metric, teams[subject], start] += value
    team_rows = {(m, s, p): v for m, scope, s, p, v in rows if scope == "team"}
    assert team_rows == summed


async def test_this_weeks_progress_is_the_weekly_follow_up_total(
    demo: FilledDemo,
) -> None:
    week = period_containing(PeriodKind.WEEK, NOW, SHANGHAI).start_date
    totals = dict(
        await MetricTotal.filter(
            scope="member",
            metric__key="new_customer_follow_ups",
            period_kind=PeriodKind.WEEK,
            period_start=week,
        ).values_list("subject_id", "value")
    )
    progress = dict(
        await GoalProgress.filter(
            goal__title="10 new-customer follow-ups", period_start=week
        ).values_list("goal__member_id", "current")
    )

    assert progress == totals
    assert len(progress) > 30


async def test_completed_periods_earn_each_reward_once(demo: FilledDemo) -> None:
    rewards: dict[int, list[GoalReward]] = defaultdict(list)
    for reward in await GoalReward.all().order_by("id"):
        rewards[reward.goal_id].append(reward)
    done = await GoalProgress.filter(completed_at__isnull=False)
    goal_lines = LedgerEntry.filter(plan_version_id__isnull=True).exclude(
        cause=EntryCause.APPRAISAL
    )
    entries = {entry.key: entry for entry in await goal_lines}
    events = {event.dedupe_key: event for event in await AchievementEvent.all()}

    expected_keys = set()
    for progress in done:
        prefix = f"goal:{progress.goal_id}:{progress.period_start.isoformat()}"
        assert events[f"{prefix}:completed"].occurred_at == progress.completed_at
        assert f"{prefix}:milestone:50" in events
        for reward in rewards[progress.goal_id]:
            key = f"{prefix}:reward:{reward.id}"
            expected_keys.add(key)
            entry = entries[key]
            assert (entry.kind, entry.title) == (reward.kind, reward.title)
            assert entry.amount == reward.amount
            assert entry.earned_at == progress.completed_at
            assert entry.source_activity_id is not None
            assert events[f"reward:{key}"].ledger_entry_id == entry.id
    assert set(entries) == expected_keys
    assert await LedgerEntry.all().count() == demo.summary.ledger_entries
    assert len(done) > 100


async def test_ledger_status_and_inputs(demo: FilledDemo) -> None:
    this_month = period_containing(PeriodKind.MONTH, NOW, SHANGHAI).start
    entries = (
        await LedgerEntry.filter(plan_version_id__isnull=True)
        .exclude(cause=EntryCause.APPRAISAL)
        .prefetch_related("goal")
    )

    for entry in entries:
        paid = entry.earned_at < this_month
        assert entry.status is (RewardStatus.PAID if paid else RewardStatus.APPROVED)
        assert Decimal(entry.inputs["goal_target"]) == entry.goal.target
        assert Decimal(entry.inputs["goal_value"]) >= entry.goal.target
        assert (
            entry.inputs["period"]
            == period_starting(
                entry.goal.period_kind, entry.period_start, SHANGHAI
            ).label
        )
        assert entry.currency == ("CNY" if entry.amount is not None else None)
    assert {entry.status for entry in entries} == {
        RewardStatus.PAID,
        RewardStatus.APPROVED,
    }


async def test_monthly_children_add_up_to_the_quarter(demo: FilledDemo) -> None:
    parents = await Goal.filter(period_kind=PeriodKind.QUARTER, member_id__isnull=False)
    current = dict(await GoalProgress.all().values_list("goal_id", "current"))
    children: dict[int, Decimal] = defaultdict(Decimal)
    for goal_id, parent_id in await Goal.filter(parent_id__isnull=False).values_list(
        "id", "parent_id"
    ):
        children[parent_id] += current.get(goal_id, Decimal(0))

    for parent in parents:
        assert current.get(parent.id, Decimal(0)) == children[parent.id]
    assert sum(parent.id in current for parent in parents) > 30


async def test_each_team_has_a_quarterly_sales_goal_fed_by_its_members(
    demo: FilledDemo,
) -> None:
    quarter = date(2026, 10, 1)
    goals = await Goal.filter(team_id__isnull=False).prefetch_related("team", "metric")
    current = dict(
        await GoalProgress.filter(period_start=quarter).values_list(
            "goal_id", "current"
        )
    )
    sales = dict(
        await MetricTotal.filter(
            scope="team",
            metric__key="sales_amount",
            period_kind=PeriodKind.QUARTER,
            period_start=quarter,
        ).values_list("subject_id", "value")
    )

    assert sorted(goal.team.market for goal in goals) == ["EU", "ME", "NA", "SEA"]
    for goal in goals:
        assert goal.title == f"2026-Q4 {goal.team.name} team sales target"
        assert (goal.metric.key, goal.period_kind) == (
            "sales_amount",
            PeriodKind.QUARTER,
        )
        assert current[goal.id] == sales[goal.team.id]


def chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


async def test_events_are_sequenced_history_in_the_members_language(
    demo: FilledDemo,
) -> None:
    events = await AchievementEvent.all().order_by("seq").prefetch_related("member")
    feed_languages = {
        team.id: team.manager.language
        for team in await Team.all().prefetch_related("manager")
    }

    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert len(events) == demo.summary.events
    assert all(event.published_at is not None for event in events)
    times = [event.occurred_at for event in events]
    assert times == sorted(times)
    assert {event.kind for event in events} == {
        EventKind.MILESTONE_REACHED,
        EventKind.GOAL_COMPLETED,
        EventKind.REWARD_EARNED,
        EventKind.APPRAISAL_FINALIZED,
    }
    for event in events:
        assert event.team_id is not None
        assert event.team_id == event.member.team_id
        # The member reads their own language; the team feed its manager's.
        assert chinese(event.message) is (event.member.language == "zh-CN")
        in_chinese = feed_languages[event.team_id] == "zh-CN"
        assert chinese(event.team_message) is in_chinese
        assert event.member.name in event.team_message
