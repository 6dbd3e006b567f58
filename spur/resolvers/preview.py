"""Previewing a proposed plan version on the last days of real activity.

Before an HR admin saves a rule change, the last N days are replayed twice in
memory: under the plan as it stands, and under the plan with the proposed
version in force from the window's first day (winning over any version
that starts inside the window, since a saved change would be the newest).
The cash both pay is compared per member, per team and in total. Nothing
is written.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, NotFound
from spur.engine.periods import PeriodKind
from spur.models import (
    CASH_KINDS,
    Activity,
    Company,
    IncentivePlan,
    Member,
    MetricDefinition,
    PlanRule,
    PlanVersion,
    Team,
)
from spur.resolvers.plan_input import CheckedRule, RuleSpec, VersionSpec, check_version
from spur.resolvers.replay import History, Replay, load_history, replay_books
from spur.resolvers.rulebook import RuleBook, load_rulebook

logger = logging.getLogger(__name__)

MAX_DAYS = 90
# The proposed version's id: saved ids are positive, so its ledger keys
# ("rv-1:...") can never be taken for a stored line's.
PROPOSED_ID = -1


@dataclass(frozen=True)
class Proposal:
    """A version as addPlanVersion takes it, minus its dates."""

    plan_id: int
    days: int
    member_cap: Decimal | None
    cap_period: PeriodKind | None
    rules: tuple[RuleSpec, ...]


@dataclass(frozen=True)
class Cost:
    """Cash paid in the window under the plan now and as proposed."""

    current: Decimal = Decimal(0)
    proposed: Decimal = Decimal(0)

    @property
    def difference(self) -> Decimal:
        return self.proposed - self.current


@dataclass(frozen=True)
class Preview:
    """The window replayed, and what the proposal would change in it."""

    first: date
    end: date
    start: datetime
    finish: datetime
    activities: int
    currency: str
    total: Cost
    members: list[tuple[Member, Cost]]
    teams: list[tuple[Team, Cost]]


async def preview_version(viewer: Viewer, proposal: Proposal, now: datetime) -> Preview:
    """The cost of the last `days` days under the proposal against now.

    The proposal is checked exactly as addPlanVersion checks a version.
    """
    if not 1 <= proposal.days <= MAX_DAYS:
        raise BadUserInput(f"days must be 1 to {MAX_DAYS}.", field="days")
    plan = await _active_plan(viewer, proposal.plan_id)
    today = now.astimezone(viewer.timezone).date()
    metrics = await MetricDefinition.filter(company_id=viewer.company_id)
    checked = check_version(
        VersionSpec(
            effective_from=today,
            member_cap=proposal.member_cap,
            cap_period=proposal.cap_period,
            rules=proposal.rules,
        ),
        today,
        viewer.currency,
        {m.key: m for m in metrics},
    )

    first, end = today - timedelta(days=proposal.days - 1), today + timedelta(days=1)
    conn = Activity._meta.db
    company = await Company.get(id=viewer.company_id)
    book = await load_rulebook(conn, company.id, plan_ids=[plan.id])
    proposed = _with_proposal(book, plan, proposal, checked, first)
    history = await load_history(conn, company, [book, proposed], first, end)
    now_paid, then_paid = await replay_books(history, [book, proposed], now)

    logger.info(
        "plan %s previewed over %s days by member %s",
        plan.id,
        proposal.days,
        viewer.member_id,
    )
    return _compare(history, first, end, now_paid, then_paid)


async def _active_plan(viewer: Viewer, plan_id: int) -> IncentivePlan:
    plan = await IncentivePlan.get_or_none(id=plan_id, company_id=viewer.company_id)
    if plan is None:
        raise NotFound("No such incentive plan.", field="planId")
    if not plan.is_active:
        raise BadUserInput(
            "The plan is inactive: it pays nothing to compare with.", field="planId"
        )
    return plan


def _with_proposal(
    book: RuleBook,
    plan: IncentivePlan,
    proposal: Proposal,
    checked: Sequence[CheckedRule],
    first: date,
) -> RuleBook:
    """The book with the proposal in force from `first` on."""
    versions = book.versions.get(plan.id, [])
    version = PlanVersion(
        id=PROPOSED_ID,
        plan_id=plan.id,
        number=max((v.number for v in versions), default=0) + 1,
        effective_from=first,
        member_cap=proposal.member_cap,
        cap_period=proposal.cap_period,
    )
    rules = [
        PlanRule(
            id=PROPOSED_ID - rule.position,
            version_id=PROPOSED_ID,
            code=rule.spec.code,
            kind=rule.spec.kind,
            title=rule.title,
            titles=rule.titles,
            metric_id=rule.metric_id,
            period_kind=rule.spec.period_kind,
            params=rule.spec.params,
            position=rule.position,
        )
        for rule in checked
    ]
    earlier = [v for v in versions if v.effective_from < first]
    kept = RuleBook(
        book.plans, {**book.versions, plan.id: earlier}, book.rules, book.audiences
    )
    return kept.with_version(version, rules)


def _compare(
    history: History, first: date, end: date, now_paid: Replay, then_paid: Replay
) -> Preview:
    by_member: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
    by_team: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
    for side, paid in enumerate((now_paid, then_paid)):
        for exp in paid.expected:
            if exp.kind not in CASH_KINDS or exp.amount is None:
                continue
            by_member[exp.member_id][side] += exp.amount
            if exp.team_id is not None:
                by_team[exp.team_id][side] += exp.amount
    members = [(history.members[k], Cost(*v)) for k, v in by_member.items()]
    teams = [(history.teams[k], Cost(*v)) for k, v in by_team.items()]
    return Preview(
        first=first,
        end=end,
        start=history.first,
        finish=history.end,
        activities=now_paid.activities,
        currency=history.company.currency,
        total=Cost(
            *(sum((v[n] for v in by_member.values()), Decimal(0)) for n in (0, 1))
        ),
        members=sorted(members, key=lambda mc: (-mc[1].difference, mc[0].name)),
        teams=sorted(teams, key=lambda tc: (-tc[1].difference, tc[0].name)),
    )
