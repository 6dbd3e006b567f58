"""Preference surveys and profiles: who wants what, per segment.

`submit_survey` stores a member's ranking with its date and makes its first
choice their stated preference (which plan assignments by preference read).
`profiles` reads the members the viewer may see (HR: the company, a manager:
their teams), their latest surveys and, for those who never answered, the
rewards they earned over a window (an analytics read, never on the hot
path), and hands them to `spur.engine.preferences`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tortoise import connections
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Forbidden, NotFound
from spur.api.services import Services
from spur.engine import incentives as inc
from spur.engine import preferences as prefs
from spur.engine.periods import PeriodKind, period_starting
from spur.engine.preferences import Family, Segment
from spur.models import (
    EntryCause,
    IncentivePlan,
    IncentivePreference,
    LedgerEntry,
    Member,
    PreferenceSurvey,
    RewardStatus,
    Role,
    Team,
)
from spur.resolvers.rulebook import RuleBook, load_rulebook, person_of

MAX_WINDOW_DAYS = 366
PROFILED = (Role.SALESPERSON, Role.MANAGER)


async def submit_survey(
    services: Services, viewer: Viewer, ranking: Sequence[IncentivePreference]
) -> PreferenceSurvey:
    """Store the viewer's answer; its first choice becomes their preference."""
    try:
        checked = prefs.check_ranking([choice.value for choice in ranking])
    except ValueError as error:
        raise BadUserInput(f"ranking: {error}.", field="ranking") from error
    now = services.clock()
    async with in_transaction() as conn:
        survey = await PreferenceSurvey.create(
            using_db=conn,
            company_id=viewer.company_id,
            member_id=viewer.member_id,
            ranking=[family.value for family in checked],
            answered_on=now.astimezone(viewer.timezone).date(),
            submitted_at=now,
        )
        await (
            Member.filter(id=viewer.member_id)
            .using_db(conn)
            .update(incentive_preference=IncentivePreference(checked[0].value))
        )
    return survey


async def latest_survey(member_id: int) -> PreferenceSurvey | None:
    """A member's latest answer, if any."""
    return (
        await PreferenceSurvey.filter(member_id=member_id)
        .order_by("-submitted_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class PlanBeside:
    """A plan some of a segment's members are on, and what its rules offer."""

    plan: IncentivePlan
    members: int
    offered: dict[Family, Decimal]


@dataclass(frozen=True)
class Profile:
    """One segment: shares, the recommended mix and the plans it is on."""

    shares: prefs.SegmentShares
    recommended: dict[Family, Decimal]
    plans: list[PlanBeside]
    today: date
    days: int


async def profiles(
    viewer: Viewer, today: date, days: int, team_id: int | None
) -> dict[Segment, Profile]:
    """Every segment's profile among the members the viewer may see."""
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise BadUserInput(f"days must be 1 to {MAX_WINDOW_DAYS}.", field="days")
    members = await _members(viewer, team_id)
    answers = await _answers(members, today, days, viewer)
    book = await load_rulebook(connections.get("default"), viewer.company_id)
    found: dict[Segment, Profile] = {}
    for segment in Segment:
        shares = prefs.shares(answers, segment)
        mine = [
            m for m, a in zip(members, answers, strict=True) if a.segment is segment
        ]
        found[segment] = Profile(
            shares,
            prefs.recommended_mix(shares),
            _beside(book, mine, today),
            today,
            days,
        )
    return found


async def _members(viewer: Viewer, team_id: int | None) -> list[Member]:
    query = Member.filter(
        company_id=viewer.company_id, is_active=True, role__in=list(PROFILED)
    )
    if team_id is not None:
        team = await Team.get_or_none(id=team_id, company_id=viewer.company_id)
        if team is None:
            raise NotFound("No such team.")
        if not viewer.can_watch_team(team.id):
            raise Forbidden("Only the team's managers and HR read its preferences.")
        query = query.filter(team_id=team.id)
    elif not viewer.is_hr_admin:
        query = query.filter(team_id__in=sorted(viewer.managed_team_ids))
    return list(await query.order_by("id"))


async def _answers(
    members: Sequence[Member], today: date, days: int, viewer: Viewer
) -> list[prefs.Answer]:
    ids = [m.id for m in members]
    stated = await _stated(ids)
    chased = await _chased(ids, today, days, viewer)
    found: list[prefs.Answer] = []
    for member in members:
        segment = prefs.segment_of(member.birth_date, today)
        said = stated.get(member.id) or _profile_choice(member)
        if said is not None:
            found.append(prefs.Answer(member.id, segment, said, prefs.Source.STATED))
            continue
        guess = prefs.inferred(chased.get(member.id, []))
        source = prefs.Source.INFERRED if guess else None
        found.append(prefs.Answer(member.id, segment, guess, source))
    return found


def _profile_choice(member: Member) -> Family | None:
    choice = member.incentive_preference
    return Family(choice.value) if choice is not None else None


async def _stated(member_ids: list[int]) -> dict[int, Family]:
    """Each member's latest survey answer, first choice (one query)."""
    if not member_ids:
        return {}
    rows = await PreferenceSurvey.filter(member_id__in=member_ids).order_by(
        "submitted_at", "id"
    )
    return {row.member_id: Family(row.ranking[0]) for row in rows if row.ranking}


async def _chased(
    member_ids: list[int], today: date, days: int, viewer: Viewer
) -> dict[int, list[prefs.Chased]]:
    """What each member earned in the window, as inference reads it."""
    if not member_ids:
        return {}
    tz = viewer.timezone
    since = period_starting(PeriodKind.DAY, today - timedelta(days=days), tz).start
    rows = await LedgerEntry.filter(
        member_id__in=member_ids,
        cause=EntryCause.EARNED,
        earned_at__gte=since,
        status__in=[RewardStatus.PENDING, RewardStatus.APPROVED, RewardStatus.PAID],
    ).values("member_id", "kind", "rule_ref", "earned_at", "inputs")
    found: dict[int, list[prefs.Chased]] = defaultdict(list)
    for row in rows:
        local = row["earned_at"].astimezone(tz).date()
        found[row["member_id"]].append(
            prefs.Chased(
                kind=str(row["kind"]),
                team_rule="team_id" in (row["inputs"] or {}),
                week=local - timedelta(days=local.weekday()),
                rule_ref=row["rule_ref"],
            )
        )
    return found


def _beside(book: RuleBook, members: Sequence[Member], today: date) -> list[PlanBeside]:
    """The plans covering any of `members` today, with their offered mix."""
    found: list[PlanBeside] = []
    for plan in book.plans:
        version = book.version_on(plan.id, today)
        if version is None:
            continue
        covered = sum(
            1
            for m in members
            if any(inc.covers(a, person_of(m), today) for a in book.audiences[plan.id])
        )
        if covered == 0:
            continue
        families = [
            family
            for rule in book.rules[version.id]
            for family in rule_families(inc.parse_rule(rule.kind, rule.params))
        ]
        found.append(PlanBeside(plan, covered, prefs.offered_mix(families)))
    return found


def rule_families(params: inc.RuleParams) -> list[Family]:
    """What a rule offers, by family: its cash, its entitlement, or the team."""
    if isinstance(params, inc.TeamThresholdParams):
        return [Family.TEAM_HONOR]
    if isinstance(params, inc.CommissionParams):
        return [Family.INSTANT_COMMISSION]
    found: list[Family] = []
    if getattr(params, "amount", None) is not None or isinstance(
        params, inc.TargetBonusParams
    ):
        found.append(Family.INSTANT_COMMISSION)
    entitlement = getattr(params, "entitlement", None)
    if entitlement is not None:
        family = prefs.KIND_FAMILY.get(entitlement.kind.value)
        if family is not None:
            found.append(family)
    return found
