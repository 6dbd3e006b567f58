"""Appraisal worlds for API tests: metrics, stored totals, and the mutations
that take an appraisal from a template to FINALIZED, as clients send them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import PeriodKind
from spur.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalScore,
    AppraisalTemplate,
    Company,
    EntryCause,
    LedgerEntry,
    Member,
    MetricDefinition,
    MetricTotal,
    RewardKind,
    RewardStatus,
)
from tests.api.conftest import NOW
from tests.api.helpers import GraphQL, global_id
from tests.factories import World

Q4 = date(2026, 10, 1)
WORKING_DAYS_Q4 = 66  # Monday to Friday, 2026-10-01 to 2026-12-31

TEMPLATE = """mutation($input: CreateAppraisalTemplateInput!) {
  createAppraisalTemplate(input: $input) { template { id name } } }"""
OPEN = """mutation($input: OpenAppraisalCycleInput!) {
  openAppraisalCycle(input: $input) { cycle { id name status } appraisals } }"""
START = """mutation($input: StartSelfReviewsInput!) {
  startSelfReviews(input: $input) { started cycle { id } } }"""
SELF = """mutation($input: SubmitSelfReviewInput!) {
  submitSelfReview(input: $input) { appraisal { id status selfComment } } }"""
REVIEW = """mutation($input: ReviewAppraisalInput!) {
  reviewAppraisal(input: $input) { appraisal { id status managerComment } } }"""
FINALIZE = """mutation($input: FinalizeAppraisalInput!) {
  finalizeAppraisal(input: $input) {
    appraisal { id status score grade bonusMultiplier processScore resultScore
      finalizedAt version isCurrent }
    rewards { id kind title amount { amount currency } quantity status cause
      reversesId inputs { name value } }
  }
}"""
CORRECT = """mutation($input: CorrectAppraisalInput!) {
  correctAppraisal(input: $input) {
    appraisal { id version status isCurrent correctionReason supersedes { id } }
  }
}"""
APPRAISAL = """query($id: ID!) { node(id: $id) { ... on Appraisal {
  id version isCurrent status score grade bonusMultiplier processScore resultScore
  selfComment managerComment correctionReason finalizedAt
  cycle { id name periodKind status period { label } }
  member { id name }
  scores { dimension code kind weight value selfScore score applies comment }
  rewards { id kind amount { amount } status }
} } }"""

RATED = {"code": "overall", "name": "Overall", "kind": "RATED", "weight": "1"}


@dataclass(frozen=True)
class Metrics:
    """The metric definitions a measured template reads."""

    platform_minutes: MetricDefinition
    inquiries: MetricDefinition
    replies: MetricDefinition
    reply_minutes: MetricDefinition
    sales: MetricDefinition


async def metrics(world: World) -> Metrics:
    async def define(key: str, kind: ActivityKind, agg: Aggregation) -> Any:
        return await MetricDefinition.create(
            company=world.company,
            key=key,
            name=key.replace("_", " ").title(),
            activity_kind=kind,
            aggregation=agg,
        )

    return Metrics(
        platform_minutes=await define(
            "platform_minutes", ActivityKind.PLATFORM_SESSION, Aggregation.SUM_QUANTITY
        ),
        inquiries=await define(
            "inquiries", ActivityKind.INQUIRY_RECEIVED, Aggregation.COUNT
        ),
        replies=await define(
            "replies", ActivityKind.INQUIRY_REPLIED, Aggregation.COUNT
        ),
        reply_minutes=await define(
            "reply_minutes", ActivityKind.INQUIRY_REPLIED, Aggregation.SUM_REPLY_MIN
        ),
        sales=world.sales,
    )


async def totals(
    company: Company,
    member: Member,
    values: dict[MetricDefinition, str],
    kind: PeriodKind = PeriodKind.QUARTER,
    start: date = Q4,
) -> None:
    """The member's stored totals of a period, as recorded activity leaves them."""
    for metric, value in values.items():
        await MetricTotal.create(
            company=company,
            metric=metric,
            scope="member",
            member=member,
            subject_id=member.id,
            period_kind=kind,
            period_start=start,
            value=Decimal(value),
        )


def measured_dimensions() -> list[dict[str, Any]]:
    """Platform hours a working day (0.2), sales (0.3), reply rate (0.5)."""
    return [
        {
            "code": "hours",
            "name": "Platform hours",
            "titles": [{"language": "zh-CN", "text": "平台时长"}],
            "kind": "PROCESS",
            "weight": "0.2",
            "metric": "platform_minutes",
            "divisor": "60",
            "perWorkingDay": True,
            "scale": {"target": "4"},
        },
        {
            "code": "sales",
            "name": "Sales",
            "kind": "RESULT",
            "weight": "0.3",
            "metric": "sales_amount",
            "scale": {"points": [["0", "0"], ["100000", "60"], ["300000", "100"]]},
        },
        {
            "code": "reply_rate",
            "name": "Inquiry reply rate",
            "kind": "PROCESS",
            "weight": "0.5",
            "metric": "replies",
            "perMetric": "inquiries",
            "scale": {"target": "0.95"},
        },
    ]


def answer(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


async def template(
    gql: GraphQL, token: str, dimensions: list[dict[str, Any]], **extra: Any
) -> str:
    spec = {"name": "Quarterly", "dimensions": dimensions, **extra}
    body = await gql(TEMPLATE, {"input": spec}, token)
    return str(answer(body, "createAppraisalTemplate")["template"]["id"])


async def open_cycle(
    gql: GraphQL,
    token: str,
    template_id: str,
    members: list[Member],
    name: str = "2026-Q4 appraisal",
    **extra: Any,
) -> str:
    spec = {
        "templateId": template_id,
        "name": name,
        "periodStart": Q4.isoformat(),
        "memberIds": [global_id("Member", m.id) for m in members],
        **extra,
    }
    body = await gql(OPEN, {"input": spec}, token)
    return str(answer(body, "openAppraisalCycle")["cycle"]["id"])


async def start(gql: GraphQL, token: str, cycle_id: str) -> int:
    body = await gql(START, {"input": {"cycleId": cycle_id}}, token)
    return int(answer(body, "startSelfReviews")["started"])


async def appraisal_of(member: Member, version: int = 1) -> str:
    """The global id of the member's appraisal (of the latest cycle)."""
    row = (
        await Appraisal.filter(member_id=member.id, version=version)
        .order_by("-cycle_id")
        .first()
    )
    assert row is not None
    return global_id("Appraisal", row.id)


def rating(code: str, score: float, comment: str | None = None) -> dict[str, Any]:
    return {"dimension": code, "score": score, "comment": comment}


async def submit(
    gql: GraphQL,
    token: str,
    appraisal: str,
    ratings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec = {
        "appraisalId": appraisal,
        "ratings": ratings or [],
        "comment": "A good year",
    }
    return await gql(SELF, {"input": spec}, token)


async def review(
    gql: GraphQL, token: str, appraisal: str, ratings: list[dict[str, Any]]
) -> dict[str, Any]:
    spec = {"appraisalId": appraisal, "ratings": ratings, "comment": "Well done"}
    return await gql(REVIEW, {"input": spec}, token)


async def finalize(gql: GraphQL, token: str, appraisal: str) -> dict[str, Any]:
    return await gql(FINALIZE, {"input": {"appraisalId": appraisal}}, token)


async def correct(
    gql: GraphQL, token: str, appraisal: str, reason: str = "Wrong rating"
) -> dict[str, Any]:
    spec = {"appraisalId": appraisal, "reason": reason}
    return await gql(CORRECT, {"input": spec}, token)


@dataclass(frozen=True)
class Tokens:
    hr: str
    manager: str
    seller: str


async def tokens(login: Any) -> Tokens:
    return Tokens(
        hr=await login("hr@example.com"),
        manager=await login("manager@example.com"),
        seller=await login("seller@example.com"),
    )


async def rated_cycle(
    gql: GraphQL,
    tokens: Tokens,
    members: list[Member],
    name: str = "2026-Q4 appraisal",
    cycle: dict[str, Any] | None = None,
    **template_extra: Any,
) -> str:
    """A one-dimension rated template and a cycle for `members`, in self review."""
    found = await template(
        gql, tokens.hr, [RATED], name=f"Rated {name}", **template_extra
    )
    opened = await open_cycle(
        gql, tokens.hr, found, members, name=name, **(cycle or {})
    )
    await start(gql, tokens.hr, opened)
    return opened


async def to_manager_review(gql: GraphQL, tokens: Tokens, appraisal: str) -> None:
    answer(await submit(gql, tokens.seller, appraisal), "submitSelfReview")


async def finalized(
    gql: GraphQL, tokens: Tokens, appraisal: str, score: float
) -> dict[str, Any]:
    """Rate the single rated dimension and finalise; the payload."""
    answer(
        await review(gql, tokens.manager, appraisal, [rating("overall", score)]),
        "reviewAppraisal",
    )
    result: dict[str, Any] = answer(
        await finalize(gql, tokens.manager, appraisal), "finalizeAppraisal"
    )
    return result


async def stored_appraisals(
    world: World, member: Member, count: int
) -> list[Appraisal]:
    """`count` finalised quarterly appraisals of `member`, written straight to
    the models (newest quarter last): a rated and a measured dimension each,
    and a bonus line naming the appraisal."""
    tmpl = await AppraisalTemplate.create(
        company=world.company, name=f"Stored {member.id}", bonus_base=Decimal(1000)
    )
    rated = await AppraisalDimension.create(
        template=tmpl, code="overall", name="Overall", kind="RATED", weight=1
    )
    measured = await AppraisalDimension.create(
        template=tmpl,
        code="sales",
        name="Sales",
        titles={"zh-CN": "销售额"},
        kind="RESULT",
        weight=3,
        metric=world.sales,
        scale={"target": "100000"},
        position=1,
    )
    # Quarter starts back from 2026-Q4, oldest first.
    back = [divmod(4 * 2026 + 3 - k, 4) for k in range(count)]
    starts = [date(year, 1 + 3 * quarter, 1) for year, quarter in reversed(back)]
    return [
        await _stored(world, member, tmpl, (rated, measured), start) for start in starts
    ]


async def _stored(
    world: World,
    member: Member,
    tmpl: AppraisalTemplate,
    dims: tuple[AppraisalDimension, AppraisalDimension],
    start: date,
) -> Appraisal:
    cycle = await AppraisalCycle.create(
        company=world.company,
        template=tmpl,
        name=f"{start.isoformat()} appraisal {member.id}",
        period_kind=PeriodKind.QUARTER,
        period_start=start,
    )
    row = await Appraisal.create(
        company=world.company,
        cycle=cycle,
        member=member,
        status="FINALIZED",
        score=Decimal("85.5"),
        grade="GOOD",
        bonus_multiplier=Decimal(1),
        finalized_at=NOW,
    )
    await AppraisalScore.create(appraisal=row, dimension=dims[0], score=Decimal(90))
    await AppraisalScore.create(
        appraisal=row,
        dimension=dims[1],
        value=Decimal(84000),
        score=Decimal("84.00"),
    )
    await LedgerEntry.create(
        company=world.company,
        member=member,
        key=f"stored:{row.id}",
        kind=RewardKind.CASH,
        title="Performance bonus",
        amount=Decimal(1000),
        currency="CNY",
        status=RewardStatus.APPROVED,
        rule_ref=f"appraisal:{row.id}",
        cause=EntryCause.APPRAISAL,
        appraisal=row,
        earned_at=NOW,
    )
    return row
