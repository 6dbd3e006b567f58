from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine.metrics import (
    ActivityFacts,
    ActivityKind,
    Aggregation,
    MetricSpec,
    contribution,
    contributions,
    matches,
)

ORDER = ActivityFacts(
    kind=ActivityKind.ORDER_CLOSED,
    quantity=Decimal(3),
    amount=Decimal("12500.00"),
    market="Germany",
    product_category="LED Lighting",
    new_customer=True,
    response_minutes=None,
    rating=None,
)

REPLY = ActivityFacts(
    kind=ActivityKind.INQUIRY_REPLIED,
    quantity=Decimal(1),
    amount=None,
    market="Brazil",
    product_category=None,
    new_customer=None,
    response_minutes=30,
    rating=None,
)

SESSION = ActivityFacts(
    kind=ActivityKind.PLATFORM_SESSION,
    quantity=Decimal(45),
    amount=None,
    market=None,
    product_category=None,
    new_customer=None,
    response_minutes=None,
    rating=None,
)


def spec(
    kind: ActivityKind = ActivityKind.ORDER_CLOSED,
    aggregation: Aggregation = Aggregation.COUNT,
    *,
    market: str | None = None,
    product_category: str | None = None,
    new_customer: bool | None = None,
    reply_within_minutes: int | None = None,
) -> MetricSpec:
    return MetricSpec(
        key="metric",
        activity_kind=kind,
        aggregation=aggregation,
        market=market,
        product_category=product_category,
        new_customer=new_customer,
        reply_within_minutes=reply_within_minutes,
    )


# Filters


def test_spec_without_filters_matches_its_kind() -> None:
    assert matches(spec(), ORDER)


def test_wrong_kind_does_not_match() -> None:
    assert not matches(spec(ActivityKind.CUSTOMER_FOLLOW_UP), ORDER)
    assert contribution(spec(ActivityKind.CUSTOMER_FOLLOW_UP), ORDER) == 0


@pytest.mark.parametrize("market", ["Germany", "germany", "GERMANY"])
def test_market_compares_case_insensitively(market: str) -> None:
    assert matches(spec(market=market), ORDER)


def test_other_market_does_not_match() -> None:
    assert not matches(spec(market="France"), ORDER)


def test_market_filter_needs_a_market() -> None:
    assert not matches(spec(market="Germany"), replace(ORDER, market=None))


def test_product_category_filter() -> None:
    assert matches(spec(product_category="led lighting"), ORDER)
    assert not matches(spec(product_category="Textiles"), ORDER)
    assert not matches(
        spec(product_category="Textiles"), replace(ORDER, product_category=None)
    )


def test_new_customer_filter() -> None:
    assert matches(spec(new_customer=True), ORDER)
    assert not matches(spec(new_customer=False), ORDER)
    assert matches(spec(new_customer=False), replace(ORDER, new_customer=False))
    assert not matches(spec(new_customer=True), replace(ORDER, new_customer=None))
    assert not matches(spec(new_customer=False), replace(ORDER, new_customer=None))


def test_reply_within_n_minutes_at_n_and_n_plus_one() -> None:
    within_30 = spec(ActivityKind.INQUIRY_REPLIED, reply_within_minutes=30)
    assert matches(within_30, REPLY)
    assert not matches(within_30, replace(REPLY, response_minutes=31))
    assert matches(within_30, replace(REPLY, response_minutes=0))


def test_reply_filter_needs_a_response_time() -> None:
    within_30 = spec(ActivityKind.INQUIRY_REPLIED, reply_within_minutes=30)
    assert not matches(within_30, replace(REPLY, response_minutes=None))


def test_all_filters_must_hold() -> None:
    strict = spec(market="germany", product_category="LED lighting", new_customer=True)
    assert matches(strict, ORDER)
    assert not matches(replace(strict, market="Spain"), ORDER)


# Contributions


def test_count_adds_one_per_activity() -> None:
    assert contribution(spec(), ORDER) == Decimal(1)


def test_sum_quantity_adds_the_quantity() -> None:
    assert contribution(spec(aggregation=Aggregation.SUM_QUANTITY), ORDER) == 3


def test_session_minutes_are_summed_as_quantity() -> None:
    minutes = spec(ActivityKind.PLATFORM_SESSION, Aggregation.SUM_QUANTITY)
    assert contribution(minutes, SESSION) == 45


def test_sum_amount_adds_the_amount() -> None:
    revenue = spec(aggregation=Aggregation.SUM_AMOUNT)
    assert contribution(revenue, ORDER) == Decimal("12500.00")


def test_sum_amount_without_an_amount_adds_zero() -> None:
    revenue = spec(aggregation=Aggregation.SUM_AMOUNT)
    assert contribution(revenue, replace(ORDER, amount=None)) == 0


def test_non_matching_activity_contributes_zero_for_every_aggregation() -> None:
    for aggregation in Aggregation:
        assert contribution(spec(aggregation=aggregation, market="Peru"), ORDER) == 0


def test_contributions_keeps_only_matching_non_zero_metrics() -> None:
    specs = [
        MetricSpec("orders", ActivityKind.ORDER_CLOSED, Aggregation.COUNT),
        MetricSpec("revenue", ActivityKind.ORDER_CLOSED, Aggregation.SUM_AMOUNT),
        MetricSpec(
            "de_orders", ActivityKind.ORDER_CLOSED, Aggregation.COUNT, market="DE"
        ),
        MetricSpec("replies", ActivityKind.INQUIRY_REPLIED, Aggregation.COUNT),
        MetricSpec("zero", ActivityKind.ORDER_CLOSED, Aggregation.SUM_AMOUNT),
    ]
    assert contributions(specs[:4], ORDER) == {
        "orders": Decimal(1),
        "revenue": Decimal("12500.00"),
    }
    assert contributions(specs[4:], replace(ORDER, amount=Decimal(0))) == {}


def test_contributions_refuses_duplicate_keys() -> None:
    twice = [spec(), spec(aggregation=Aggregation.SUM_AMOUNT)]
    with pytest.raises(ValueError, match="duplicate metric key"):
        contributions(twice, ORDER)


@given(
    kind=st.sampled_from(ActivityKind),
    aggregation=st.sampled_from(Aggregation),
    quantity=st.decimals(min_value=0, max_value=10_000, places=2),
    amount=st.none() | st.decimals(min_value=0, max_value=10**9, places=2),
)
def test_contribution_is_never_negative(
    kind: ActivityKind,
    aggregation: Aggregation,
    quantity: Decimal,
    amount: Decimal | None,
) -> None:
    facts = replace(ORDER, kind=kind, quantity=quantity, amount=amount)
    value = contribution(spec(kind, aggregation), facts)
    assert value >= 0
    assert contributions([spec(kind, aggregation)], facts) == (
        {"metric": value} if value else {}
    )
