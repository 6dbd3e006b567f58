from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine import incentives as inc
from spur.engine.incentives import (
    Audience,
    CommissionParams,
    Person,
    Span,
    Steps,
    age_on,
    capped,
    commission,
    covers,
    crossed,
    parse_rule,
    steps_reached,
    target_bonus,
    upkeep_days_needed,
    version_in_force,
    working_days,
)
from spur.engine.periods import PeriodKind, period_starting

SHANGHAI = ZoneInfo("Asia/Shanghai")
BANDS = [
    {"from": "0", "to": "1000", "rate": "0.01"},
    {"from": "1000", "to": "5000", "rate": "0.03"},
    {"from": "5000", "rate": "0.05"},
]


def commission_rule(params: dict[str, Any]) -> CommissionParams:
    parsed = parse_rule("COMMISSION", params)
    assert isinstance(parsed, CommissionParams)
    return parsed


def tiered(mode: str, basis: str) -> CommissionParams:
    return commission_rule({"tiers": {"mode": mode, "basis": basis, "bands": BANDS}})


# --- commission --------------------------------------------------------------


def test_a_market_override_beats_the_flat_rate() -> None:
    rule = commission_rule(
        {"rate": "0.05", "overrides": [{"market": "SEA", "rate": "0.08"}]}
    )

    in_sea = commission(rule, Decimal("10000.00"), "SEA", "phones")
    elsewhere = commission(rule, Decimal("10000.00"), "EU", "phones")

    assert str(in_sea.amount) == "800.0000"
    assert (in_sea.rate, in_sea.tier, in_sea.source) == (
        Decimal("0.08"),
        None,
        "override:market=SEA",
    )
    assert str(elsewhere.amount) == "500.0000"
    assert (elsewhere.rate, elsewhere.source) == (Decimal("0.05"), "rate")
    assert commission(rule, Decimal("10000.00"), None, None).amount == 500


OVERRIDES = [
    {"market": "SEA", "category": "Phones", "rate": "0.09"},
    {"category": "phones", "rate": "0.07"},
    {"market": "sea", "rate": "0.06"},
]


@pytest.mark.parametrize("fallback", ["rate", "tiers"])
@pytest.mark.parametrize(
    ("market", "category", "rate", "source"),
    [
        ("SEA", "Phones", "0.09", "override:market=SEA,category=Phones"),
        ("sea", "PHONES", "0.09", "override:market=SEA,category=Phones"),
        ("Sea", "phones", "0.09", "override:market=SEA,category=Phones"),
        ("EU", "phones", "0.07", "override:category=phones"),
        (None, "PhOnEs", "0.07", "override:category=phones"),
        ("SEA", "Laptops", "0.06", "override:market=SEA"),
        ("sea", None, "0.06", "override:market=SEA"),
    ],
)
def test_override_precedence(
    fallback: str, market: str | None, category: str | None, rate: str, source: str
) -> None:
    params: dict[str, Any] = {"overrides": OVERRIDES}
    params |= {"rate": "0.02"} if fallback == "rate" else {"tiers": {"bands": BANDS}}

    paid = commission(commission_rule(params), Decimal(2000), market, category)

    assert (paid.amount, paid.rate, paid.source) == (
        Decimal(2000) * Decimal(rate),
        Decimal(rate),
        source,
    )


def test_a_category_override_beats_a_market_override() -> None:
    overrides = [
        {"market": "SEA", "rate": "0.06"},
        {"category": "Phones", "rate": "0.07"},
    ]
    rule = commission_rule({"rate": "0.02", "overrides": overrides})

    paid = commission(rule, Decimal(2000), "sea", "phones")

    assert (paid.amount, paid.source) == (Decimal(140), "override:category=Phones")


def test_without_a_matching_override_tiers_then_the_flat_rate_apply() -> None:
    only_both = [{"market": "SEA", "category": "Phones", "rate": "0.09"}]
    with_tiers = commission_rule({"tiers": {"bands": BANDS}, "overrides": only_both})
    flat = commission_rule({"rate": "0.02", "overrides": only_both})

    for market, category in [("SEA", None), ("EU", "Phones"), (None, None)]:
        by_tier = commission(with_tiers, Decimal(2000), market, category)
        by_rate = commission(flat, Decimal(2000), market, category)
        assert (by_tier.amount, by_tier.source) == (Decimal(60), "tiers")
        assert (by_rate.amount, by_rate.source) == (Decimal(40), "rate")


@pytest.mark.parametrize(
    ("base", "amount", "rate", "tier"),
    [
        ("0", "0", "0.01", "[0, 1000)"),
        ("999.99", "9.9999", "0.01", "[0, 1000)"),
        ("1000", "30", "0.03", "[1000, 5000)"),
        ("4999.99", "149.9997", "0.03", "[1000, 5000)"),
        ("5000", "250", "0.05", "[5000, ∞)"),
        ("-1000", "-30", "0.03", "[1000, 5000)"),
    ],
)
def test_slab_per_order_at_band_edges(
    base: str, amount: str, rate: str, tier: str
) -> None:
    paid = commission(tiered("SLAB", "ORDER"), Decimal(base), None, None)

    assert (paid.amount, paid.rate, paid.tier) == (
        Decimal(amount),
        Decimal(rate),
        tier,
    )


@pytest.mark.parametrize(
    ("base", "amount", "tier"),
    [
        ("999.99", "9.9999", "[0, 1000)"),
        ("1000", "10", "[1000, 5000)"),
        # 1000 × 0.01 + 500 × 0.03
        ("1500", "25", "[1000, 5000)"),
        ("5000", "130", "[5000, ∞)"),
        # 10 + 4000 × 0.03 + 3000 × 0.05
        ("8000", "280", "[5000, ∞)"),
        ("-1500", "-25", "[1000, 5000)"),
    ],
)
def test_marginal_per_order(base: str, amount: str, tier: str) -> None:
    paid = commission(tiered("MARGINAL", "ORDER"), Decimal(base), None, None)

    assert (paid.amount, paid.rate, paid.tier) == (Decimal(amount), None, tier)


@pytest.mark.parametrize(
    ("mode", "before", "base", "amount", "tier"),
    [
        # 1200 × 0.03 − 800 × 0.01: reaching the band lifts the whole period.
        ("SLAB", "800", "400", "28", "[1000, 5000)"),
        ("SLAB", "4000", "2000", "180", "[5000, ∞)"),
        ("SLAB", "200", "300", "3", "[0, 1000)"),
        ("SLAB", "1200", "-400", "-28", "[0, 1000)"),
        # 200 × 0.01 + 200 × 0.03: only what falls in the band.
        ("MARGINAL", "800", "400", "8", "[1000, 5000)"),
        ("MARGINAL", "4000", "2000", "80", "[5000, ∞)"),
        ("MARGINAL", "1200", "-400", "-8", "[0, 1000)"),
    ],
)
def test_period_basis_pays_the_change_in_the_period(
    mode: str, before: str, base: str, amount: str, tier: str
) -> None:
    rule = tiered(mode, "PERIOD")

    paid = commission(rule, Decimal(base), None, None, Decimal(before))

    assert (paid.amount, paid.rate, paid.tier) == (Decimal(amount), None, tier)


def test_an_override_ignores_the_period_total() -> None:
    rule = commission_rule(
        {
            "tiers": {"basis": "PERIOD", "bands": BANDS},
            "overrides": [{"market": "SEA", "rate": "0.08"}],
        }
    )

    paid = commission(rule, Decimal(400), "SEA", None, Decimal(800))

    assert paid.amount == Decimal(32)


money = st.decimals(
    min_value=-10_000_000, max_value=10_000_000, places=2, allow_nan=False
)
rates = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False)


@st.composite
def tier_rules(draw: st.DrawFn, basis: str) -> CommissionParams:
    edges = draw(
        st.lists(
            st.decimals(min_value="0.01", max_value=1_000_000, places=2),
            max_size=4,
            unique=True,
        ).map(sorted)
    )
    lowers = [Decimal(0), *edges]
    uppers: list[Decimal | None] = [*edges, None]
    bands = [
        {"from": f"{low}", "rate": f"{draw(rates)}"}
        | ({} if high is None else {"to": f"{high}"})
        for low, high in zip(lowers, uppers, strict=True)
    ]
    mode = draw(st.sampled_from(["SLAB", "MARGINAL"]))
    return commission_rule({"tiers": {"mode": mode, "basis": basis, "bands": bands}})


@given(tier_rules("PERIOD"), money, money)
def test_a_period_refund_takes_back_what_the_order_earned(
    rule: CommissionParams, before: Decimal, order: Decimal
) -> None:
    earned = commission(rule, order, None, None, before).amount
    refunded = commission(rule, -order, None, None, before + order).amount

    assert earned + refunded == 0


@given(tier_rules("PERIOD"), money, money, money)
def test_splitting_an_order_in_a_period_changes_nothing(
    rule: CommissionParams, before: Decimal, first: Decimal, second: Decimal
) -> None:
    whole = commission(rule, first + second, None, None, before).amount
    parts = commission(rule, first, None, None, before).amount
    parts += commission(rule, second, None, None, before + first).amount

    assert parts == whole


@given(tier_rules("ORDER"), money)
def test_an_order_refund_mirrors_the_order(
    rule: CommissionParams, order: Decimal
) -> None:
    assert commission(rule, -order, None, None).amount == -(
        commission(rule, order, None, None).amount
    )


@given(rates, money)
def test_a_flat_rate_refund_mirrors_the_order(rate: Decimal, order: Decimal) -> None:
    rule = commission_rule({"rate": f"{rate}"})

    assert commission(rule, -order, "SEA", None).amount == -(
        commission(rule, order, "SEA", None).amount
    )


# --- steps and targets --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "paid_through", "expected"),
    [
        ("9", 0, None),
        ("9", 1, None),
        ("9", 2, None),
        ("10", 0, (1, 1)),
        ("10", 1, None),
        ("10", 2, None),
        ("19", 0, (1, 1)),
        ("19", 1, None),
        ("19", 2, None),
        ("20", 0, (1, 2)),
        ("20", 1, (2, 2)),
        ("20", 2, None),
        ("21", 0, (1, 2)),
        ("21", 1, (2, 2)),
        ("21", 2, None),
    ],
)
def test_steps_of_ten(
    value: str, paid_through: int, expected: tuple[int, int] | None
) -> None:
    reached = steps_reached(paid_through, Decimal(value), Decimal(10))

    assert reached == (None if expected is None else Steps(*expected))


def test_steps_count() -> None:
    assert steps_reached(0, Decimal(21), Decimal(10)) == Steps(1, 2)
    assert Steps(1, 2).count == 2
    assert Steps(3, 3).count == 1


def test_a_value_that_falls_and_rises_pays_no_step_twice() -> None:
    paid_through, paid = 0, []

    for value in ["25", "5", "-3", "25", "29.99", "31"]:
        reached = steps_reached(paid_through, Decimal(value), Decimal(10))
        if reached is not None:
            paid.append((reached.first, reached.last))
            paid_through = reached.last

    assert paid == [(1, 2), (3, 3)]


@pytest.mark.parametrize(
    ("value", "every", "expected"),
    [
        ("7.5", "2.5", Steps(1, 3)),
        ("7.49", "2.5", Steps(1, 2)),
        ("0.3", "0.1", Steps(1, 3)),
        ("2.49", "2.5", None),
        ("0", "2.5", None),
        ("-7.5", "2.5", None),
    ],
)
def test_fractional_units(value: str, every: str, expected: Steps | None) -> None:
    assert steps_reached(0, Decimal(value), Decimal(every)) == expected


@given(
    st.lists(st.decimals(min_value=-100, max_value=1000, places=1), max_size=20),
    st.decimals(min_value="0.5", max_value=50, places=1),
)
def test_every_step_reached_is_paid_exactly_once(
    values: list[Decimal], every: Decimal
) -> None:
    paid_through, paid = 0, []
    for value in values:
        reached = steps_reached(paid_through, value, every)
        if reached is not None:
            paid += range(reached.first, reached.last + 1)
            paid_through = reached.last

    highest = max([Decimal(0), *values])
    assert paid == list(range(1, int(highest // every) + 1))


SHARE, TARGET = Decimal("0.01"), Decimal(500000)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("100000", "400000", "0"),
        # Crossing pays 1% of everything so far.
        ("450000", "520000", "5200"),
        ("499999.99", "500000", "5000"),
        # After crossing, 1% of what was added.
        ("520000", "600000", "800"),
        ("600000", "550000", "-500"),
        # Dropping below the target takes back all 6000 paid.
        ("600000", "480000", "-6000"),
        ("480000", "490000", "0"),
    ],
)
def test_target_bonus(before: str, after: str, expected: str) -> None:
    paid = target_bonus(SHARE, TARGET, Decimal(before), Decimal(after))

    assert paid == Decimal(expected)


@given(
    rates,
    st.decimals(min_value=1, max_value=1_000_000, places=2),
    st.lists(money, max_size=15),
)
def test_target_bonus_paid_over_time_is_what_the_final_total_earns(
    share: Decimal, target: Decimal, deltas: list[Decimal]
) -> None:
    total, paid = Decimal(0), Decimal(0)
    for delta in deltas:
        paid += target_bonus(share, target, total, total + delta)
        total += delta

    assert paid == (total * share if total >= target else 0)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("9", "10", True),
        ("0", "25", True),
        ("9.99", "10.01", True),
        ("9", "9.99", False),
        ("10", "11", False),
        ("11", "9", False),
        ("10", "10", False),
    ],
)
def test_crossed(before: str, after: str, expected: bool) -> None:
    assert crossed(Decimal(before), Decimal(after), Decimal(10)) is expected


# --- team upkeep and caps -----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "start", "days"),
    [
        # March 2024 starts on a Friday and ends on a weekend.
        (PeriodKind.MONTH, date(2024, 3, 1), 21),
        (PeriodKind.MONTH, date(2024, 2, 1), 21),
        # 23 + 21 + 21
        (PeriodKind.QUARTER, date(2024, 1, 1), 65),
        (PeriodKind.WEEK, date(2024, 3, 4), 5),
        (PeriodKind.DAY, date(2024, 3, 8), 1),
        (PeriodKind.DAY, date(2024, 3, 9), 0),
    ],
)
def test_working_days(kind: PeriodKind, start: date, days: int) -> None:
    assert working_days(period_starting(kind, start, SHANGHAI)) == days


@pytest.mark.parametrize(
    ("threshold", "headcount", "days", "needed"),
    [
        ("0.80", 5, 21, 84),
        # 0.8 × 3 × 21 = 50.4: a part day still has to be a whole one.
        ("0.80", 3, 21, 51),
        ("0.01", 1, 21, 1),
        ("1", 4, 65, 260),
        ("0.80", 0, 21, 1),
    ],
)
def test_upkeep_days_needed(
    threshold: str, headcount: int, days: int, needed: int
) -> None:
    assert upkeep_days_needed(Decimal(threshold), headcount, days) == needed


@pytest.mark.parametrize(
    ("amount", "used", "cap", "expected"),
    [
        ("300", "700", "1000", "300"),
        ("300", "800", "1000", "200"),
        ("300", "1000", "1000", "0"),
        ("300", "1200", "1000", "0"),
        ("-50", "1000", "1000", "-50"),
        ("-50", "1200", "1000", "-50"),
        ("0", "0", "1000", "0"),
    ],
)
def test_capped(amount: str, used: str, cap: str, expected: str) -> None:
    assert capped(Decimal(amount), Decimal(used), Decimal(cap)) == Decimal(expected)


def test_no_cap_lets_everything_through() -> None:
    assert capped(Decimal("1e9"), Decimal("1e9"), None) == Decimal("1e9")


# --- versions and audiences ---------------------------------------------------

JAN, MAR = date(2024, 1, 1), date(2024, 3, 1)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2023, 12, 31), None),
        (JAN, 11),
        (date(2024, 2, 29), 11),
        # Versions 2 and 3 both start on 1 March: the higher number wins.
        (MAR, 13),
        (date(2024, 12, 31), 13),
    ],
)
def test_version_in_force(day: date, expected: int | None) -> None:
    spans = [Span(13, 3, MAR, None), Span(11, 1, JAN, None), Span(12, 2, MAR, None)]

    assert version_in_force(spans, day) == expected
    assert version_in_force(spans[::-1], day) == expected


def test_a_version_ends_the_day_before_its_effective_until() -> None:
    spans = [Span(11, 1, JAN, date(2024, 2, 1)), Span(12, 2, MAR, date(2024, 4, 1))]

    assert version_in_force(spans, date(2024, 1, 31)) == 11
    assert version_in_force(spans, date(2024, 2, 1)) is None
    assert version_in_force(spans, MAR) == 12
    assert version_in_force(spans, date(2024, 3, 31)) == 12
    assert version_in_force(spans, date(2024, 4, 1)) is None
    assert version_in_force([], JAN) is None


def test_an_ended_latest_version_does_not_revive_an_earlier_one() -> None:
    spans = [Span(11, 1, JAN, None), Span(12, 2, MAR, date(2024, 4, 1))]

    assert version_in_force(spans, date(2024, 4, 1)) is None


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(1994, 6, 15), date(2024, 6, 14), 29),
        (date(1994, 6, 15), date(2024, 6, 15), 30),
        (date(1994, 6, 15), date(2025, 6, 14), 30),
        (date(2000, 2, 29), date(2023, 2, 28), 22),
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 28), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
    ],
)
def test_age_on(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


def birthdays_passed(birth: date, day: date) -> int:
    def birthday(year: int) -> date:
        try:
            return birth.replace(year=year)
        except ValueError:
            return date(year, 3, 1)

    return sum(
        1 for year in range(birth.year + 1, day.year + 1) if birthday(year) <= day
    )


@given(st.dates(max_value=date(2090, 1, 1)), st.integers(0, 36500))
def test_age_counts_birthdays(birth: date, days: int) -> None:
    day = birth + timedelta(days=days)

    assert age_on(birth, day) == birthdays_passed(birth, day)


def person(
    birth: date | None = date(1994, 6, 15),
    hire: date | None = date(2024, 1, 1),
    team_id: int | None = 7,
    preference: str | None = "INSTANT_COMMISSION",
) -> Person:
    return Person(42, team_id, birth, hire, preference)


@pytest.mark.parametrize(
    ("audience", "day", "expected"),
    [
        (Audience(max_age=30), date(2025, 6, 14), True),
        (Audience(max_age=30), date(2025, 6, 15), False),
        (Audience(min_age=30), date(2024, 6, 14), False),
        (Audience(min_age=30), date(2024, 6, 15), True),
        (Audience(min_age=30, max_age=30), date(2024, 6, 15), True),
        # 2024-01-01 + 90 days = 2024-03-31.
        (Audience(min_tenure_days=90), date(2024, 3, 30), False),
        (Audience(min_tenure_days=90), date(2024, 3, 31), True),
        (Audience(max_tenure_days=90), date(2024, 3, 31), True),
        (Audience(max_tenure_days=90), date(2024, 4, 1), False),
        (Audience(team_id=7), JAN, True),
        (Audience(team_id=8), JAN, False),
        (Audience(member_id=42), JAN, True),
        (Audience(member_id=43), JAN, False),
        (Audience(preference="INSTANT_COMMISSION"), JAN, True),
        (Audience(preference="TEAM_HONOR"), JAN, False),
        (Audience(), JAN, True),
        (Audience(team_id=7, member_id=42, max_age=30), JAN, True),
        (Audience(team_id=7, member_id=42, max_age=28), JAN, False),
        (Audience(team_id=8, max_age=30), JAN, False),
    ],
)
def test_covers(audience: Audience, day: date, expected: bool) -> None:
    assert covers(audience, person(), day) is expected


def test_a_birthday_on_29_february_counts_from_1_march() -> None:
    born_on_29 = person(birth=date(1996, 2, 29))

    assert covers(Audience(min_age=30), born_on_29, date(2026, 2, 28)) is False
    assert covers(Audience(min_age=30), born_on_29, date(2026, 3, 1)) is True
    assert covers(Audience(max_age=29), born_on_29, date(2026, 2, 28)) is True


@pytest.mark.parametrize(
    "audience",
    [
        Audience(min_age=18),
        Audience(max_age=120),
        Audience(min_age=0, max_age=200),
    ],
)
def test_a_missing_birth_date_never_matches_an_age_condition(
    audience: Audience,
) -> None:
    assert covers(audience, person(birth=None), JAN) is False
    assert covers(Audience(), person(birth=None), JAN) is True


def test_missing_team_hire_date_or_preference_never_matches_that_condition() -> None:
    assert covers(Audience(team_id=7), person(team_id=None), JAN) is False
    assert covers(Audience(min_tenure_days=0), person(hire=None), JAN) is False
    assert (
        covers(Audience(preference="TEAM_HONOR"), person(preference=None), JAN) is False
    )


@pytest.mark.parametrize(
    ("paid_through", "value", "expected"),
    [(0, "25", (1, 1)), (1, "25", None), (0, "5", None)],
)
def test_a_period_pays_at_most_max_steps(
    paid_through: int, value: str, expected: tuple[int, int] | None
) -> None:
    steps = inc.steps_reached(paid_through, Decimal(value), Decimal(10), most=1)

    assert (None if steps is None else (steps.first, steps.last)) == expected


def test_max_steps_is_a_whole_positive_number() -> None:
    parsed = inc.parse_rule("STEP", {"every": "600", "amount": "1", "maxSteps": 1})
    assert isinstance(parsed, inc.StepParams)
    assert parsed.max_steps == 1
    for bad in ("1.5", "0"):
        with pytest.raises(inc.RuleError) as caught:
            inc.parse_rule("STEP", {"every": "600", "amount": "1", "maxSteps": bad})
        assert caught.value.field == "maxSteps"


def test_an_appraisal_streak_grants_equity_after_three_excellent_years() -> None:
    parsed = inc.parse_rule(
        "APPRAISAL_STREAK",
        {"years": "3", "entitlement": {"kind": "EQUITY", "quantity": "1"}},
    )

    assert parsed == inc.AppraisalStreakParams(
        "EXCELLENT",
        3,
        inc.Entitlement(inc.EntitlementKind.EQUITY, Decimal(1), None),
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"years": "3"}, "entitlement"),
        (
            {"grade": "SUPERB", "entitlement": {"kind": "EQUITY", "quantity": "1"}},
            "grade",
        ),
        ({"years": "2.5", "entitlement": {"kind": "EQUITY", "quantity": "1"}}, "years"),
    ],
)
def test_an_appraisal_streak_refuses_what_it_cannot_use(
    params: dict[str, Any], field: str
) -> None:
    with pytest.raises(inc.RuleError) as caught:
        inc.parse_rule("APPRAISAL_STREAK", params)

    assert caught.value.field == field


def test_an_entitlement_title_may_come_in_other_languages() -> None:
    parsed = inc.parse_rule(
        "STEP",
        {
            "every": "10",
            "entitlement": {
                "kind": "HONOR_TITLE",
                "title": "Star",
                "titles": {"zh-CN": "之星"},
            },
        },
    )

    assert isinstance(parsed, inc.StepParams)
    assert parsed.entitlement is not None
    assert parsed.entitlement.titles == {"zh-CN": "之星"}
    assert inc.dump_entitlement(parsed.entitlement) == {
        "kind": "HONOR_TITLE",
        "title": "Star",
        "titles": {"zh-CN": "之星"},
    }
    with pytest.raises(inc.RuleError) as caught:
        inc.parse_rule(
            "STEP",
            {
                "every": "1",
                "entitlement": {
                    "kind": "PAID_LEAVE",
                    "quantity": "1",
                    "titles": {"zh-CN": "假"},
                },
            },
        )
    assert caught.value.field == "entitlement.titles"
