from decimal import Decimal
from typing import Any

import pytest

from spur.engine.incentives import (
    Band,
    CommissionParams,
    Entitlement,
    EntitlementKind,
    GoalCompletionParams,
    Override,
    RuleError,
    StepParams,
    TargetBonusParams,
    TeamMeasure,
    TeamThresholdParams,
    TierBasis,
    TierMode,
    Tiers,
    dump_entitlement,
    parse_rule,
)

BANDS = [
    {"from": "0", "to": "10000", "rate": "0.02"},
    {"from": "10000", "rate": "0.05"},
]


def refused(kind: str, params: Any) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_rule(kind, params)
    return caught.value


def test_commission_with_flat_rate_and_overrides() -> None:
    params = {
        "rate": "0.05",
        "overrides": [
            {"market": " sea ", "rate": "0.08"},
            {"category": " Phones ", "rate": "0.07"},
            {"market": "sea", "category": "Phones", "rate": "1"},
        ],
    }

    assert parse_rule("COMMISSION", params) == CommissionParams(
        rate=Decimal("0.05"),
        overrides=(
            Override("SEA", None, Decimal("0.08")),
            Override(None, "Phones", Decimal("0.07")),
            Override("SEA", "Phones", Decimal(1)),
        ),
        tiers=None,
    )


def test_commission_tiers_default_to_slab_per_order() -> None:
    parsed = parse_rule("COMMISSION", {"tiers": {"bands": BANDS}})

    assert parsed == CommissionParams(
        rate=None,
        overrides=(),
        tiers=Tiers(
            TierMode.SLAB,
            TierBasis.ORDER,
            (
                Band(Decimal(0), Decimal(10000), Decimal("0.02")),
                Band(Decimal(10000), None, Decimal("0.05")),
            ),
        ),
    )


def test_commission_tiers_marginal_per_period_with_json_integers() -> None:
    bands = [{"from": 0, "to": 500, "rate": "0"}, {"from": 500, "rate": "0.1"}]
    tiers = {"mode": "MARGINAL", "basis": "PERIOD", "bands": bands}

    parsed = parse_rule("COMMISSION", {"tiers": tiers})

    assert isinstance(parsed, CommissionParams)
    assert parsed.tiers is not None
    assert (parsed.tiers.mode, parsed.tiers.basis) == (
        TierMode.MARGINAL,
        TierBasis.PERIOD,
    )
    assert [b.label() for b in parsed.tiers.bands] == ["[0, 500)", "[500, ∞)"]


def test_one_open_band_is_enough() -> None:
    tiers = {"bands": [{"from": "0", "rate": "0.03"}]}

    parsed = parse_rule("COMMISSION", {"tiers": tiers})

    assert isinstance(parsed, CommissionParams)
    assert parsed.tiers is not None
    assert parsed.tiers.bands == (Band(Decimal(0), None, Decimal("0.03")),)


def test_the_same_category_may_differ_by_market() -> None:
    overrides = [
        {"market": "SEA", "category": "phones", "rate": "0.08"},
        {"market": "EU", "category": "phones", "rate": "0.06"},
        {"category": "phones", "rate": "0.04"},
    ]

    parsed = parse_rule("COMMISSION", {"rate": "0.01", "overrides": overrides})

    assert isinstance(parsed, CommissionParams)
    assert len(parsed.overrides) == 3


def test_step_with_fractional_every_and_an_entitlement() -> None:
    params = {
        "every": "2.5",
        "amount": "200.00",
        "entitlement": {"kind": "PAID_LEAVE", "quantity": "0.5"},
    }

    assert parse_rule("STEP", params) == StepParams(
        Decimal("2.5"),
        Decimal("200.00"),
        Entitlement(EntitlementKind.PAID_LEAVE, Decimal("0.5"), None),
    )


def test_goal_completion_may_pay_an_entitlement_only() -> None:
    params = {"entitlement": {"kind": "HONOR_TITLE", "title": "  Closer  "}}

    assert parse_rule("GOAL_COMPLETION", params) == GoalCompletionParams(
        None, Entitlement(EntitlementKind.HONOR_TITLE, None, "Closer")
    )
    assert parse_rule("GOAL_COMPLETION", {"amount": "88"}) == GoalCompletionParams(
        Decimal(88), None
    )


def test_target_bonus_with_and_without_a_fixed_target() -> None:
    params = {
        "share": "0.01",
        "target": "500000",
        "entitlement": {"kind": "HONOR_TITLE", "title": "Top seller"},
    }

    assert parse_rule("TARGET_BONUS", params) == TargetBonusParams(
        Decimal("0.01"),
        Decimal(500000),
        Entitlement(EntitlementKind.HONOR_TITLE, None, "Top seller"),
    )
    assert parse_rule("TARGET_BONUS", {"share": "0.02"}) == TargetBonusParams(
        Decimal("0.02"), None, None
    )


def test_team_threshold_defaults_to_a_total_and_an_hour() -> None:
    parsed = parse_rule("TEAM_THRESHOLD", {"threshold": "1000000", "amount": "5000"})

    assert parsed == TeamThresholdParams(
        TeamMeasure.TOTAL, Decimal(1000000), Decimal(60), Decimal(5000), None
    )


def test_team_upkeep_rate() -> None:
    params = {
        "measure": "UPKEEP_RATE",
        "threshold": "0.80",
        "minMinutes": "45",
        "entitlement": {"kind": "TRAINING", "title": "Live-stream coaching"},
    }

    assert parse_rule("TEAM_THRESHOLD", params) == TeamThresholdParams(
        TeamMeasure.UPKEEP_RATE,
        Decimal("0.80"),
        Decimal(45),
        None,
        Entitlement(EntitlementKind.TRAINING, Decimal(1), "Live-stream coaching"),
    )


@pytest.mark.parametrize(
    ("entitlement", "expected"),
    [
        ({"kind": "TRAINING", "title": "Negotiation"}, ("1", "Negotiation")),
        ({"kind": "LEAD_ALLOCATION"}, ("1", None)),
        ({"kind": "LEAD_ALLOCATION", "quantity": "20"}, ("20", None)),
        ({"kind": "PAID_LEAVE", "quantity": "1.5"}, ("1.5", None)),
        ({"kind": "EQUITY", "quantity": "100"}, ("100", None)),
        ({"kind": "EQUITY", "quantity": "0.25"}, ("0.25", None)),
        ({"kind": "PROMOTION", "title": "Senior rep"}, (None, "Senior rep")),
        ({"kind": "HONOR_TITLE", "title": "x" * 200}, (None, "x" * 200)),
    ],
)
def test_entitlements(
    entitlement: dict[str, str], expected: tuple[str | None, str | None]
) -> None:
    parsed = parse_rule("STEP", {"every": "10", "entitlement": entitlement})

    assert isinstance(parsed, StepParams)
    assert parsed.entitlement is not None
    quantity, title = expected
    assert parsed.entitlement.kind == EntitlementKind(entitlement["kind"])
    assert parsed.entitlement.quantity == (quantity and Decimal(quantity))
    assert parsed.entitlement.title == title
    dumped = {"kind": entitlement["kind"]}
    dumped |= {"quantity": quantity} if quantity else {}
    dumped |= {"title": title} if title else {}
    assert dump_entitlement(parsed.entitlement) == dumped


def test_a_dumped_entitlement_parses_back_to_itself() -> None:
    entitlement = Entitlement(EntitlementKind.PAID_LEAVE, Decimal("2.5"), "Rest")
    dumped = dump_entitlement(entitlement)

    parsed = parse_rule("GOAL_COMPLETION", {"entitlement": dumped})

    assert parsed == GoalCompletionParams(None, entitlement)
    assert dump_entitlement(None) is None


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("BONUS", {"rate": "0.05"}, "kind"),
        ("commission", {"rate": "0.05"}, "kind"),
        ("COMMISSION", ["rate"], "params"),
        # Floats (and booleans) are never money.
        ("COMMISSION", {"rate": 0.05}, "rate"),
        ("COMMISSION", {"rate": True}, "rate"),
        ("STEP", {"every": 10.0, "amount": "1"}, "every"),
        ("STEP", {"every": "10", "amount": 200.0}, "amount"),
        ("TARGET_BONUS", {"share": 0.01}, "share"),
        ("TARGET_BONUS", {"share": "0.01", "target": 5e5}, "target"),
        ("TEAM_THRESHOLD", {"threshold": 1e6, "amount": "1"}, "threshold"),
        ("GOAL_COMPLETION", {"amount": ["1"]}, "amount"),
        # Not a usable number.
        ("COMMISSION", {"rate": "five percent"}, "rate"),
        ("COMMISSION", {"rate": ""}, "rate"),
        ("COMMISSION", {"rate": "NaN"}, "rate"),
        ("GOAL_COMPLETION", {"amount": "Infinity"}, "amount"),
        ("GOAL_COMPLETION", {"amount": "1000000000000"}, "amount"),
        ("GOAL_COMPLETION", {"amount": "0.000000001"}, "amount"),
        ("COMMISSION", {"rate": "-0.01"}, "rate"),
        ("GOAL_COMPLETION", {"amount": "0"}, "amount"),
        ("STEP", {"every": "0", "amount": "1"}, "every"),
        ("STEP", {"every": "-10", "amount": "1"}, "every"),
        ("TARGET_BONUS", {"share": "0.01", "target": "0"}, "target"),
        ("TEAM_THRESHOLD", {"threshold": "0", "amount": "1"}, "threshold"),
        (
            "TEAM_THRESHOLD",
            {"threshold": "9", "amount": "1", "minMinutes": "0"},
            "minMinutes",
        ),
        # Shares above one.
        ("COMMISSION", {"rate": "1.01"}, "rate"),
        ("TARGET_BONUS", {"share": "2"}, "share"),
        (
            "TEAM_THRESHOLD",
            {"measure": "UPKEEP_RATE", "threshold": "1.2", "amount": "1"},
            "threshold",
        ),
        # Required settings.
        ("STEP", {"amount": "200"}, "every"),
        ("TARGET_BONUS", {"target": "500000"}, "share"),
        ("TEAM_THRESHOLD", {"amount": "1"}, "threshold"),
        ("TEAM_THRESHOLD", {"measure": "AVERAGE", "threshold": "9"}, "measure"),
        # Rules that pay nothing.
        ("STEP", {"every": "10"}, "amount"),
        ("GOAL_COMPLETION", {}, "amount"),
        ("TEAM_THRESHOLD", {"threshold": "1000000"}, "amount"),
        ("COMMISSION", {}, "rate"),
        ("COMMISSION", {"overrides": [{"market": "SEA", "rate": "0.08"}]}, "rate"),
        # Both a flat rate and tiers.
        ("COMMISSION", {"rate": "0.05", "tiers": {"bands": BANDS}}, "tiers"),
    ],
)
def test_refused_settings(kind: str, params: Any, field: str) -> None:
    assert refused(kind, params).field == field


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("COMMISSION", {"rate": "0.05", "rates": "0.06"}, "rates"),
        ("COMMISSION", {"rate": "0.05", "b": "1", "a": "1"}, "a"),
        ("STEP", {"every": "10", "amount": "1", "period": "MONTH"}, "period"),
        ("GOAL_COMPLETION", {"amount": "1", "amout": "2"}, "amout"),
        ("TARGET_BONUS", {"share": "0.01", "targets": "9"}, "targets"),
        (
            "TEAM_THRESHOLD",
            {"threshold": "9", "amount": "1", "min_minutes": "60"},
            "min_minutes",
        ),
        (
            "COMMISSION",
            {"rate": "0.05", "overrides": [{"market": "SEA", "rate": "0.1", "x": 1}]},
            "overrides.0.x",
        ),
        ("COMMISSION", {"tiers": {"bands": BANDS, "order": "ASC"}}, "tiers.order"),
        (
            "COMMISSION",
            {"tiers": {"bands": [{"from": "0", "rate": "0.1", "upto": "9"}]}},
            "tiers.bands.0.upto",
        ),
        (
            "STEP",
            {"every": "1", "entitlement": {"kind": "LEAD_ALLOCATION", "count": "3"}},
            "entitlement.count",
        ),
    ],
)
def test_unknown_settings_are_refused(kind: str, params: Any, field: str) -> None:
    error = refused(kind, params)

    assert error.field == field
    assert "unknown setting" in str(error)


def bands(*items: tuple[Any, Any, str]) -> dict[str, Any]:
    listed = [
        {"from": low, "rate": rate} | ({"to": high} if high else {})
        for low, high, rate in items
    ]
    return {"tiers": {"bands": listed}}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (bands(("100", None, "0.1")), "tiers.bands.0.from"),
        (bands(("0", "100", "0.1"), ("150", None, "0.2")), "tiers.bands.1.from"),
        (bands(("0", "100", "0.1"), ("50", None, "0.2")), "tiers.bands.1.from"),
        (bands(("0", None, "0.1"), ("100", None, "0.2")), "tiers.bands.0.to"),
        (bands(("0", "100", "0.1"), ("100", "200", "0.2")), "tiers.bands.1.to"),
        (bands(("0", "100", "0.1")), "tiers.bands.0.to"),
        (bands(("0", "0", "0.1"), ("0", None, "0.2")), "tiers.bands.0.to"),
        (
            bands(("0", "100", "0.1"), ("100", "50", "0.2"), ("50", None, "0.3")),
            "tiers.bands.1.to",
        ),
        (bands(("0", "100", "0.1"), ("100", None, "1.5")), "tiers.bands.1.rate"),
        (bands(("0", "100", "0.1"), ("100", None, 0.2)), "tiers.bands.1.rate"),
        ({"tiers": {"bands": [{"from": "0"}]}}, "tiers.bands.0.rate"),
        ({"tiers": {"bands": [{"rate": "0.1"}]}}, "tiers.bands.0.from"),
        ({"tiers": {"bands": ["0.1"]}}, "tiers.bands.0"),
        ({"tiers": {"bands": []}}, "tiers.bands"),
        ({"tiers": {"bands": {"from": "0", "rate": "0.1"}}}, "tiers.bands"),
        ({"tiers": {"mode": "SLAB"}}, "tiers.bands"),
        ({"tiers": {"mode": "STEPPED", "bands": BANDS}}, "tiers.mode"),
        ({"tiers": {"basis": "MONTH", "bands": BANDS}}, "tiers.basis"),
        ({"tiers": BANDS}, "tiers"),
    ],
)
def test_refused_bands(params: dict[str, Any], field: str) -> None:
    assert refused("COMMISSION", params).field == field


def test_at_most_fifty_bands() -> None:
    listed = [{"from": str(n), "to": str(n + 1), "rate": "0.01"} for n in range(50)]
    listed[-1].pop("to")

    assert parse_rule("COMMISSION", {"tiers": {"bands": listed}})
    listed[-1]["to"] = "50"
    listed.append({"from": "50", "rate": "0.01"})
    assert refused("COMMISSION", {"tiers": {"bands": listed}}).field == "tiers.bands"


def with_overrides(overrides: Any) -> dict[str, Any]:
    return {"rate": "0.05", "overrides": overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            [{"market": "SEA", "rate": "0.08"}, {"market": "sea", "rate": "0.09"}],
            "overrides",
        ),
        (
            [
                {"category": "Phones", "rate": "0.08"},
                {"category": "PHONES", "rate": "0"},
            ],
            "overrides",
        ),
        (
            [
                {"market": "SEA", "category": "phones", "rate": "0.08"},
                {"market": "Sea", "category": " Phones", "rate": "0.09"},
            ],
            "overrides",
        ),
        ([{"rate": "0.08"}], "overrides.0"),
        ([{"market": "SEA"}], "overrides.0.rate"),
        ([{"market": "SEA", "rate": "1.1"}], "overrides.0.rate"),
        ([{"market": "SEA", "rate": 0.08}], "overrides.0.rate"),
        ([{"market": "  ", "rate": "0.08"}], "overrides.0.market"),
        ([{"market": 7, "rate": "0.08"}], "overrides.0.market"),
        ([{"category": "c" * 201, "rate": "0.08"}], "overrides.0.category"),
        ([{"market": "SEA", "rate": "0.08"}, "EU"], "overrides.1"),
        ({"market": "SEA", "rate": "0.08"}, "overrides"),
        ({}, "overrides"),
        ("SEA", "overrides"),
        (0, "overrides"),
        ([{"market": f"M{n}", "rate": "0.01"} for n in range(101)], "overrides"),
    ],
)
def test_refused_overrides(overrides: Any, field: str) -> None:
    assert refused("COMMISSION", with_overrides(overrides)).field == field


def test_missing_or_null_overrides_mean_none() -> None:
    for params in ({"rate": "0.05"}, with_overrides(None), with_overrides([])):
        parsed = parse_rule("COMMISSION", params)
        assert isinstance(parsed, CommissionParams)
        assert parsed.overrides == ()


@pytest.mark.parametrize(
    ("entitlement", "field"),
    [
        ("TRAINING", "entitlement"),
        ({}, "entitlement.kind"),
        ({"kind": "CAR"}, "entitlement.kind"),
        ({"kind": "training", "title": "x"}, "entitlement.kind"),
        ({"kind": "PAID_LEAVE"}, "entitlement.quantity"),
        ({"kind": "PAID_LEAVE", "quantity": "0"}, "entitlement.quantity"),
        ({"kind": "PAID_LEAVE", "quantity": 1.5}, "entitlement.quantity"),
        ({"kind": "EQUITY"}, "entitlement.quantity"),
        ({"kind": "EQUITY", "quantity": "100.01"}, "entitlement.quantity"),
        ({"kind": "TRAINING", "quantity": "1.5", "title": "x"}, "entitlement.quantity"),
        ({"kind": "LEAD_ALLOCATION", "quantity": "2.5"}, "entitlement.quantity"),
        ({"kind": "TRAINING"}, "entitlement.title"),
        ({"kind": "HONOR_TITLE"}, "entitlement.title"),
        ({"kind": "HONOR_TITLE", "title": " "}, "entitlement.title"),
        ({"kind": "PROMOTION", "quantity": "1"}, "entitlement.title"),
        ({"kind": "PROMOTION", "title": "t" * 201}, "entitlement.title"),
    ],
)
def test_refused_entitlements(entitlement: Any, field: str) -> None:
    for kind, params in [
        ("STEP", {"every": "10"}),
        ("GOAL_COMPLETION", {}),
        ("TARGET_BONUS", {"share": "0.01"}),
        ("TEAM_THRESHOLD", {"threshold": "9"}),
    ]:
        assert refused(kind, params | {"entitlement": entitlement}).field == field
