"""Small helpers shared by the API tests: ids, activity inputs, row counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from strawberry import relay
from tortoise.models import Model

from spur.models import (
    AchievementEvent,
    Activity,
    Goal,
    GoalProgress,
    LedgerEntry,
    MetricTotal,
)
from tests.api.conftest import document

GraphQL = Callable[..., Awaitable[dict[str, Any]]]
THIS_MORNING = "2026-12-04T09:00:00+08:00"
WRITTEN: tuple[type[Model], ...] = (
    Activity,
    MetricTotal,
    GoalProgress,
    LedgerEntry,
    AchievementEvent,
)


def global_id(type_name: str, node_id: object) -> str:
    """The Relay global id clients see for a row."""
    return str(relay.GlobalID(type_name, str(node_id)))


def goal_id(goal: Goal, start: date | None = None) -> str:
    """A Goal node id: the goal in the period starting on `start` (or current)."""
    node = f"{goal.id}@{start.isoformat()}" if start else str(goal.id)
    return global_id("Goal", node)


def follow_up(
    key: str, occurred_at: str = THIS_MORNING, **extra: Any
) -> dict[str, Any]:
    """A new-customer follow-up input with a unique (source, externalId)."""
    return {
        "kind": "CUSTOMER_FOLLOW_UP",
        "occurredAt": occurred_at,
        "newCustomer": True,
        "source": "crm",
        "externalId": key,
        **extra,
    }


def order(key: str, amount: str, currency: str = "CNY", **extra: Any) -> dict[str, Any]:
    """A closed order input."""
    return {
        "kind": "ORDER_CLOSED",
        "occurredAt": THIS_MORNING,
        "amount": amount,
        "currency": currency,
        "source": "erp",
        "externalId": key,
        **extra,
    }


async def record(gql: GraphQL, token: str, activity: dict[str, Any]) -> dict[str, Any]:
    """Run the client's RecordActivity document as written."""
    return await gql(document("RecordActivity"), {"input": activity}, token)


def recorded(body: dict[str, Any]) -> dict[str, Any]:
    """The recordActivity payload of a successful answer."""
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["recordActivity"]
    return payload


def error_codes(body: dict[str, Any]) -> list[str]:
    """The `extensions.code` of each error in an answer."""
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


async def row_counts() -> dict[str, int]:
    """How many rows every table an activity writes to holds."""
    return {model.__name__: await model.all().count() for model in WRITTEN}
