"""The demo's incentive plans: their data, the history they paid, a new user."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Secret
from tortoise.queryset import QuerySet

from spur.api.app import create_app
from spur.api.settings import load_settings
from spur.demo.calendar import Window, local_date
from spur.demo.incentives import RAISE_DAYS_BEFORE, demo_plans, raise_day
from spur.demo.people import demo_people
from spur.demo.rates import DAYS_AHEAD, daily_rates
from spur.demo.sales import MARKET_CURRENCIES
from spur.engine import messages
from spur.engine.incentives import age_on, parse_rule
from spur.engine.metrics import (
    ActivityFacts,
    ActivityKind,
    Aggregation,
    MetricSpec,
    contributions,
)
from spur.engine.money import format_money, quantize
from spur.engine.periods import PeriodKind, period_containing
from spur.models import (
    AchievementEvent,
    EntryCause,
    EventKind,
    ExchangeRate,
    Goal,
    IncentivePlan,
    LedgerEntry,
    Member,
    PlanAssignment,
    PlanRule,
    PlanVersion,
    RewardKind,
    RewardStatus,
    Role,
    RuleCounter,
    RuleKind,
    Team,
)
from tests.demo.conftest import NOW, SHANGHAI, FilledDemo

TODAY = NOW.date()
FIRST_DAY = local_date(NOW - timedelta(days=90), SHANGHAI)
OPERATIONS = Path(__file__).parents[2] / "spur" / "schema" / "operations"
GraphQL = Callable[..., Awaitable[dict[str, Any]]]


# The plans as data


def test_every_rule_of_every_version_parses() -> None:
    for plan in demo_plans(FIRST_DAY, TODAY):
        for version in plan.versions:
            for rule in version.rules:
                parse_rule(rule.kind.value, rule.params)
                assert rule.titles["zh-CN"]
        assert plan.titles["zh-CN"]


def test_a_later_version_repeats_every_rule_of_the_earlier() -> None:
    for plan in demo_plans(FIRST_DAY, TODAY):
        codes = [{rule.code for rule in v.rules} for v in plan.versions]
        for earlier, later in itertools.pairwise(codes):
            assert earlier <= later


def test_the_young_plan_raises_sea_commission_two_weeks_before_the_demo() -> None:
    young = demo_plans(FIRST_DAY, TODAY)[0]
    first, raised = young.versions

    assert first.effective_from <= FIRST_DAY
    assert raised.effective_from == raise_day(TODAY) == date(2026, 11, 20)
    assert RAISE_DAYS_BEFORE == 14
    before = {r.code: r.params for r in first.rules}
    after = {r.code: r.params for r in raised.rules}
    assert before["commission"] == {"rate": "0.05"}
    assert after["commission"] == {
        "rate": "0.05",
        "overrides": [{"market": "SEA", "rate": "0.08"}],
    }
    assert {k: v for k, v in after.items() if k != "commission"} == {
        k: v for k, v in before.items() if k != "commission"
    }


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI),
        datetime(2027, 1, 1, 0, 5, tzinfo=SHANGHAI),
        datetime(2027, 3, 31, 23, 59, tzinfo=SHANGHAI),
        datetime(2026, 7, 15, 16, 30, tzinfo=UTC),
    ],
)
def test_every_order_currency_has_a_rate_on_every_demo_date(now: datetime) -> None:
    window = Window(now, SHANGHAI)
    first = local_date(window.start, SHANGHAI)
    rates = daily_rates(first, window.today + timedelta(days=DAYS_AHEAD), 2026)
    used = {c for pairs in MARKET_CURRENCIES.values() for c, _ in pairs} - {"CNY"}

    days = [first + timedelta(days=n) for n in range((window.today - first).days + 1)]
    missing = [(c, d) for c in sorted(used) for d in days if (c, d) not in rates]
    assert missing == []
    assert used == {"USD", "EUR", "GBP", "SGD", "MYR", "THB", "AED", "SAR"}


def test_every_demo_manager_is_35_or_over_on_every_demo_date() -> None:
    people = demo_people(TODAY, 2026)

    managers = [p for p in people if p.role is Role.MANAGER]
    assert len(managers) == 4
    for manager in managers:
        assert age_on(manager.birth_date, FIRST_DAY) >= 35


@pytest.mark.parametrize(
    "today",
    [date(2026, 3, 16), date(2026, 12, 4), date(2026, 12, 5), date(2027, 2, 28)],
)
def test_the_senior_plan_covers_managers_hr_and_18_salespeople(today: date) -> None:
    # What the README says of "Senior staff team rules" on any creation date.
    people = demo_people(today, 2026)
    senior = [p for p in people if p.birth_date and age_on(p.birth_date, today) >= 35]

    roles = Counter(p.role for p in senior)
    assert roles == {Role.MANAGER: 4, Role.HR_ADMIN: 1, Role.SALESPERSON: 18}
    assert "senior.sea@example.com" in {p.email for p in senior}


@pytest.mark.parametrize("today", [date(2026, 3, 16), date(2026, 12, 5)])
def test_the_readmes_english_salesperson_exists_on_any_date(today: date) -> None:
    # The README's walk-through names him for reading events in English.
    jason = next(
        p for p in demo_people(today, 2026) if p.email == "jason.zhao@example.com"
    )

    assert (jason.role, jason.language, jason.market) == (Role.SALESPERSON, "en", "EU")
    assert jason.birth_date is not None
    assert age_on(jason.birth_date, today) <= 30


# The plans as stored


async def test_the_three_plans_are_stored_with_their_audiences(
    demo: FilledDemo,
) -> None:
    plans = {p.name: p for p in await IncentivePlan.all()}
    audiences = {
        a.plan_id: (a.min_age, a.max_age, a.team_id, a.member_id)
        for a in await PlanAssignment.all()
    }

    assert set(plans) == {"Young staff", "Senior staff team rules", "Everyone"}
    assert audiences[plans["Young staff"].id] == (None, 30, None, None)
    assert audiences[plans["Senior staff team rules"].id] == (35, None, None, None)
    assert audiences[plans["Everyone"].id] == (None, None, None, None)
    for plan in plans.values():
        assert plan.approval_threshold == Decimal("2000.00")
        assert plan.titles["zh-CN"]
        assert plan.is_active


async def test_versions_and_rules_are_stored_as_written(demo: FilledDemo) -> None:
    hr = await Member.get(email="hr@example.com")
    versions = await PlanVersion.all().prefetch_related("plan").order_by("id")
    rules = await PlanRule.all().prefetch_related("metric", "version__plan")

    dates = {(v.plan.name, v.number): v.effective_from for v in versions}
    assert dates[("Young staff", 2)] == date(2026, 11, 20)
    assert dates[("Young staff", 1)] <= FIRST_DAY
    assert len(dates) == 4
    assert {v.created_by_id for v in versions} == {hr.id}
    written = {
        (r.version.plan.name, r.version.number, r.code): (
            r.kind,
            r.metric.key if r.metric else None,
            r.period_kind,
        )
        for r in rules
    }
    week, quarter = PeriodKind.WEEK, PeriodKind.QUARTER
    for number in (1, 2):
        assert written["Young staff", number, "commission"] == (
            RuleKind.COMMISSION,
            None,
            None,
        )
        assert written["Young staff", number, "fast_replies"] == (
            RuleKind.STEP,
            "inquiry_replies_within_60",
            week,
        )
        assert written["Young staff", number, "platform_training"] == (
            RuleKind.STEP,
            "platform_minutes",
            week,
        )
    assert written["Senior staff team rules", 1, "team_star"][1:] == (
        "sales_amount",
        quarter,
    )
    assert written["Senior staff team rules", 1, "upkeep_leave"][1:] == (
        "platform_minutes",
        quarter,
    )
    assert written["Everyone", 1, "quarterly_target"] == (
        RuleKind.TARGET_BONUS,
        "sales_amount",
        quarter,
    )
    assert written["Senior staff team rules", 1, "equity_streak"] == (
        RuleKind.APPRAISAL_STREAK,
        None,
        None,
    )
    assert len(written) == 10


async def test_rates_cover_every_order_currency_on_every_demo_date(
    demo: FilledDemo,
) -> None:
    stored = set(await ExchangeRate.all().values_list("currency", "on_date"))
    used = {c for pairs in MARKET_CURRENCIES.values() for c, _ in pairs} - {"CNY"}

    days = [FIRST_DAY + timedelta(days=n) for n in range((TODAY - FIRST_DAY).days + 1)]
    assert {(c, d) for c in used for d in days} <= stored


# A new user, through the client's documents


@pytest.fixture
async def gql(filled: FilledDemo) -> AsyncIterator[GraphQL]:
    """The API on the filled demo, its clock stopped when the demo was made."""
    settings = load_settings(env_file=None).with_overrides(
        database_url=filled.url, jwt_secret=Secret("d" * 48)
    )
    app = create_app(settings)
    app.state.services.clock = lambda: NOW
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://d") as c:

            async def run(
                name: str, variables: dict[str, Any], token: str | None = None
            ) -> dict[str, Any]:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                query = (OPERATIONS / f"{name}.graphql").read_text()
                response = await c.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers=headers,
                )
                body: dict[str, Any] = response.json()
                assert "errors" not in body, body
                return body["data"]  # type: ignore[no-any-return]

            yield run


async def sign_in(gql: GraphQL, email: str) -> str:
    data = await gql("Login", {"email": email, "password": "demo"})
    return str(data["login"]["accessToken"])


def sea_order(key: str, occurred_at: str) -> dict[str, Any]:
    return {
        "kind": "ORDER_CLOSED",
        "occurredAt": occurred_at,
        "amount": "10000.00",
        "currency": "CNY",
        "market": "SEA",
        "source": "new-user-check",
        "externalId": key,
    }


def rewards(payload: dict[str, Any]) -> list[dict[str, str]]:
    return [
        a["reward"]["amount"]
        for a in payload["recordActivity"]["achievements"]
        if a["kind"] == "REWARD_EARNED" and a["reward"]["amount"]
    ]


async def earnings(gql: GraphQL, token: str) -> Decimal:
    home = await gql("HomeScreen", {}, token)
    total = home["viewer"]["earnings"]["total"]
    assert total["currency"] == "CNY"
    return Decimal(total["amount"])


async def test_newhire_sees_8_percent_on_a_sea_order(gql: GraphQL) -> None:
    token = await sign_in(gql, "newhire@example.com")
    before = await earnings(gql, token)

    answer = await gql(
        "RecordActivity",
        {"input": sea_order("newhire-1", "2026-12-04T09:30:00+08:00")},
        token,
    )

    assert rewards(answer) == [{"amount": "800.00", "currency": "CNY"}]
    assert await earnings(gql, token) - before == Decimal("800.00")


async def young_sea_seller() -> Member:
    """A salesperson of Southeast Asia aged 30 or under, with history."""
    sea = await Team.get(market="SEA")
    staff = await Member.filter(team=sea, role=Role.SALESPERSON).order_by("id")
    return next(
        m
        for m in staff
        if m.email != "newhire@example.com"
        and m.birth_date is not None
        and age_on(m.birth_date, TODAY) <= 30
        and age_on(m.birth_date, FIRST_DAY) <= 30
    )


async def test_an_order_the_day_before_the_raise_pays_5_percent(
    gql: GraphQL,
) -> None:
    seller = await young_sea_seller()
    token = await sign_in(gql, seller.email)
    day_before = raise_day(TODAY) - timedelta(days=1)

    answer = await gql(
        "RecordActivity",
        {"input": sea_order("before-raise-1", f"{day_before}T15:00:00+08:00")},
        token,
    )

    assert {"amount": "500.00", "currency": "CNY"} in rewards(answer)
    line = await LedgerEntry.get(
        source_activity__external_id="before-raise-1", kind=RewardKind.COMMISSION
    ).prefetch_related("plan_version")
    assert (line.amount, line.inputs["rate"]) == (Decimal("500.00"), "0.05")
    assert line.plan_version is not None
    assert line.plan_version.number == 1


# The history the plans paid


Row = dict[str, Any]


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


def history_lines() -> QuerySet[LedgerEntry]:
    """Plan entries of the generated history (tests here record more)."""
    return LedgerEntry.filter(
        plan_version_id__isnull=False, source_activity__source="demo"
    )


async def plan_lines(code: str) -> list[LedgerEntry]:
    return await history_lines().filter(rule__code=code)


async def birth_dates() -> dict[int, date]:
    rows = await Member.filter(birth_date__isnull=False).values_list("id", "birth_date")
    return dict(rows)


def young_on(born: date, at: datetime) -> bool:
    return age_on(born, at.astimezone(SHANGHAI).date()) <= 30


async def test_young_staff_earned_commission_on_every_order(
    demo: FilledDemo,
) -> None:
    born = await birth_dates()
    versions = dict(
        await PlanVersion.filter(plan__name="Young staff").values_list("number", "id")
    )
    raised = raise_day(TODAY)

    expected = {}
    for row in demo.activities:
        if row["kind"] is ActivityKind.ORDER_CLOSED and young_on(
            born[row["member_id"]], row["occurred_at"]
        ):
            day = row["occurred_at"].astimezone(SHANGHAI).date()
            number = 2 if day >= raised else 1
            rate = "0.08" if number == 2 and row["market"] == "SEA" else "0.05"
            amount = quantize(row["amount_company"] * Decimal(rate), "CNY")
            key = f"rv{versions[number]}:commission:a{row['id']}"
            expected[key] = (amount, rate, row["occurred_at"], row["id"])
    lines = await plan_lines("commission")

    found = {
        line.key: (
            line.amount,
            line.inputs["rate"],
            line.earned_at,
            line.source_activity_id,
        )
        for line in lines
    }
    assert found == expected
    assert len(found) > 300
    assert {line.kind for line in lines} == {RewardKind.COMMISSION}
    assert {line.inputs["rate"] for line in lines} == {"0.05", "0.08"}


def totals_by(
    rows: list[Row], metric: MetricSpec, period: Callable[[Row], date]
) -> dict[tuple[int, date], Decimal]:
    found: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for row in rows:
        value = contributions([metric], facts(row)).get(metric.key)
        if value is not None:
            found[row["member_id"], period(row)] += value
    return found


def week_of(row: Row) -> date:
    return period_containing(PeriodKind.WEEK, row["occurred_at"], SHANGHAI).start_date


FAST = MetricSpec(
    "inquiry_replies_within_60",
    ActivityKind.INQUIRY_REPLIED,
    Aggregation.COUNT,
    reply_within_minutes=60,
)


async def test_every_ten_fast_replies_in_a_week_earned_200(demo: FilledDemo) -> None:
    born = await birth_dates()
    always_young = {m for m, b in born.items() if age_on(b, TODAY) <= 30}
    weekly = totals_by(demo.activities, FAST, week_of)

    paid: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for line in await plan_lines("fast_replies"):
        assert line.period_start is not None
        assert line.amount is not None
        paid[line.member_id, line.period_start] += line.amount
    expected = {
        key: 200 * (total // 10)
        for key, total in weekly.items()
        if key[0] in always_young and total >= 10
    }
    assert {k: v for k, v in paid.items() if k[0] in always_young} == expected
    assert len(expected) > 20
    never_young = {m for m, b in born.items() if age_on(b, FIRST_DAY) > 30}
    assert not [key for key in paid if key[0] in never_young]


async def team_orders(demo: FilledDemo) -> dict[int, list[Row]]:
    teams = dict(await Member.all().values_list("id", "team_id"))
    found: dict[int, list[Row]] = defaultdict(list)
    for row in demo.activities:
        if row["kind"] is ActivityKind.ORDER_CLOSED:
            found[teams[row["member_id"]]].append(row)
    return found


async def test_team_star_went_to_the_lead_when_team_sales_passed_a_million(
    demo: FilledDemo,
) -> None:
    leads = dict(await Team.all().values_list("id", "manager_id"))
    expected = {}
    for team_id, orders in (await team_orders(demo)).items():
        running: dict[date, Decimal] = defaultdict(Decimal)
        for row in sorted(orders, key=lambda row: row["id"]):
            at = row["occurred_at"]
            quarter = period_containing(PeriodKind.QUARTER, at, SHANGHAI).start_date
            before = running[quarter]
            running[quarter] += row["amount_company"]
            if before < 1_000_000 <= running[quarter]:
                expected[team_id, quarter] = (leads[team_id], row["id"], at)

    lines = await plan_lines("team_star")
    found = {
        (int(line.inputs["team_id"]), line.period_start): (
            line.member_id,
            line.source_activity_id,
            line.earned_at,
        )
        for line in lines
    }
    assert found == expected
    assert len(found) >= 4
    assert {(line.kind, line.title) for line in lines} == {
        (RewardKind.HONOR_TITLE, "Team Star")
    }


async def test_meeting_the_quarterly_target_earned_1_percent_and_a_title(
    demo: FilledDemo,
) -> None:
    quarter = date(2026, 10, 1)
    goals = await Goal.filter(
        period_kind=PeriodKind.QUARTER,
        member_id__isnull=False,
        parent_id__isnull=True,
        metric__key="sales_amount",
    )
    sales = {
        member: total
        for (member, start), total in totals_by(
            demo.activities,
            MetricSpec("sales", ActivityKind.ORDER_CLOSED, Aggregation.SUM_AMOUNT),
            lambda row: (
                period_containing(
                    PeriodKind.QUARTER, row["occurred_at"], SHANGHAI
                ).start_date
            ),
        ).items()
        if start == quarter
    }
    lines = await plan_lines("quarterly_target")
    cash: dict[int, list[Decimal]] = defaultdict(list)
    titles = set()
    for line in lines:
        if line.amount is not None:
            cash[line.member_id].append(line.amount)
        else:
            assert (line.kind, line.title) == (
                RewardKind.HONOR_TITLE,
                "Quarterly Target Achiever",
            )
            titles.add(line.member_id)

    achievers = {
        g.member_id for g in goals if sales.get(g.member_id, Decimal(0)) >= g.target
    }
    assert titles == achievers == set(cash)
    assert achievers
    for member in achievers:
        # Each line is rounded once, so the sum may drift by half a fen a line.
        drift = abs(sum(cash[member]) - sales[member] / 100)
        assert drift <= Decimal("0.005") * len(cash[member])


async def test_statuses_follow_the_approval_threshold(demo: FilledDemo) -> None:
    lines = await history_lines()

    for line in lines:
        large = line.amount is not None and line.amount > Decimal("2000.00")
        assert line.status is (RewardStatus.PENDING if large else RewardStatus.APPROVED)
        assert line.cause is EntryCause.EARNED
        assert line.currency == ("CNY" if line.amount is not None else None)
        assert line.rule_id is not None
        assert line.created_at == line.earned_at
    statuses = Counter(line.status for line in lines)
    assert statuses[RewardStatus.PENDING] >= 5
    assert statuses[RewardStatus.APPROVED] > 500


async def test_each_plan_reward_was_announced_in_the_readers_languages(
    demo: FilledDemo,
) -> None:
    lines = await history_lines().prefetch_related("member__team__manager")
    events = {
        e.dedupe_key: e
        for e in await AchievementEvent.filter(kind=EventKind.REWARD_EARNED)
    }

    for line in lines:
        event = events[f"reward:{line.key}"]
        assert (event.ledger_entry_id, event.member_id) == (line.id, line.member_id)
        assert event.occurred_at == line.earned_at
        reader, feed = line.member.language, line.member.team.manager.language
        assert messages.localized(line.title, line.titles, reader) in event.message
        assert messages.localized(line.title, line.titles, feed) in event.team_message
        if line.amount is not None:
            assert format_money(line.amount, "CNY") in event.message


async def test_counters_carry_the_history_on(demo: FilledDemo) -> None:
    everyone = await IncentivePlan.get(name="Everyone")
    budget = await RuleCounter.get(key=f"budget:p{everyone.id}:QUARTER:2026-10-01")
    spent = await LedgerEntry.filter(
        rule__code="quarterly_target",
        amount__isnull=False,
        period_start=date(2026, 10, 1),
    ).values_list("amount", flat=True)

    assert budget.value == sum(spent)
    steps = await RuleCounter.filter(key__startswith="steps:").count()
    assert steps > 20


async def test_live_steps_carry_on_from_the_history(
    demo: FilledDemo, gql: GraphQL
) -> None:
    born = await birth_dates()
    week = date(2026, 11, 23)
    weekly = totals_by(demo.activities, FAST, week_of)
    total, member_id = max(
        (total, member)
        for (member, start), total in weekly.items()
        if start == week and age_on(born[member], TODAY) <= 30
    )
    assert total >= 10
    seller = await Member.get(id=member_id)
    token = await sign_in(gql, seller.email)

    missing = int(10 - total % 10)
    answers = [
        await gql(
            "RecordActivity",
            {
                "input": {
                    "kind": "INQUIRY_REPLIED",
                    "occurredAt": "2026-11-27T16:00:00+08:00",
                    "responseMinutes": 30,
                    "source": "steps-check",
                    "externalId": f"reply-{n}",
                }
            },
            token,
        )
        for n in range(missing)
    ]

    step = int(total // 10) + 1
    assert [rewards(answer) for answer in answers] == [[]] * (missing - 1) + [
        [{"amount": "200.00", "currency": "CNY"}]
    ]
    line = await LedgerEntry.get(
        rule__code="fast_replies", source_activity__source="steps-check"
    )
    assert (line.amount, line.inputs["steps"]) == (Decimal("200.00"), f"{step}-{step}")
