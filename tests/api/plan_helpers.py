"""Documents and inputs shared by the tests of plan administration."""

from __future__ import annotations

from typing import Any

from spur.models import (
    ExchangeRate,
    IncentivePlan,
    MetricDefinition,
    PlanAssignment,
    PlanRule,
    PlanVersion,
)
from tests.api.helpers import GraphQL

PLAN_FIELDS = """
  id name title description isActive budgetPeriod
  titles { language text }
  approvalThreshold { amount currency }
  budget { amount currency }
  currentVersion { number }
  versions {
    id number effectiveFrom effectiveUntil capPeriod note createdBy
    memberCap { amount currency }
    rules { id code kind title metric periodKind params }
  }
  assignments {
    id minAge maxAge minTenureDays maxTenureDays preference
    team { id } member { id }
  }
"""
CREATE_PLAN = f"""
mutation($input: CreatePlanInput!) {{
  createPlan(input: $input) {{ plan {{ {PLAN_FIELDS} }} }}
}}
"""
UPDATE_PLAN = f"""
mutation($input: UpdatePlanInput!) {{
  updatePlan(input: $input) {{ plan {{ {PLAN_FIELDS} }} }}
}}
"""
ADD_VERSION = """
mutation($input: AddPlanVersionInput!) {
  addPlanVersion(input: $input) {
    version { id number effectiveFrom rules { code params } }
    plan { versions { number } currentVersion { number } }
  }
}
"""
ASSIGN = """
mutation($input: AssignPlanInput!) {
  assignPlan(input: $input) {
    assignment { id minAge maxAge preference team { id } member { id } }
    plan { id assignments { id } }
  }
}
"""
UNASSIGN = """
mutation($input: RemovePlanAssignmentInput!) {
  removePlanAssignment(input: $input) { removedId plan { assignments { id } } }
}
"""
PLANS = """
query($first: Int, $after: String, $active: Boolean) {
  plans(first: $first, after: $after, active: $active) {
    edges { cursor node { id name isActive } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MY_PLANS = "{ myPlans { id name title currentVersion { number } } }"
NODE = "query($id: ID!) { node(id: $id) { id __typename } }"
PLAN_TABLES = (IncentivePlan, PlanVersion, PlanRule, PlanAssignment)
ALL_TABLES = (*PLAN_TABLES, ExchangeRate, MetricDefinition)


def commission(code: str = "base", **extra: Any) -> dict[str, Any]:
    """A 5% commission on every order."""
    return {
        "code": code,
        "kind": "COMMISSION",
        "title": "Commission",
        "params": {"rate": "0.05"},
        **extra,
    }


def step(code: str = "replies", **extra: Any) -> dict[str, Any]:
    """200.00 for every 10 new-customer follow-ups in a week."""
    return {
        "code": code,
        "kind": "STEP",
        "title": "Follow-up steps",
        "titles": [{"language": "zh-CN", "text": "跟进阶梯"}],
        "metric": "new_customer_follow_ups",
        "periodKind": "WEEK",
        "params": {"every": "10", "amount": "200.00"},
        **extra,
    }


def new_plan(name: str = "Young sellers", **extra: Any) -> dict[str, Any]:
    """A createPlan input starting today (2026-12-04) with two rules."""
    version = {
        "effectiveFrom": "2026-12-04",
        "note": "First rules",
        "rules": [commission(), step()],
        **extra.pop("version", {}),
    }
    return {
        "name": name,
        "titles": [{"language": "zh-CN", "text": "年轻销售"}],
        "description": "Staff aged 30 or under",
        "approvalThreshold": "1000.00",
        "firstVersion": version,
        **extra,
    }


async def create_plan(
    gql: GraphQL, token: str, plan: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The plan created through the API, as createPlan returns it."""
    body = await gql(CREATE_PLAN, {"input": plan or new_plan()}, token)
    assert "errors" not in body, body
    created: dict[str, Any] = body["data"]["createPlan"]["plan"]
    return created


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The extensions of the single error an answer carries."""
    assert body.get("data") in (None, {}) or all(
        value is None for value in body["data"].values()
    ), body
    assert len(body.get("errors", [])) == 1, body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    return extensions


async def counts() -> dict[str, int]:
    """Rows in every table plan administration writes to."""
    return {model.__name__: await model.all().count() for model in ALL_TABLES}
