"""Reading appraisals: who sees which, and the lists the schema pages through.

Every list is one query per page (one extra row tells of a next page); what
each row shows is read through the request's loaders.
"""

from __future__ import annotations

from tortoise.expressions import Q

from spur.api.context import Context, Viewer
from spur.api.errors import Forbidden, NotFound
from spur.engine.appraisal import AppraisalStatus
from spur.models import Appraisal, AppraisalCycle, AppraisalTemplate, Role, Team


async def visible(ctx: Context, appraisal: Appraisal) -> bool:
    """The member's own, their manager's teams', HR's company; no partner's."""
    viewer = ctx.viewer
    if appraisal.company_id != viewer.company_id or viewer.role is Role.PARTNER:
        return False
    owner = await ctx.loaders.member.load(appraisal.member_id)
    return owner is not None and viewer.can_see_member(owner.id, owner.team_id)


async def metric_key(ctx: Context, metric_id: int | None) -> str | None:
    if metric_id is None:
        return None
    metric = await ctx.loaders.metric.load(metric_id)
    return None if metric is None else metric.key


async def member_appraisals(member_id: int, offset: int, limit: int) -> list[Appraisal]:
    """A member's current versions, newest cycle first."""
    return (
        await Appraisal.filter(member_id=member_id, is_current=True)
        .order_by("-cycle__period_start", "-cycle_id")
        .offset(offset)
        .limit(limit + 1)
    )


async def cycle_appraisals(
    viewer: Viewer,
    cycle_id: int,
    status: AppraisalStatus | None,
    offset: int,
    limit: int,
) -> list[Appraisal]:
    """A cycle's current versions the viewer may see, in member order."""
    query = Appraisal.filter(
        cycle_id=cycle_id, company_id=viewer.company_id, is_current=True
    )
    if status is not None:
        query = query.filter(status=status)
    if not viewer.is_hr_admin:
        query = query.filter(
            Q(member_id=viewer.member_id)
            | Q(member__team_id__in=sorted(viewer.managed_team_ids))
        )
    return await query.order_by("member_id").offset(offset).limit(limit + 1)


async def cycles(viewer: Viewer, offset: int, limit: int) -> list[AppraisalCycle]:
    """The company's cycles, newest period first."""
    return (
        await AppraisalCycle.filter(company_id=viewer.company_id)
        .order_by("-period_start", "-id")
        .offset(offset)
        .limit(limit + 1)
    )


async def templates(viewer: Viewer, offset: int, limit: int) -> list[AppraisalTemplate]:
    """The company's templates, newest first."""
    return (
        await AppraisalTemplate.filter(company_id=viewer.company_id)
        .order_by("-id")
        .offset(offset)
        .limit(limit + 1)
    )


async def pending(
    viewer: Viewer, team_id: int | None, offset: int, limit: int
) -> list[Appraisal]:
    """Current appraisals in MANAGER_REVIEW the viewer reviews, oldest first:
    a manager's teams' (or one of them), HR's whole company; never their own."""
    query = Appraisal.filter(
        company_id=viewer.company_id,
        is_current=True,
        status=AppraisalStatus.MANAGER_REVIEW,
    ).exclude(member_id=viewer.member_id)
    teams = await _reviewed_teams(viewer, team_id)
    if teams is not None:
        query = query.filter(member__team_id__in=teams)
    return await query.order_by("id").offset(offset).limit(limit + 1)


async def _reviewed_teams(viewer: Viewer, team_id: int | None) -> list[int] | None:
    """The teams to list; None for the whole company (HR without a team)."""
    if team_id is None:
        return None if viewer.is_hr_admin else sorted(viewer.managed_team_ids)
    team = await Team.get_or_none(id=team_id, company_id=viewer.company_id)
    if team is None:
        raise NotFound("No such team.", field="teamId")
    if not (viewer.is_hr_admin or team.id in viewer.managed_team_ids):
        raise Forbidden("Only the team's managers and HR admins review its members.")
    return [team.id]
