"""Insight reads for HR and managers: driver analysis and team health.

HR admins read the whole company, managers the teams they manage (a team
of another company is NOT_FOUND; another team of the same company FORBIDDEN).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Forbidden, NotFound
from spur.engine.periods import PeriodKind, as_utc, in_calendar, parse_label
from spur.models import Team
from spur.resolvers.drivers import AgeBand, Analysis, Scope, analyse
from spur.resolvers.team_health import TeamHealth, team_health

DEFAULT_DAYS = 90
LONGEST_DAYS = 366
MAX_MARKET = 16  # Team.market's length


async def driver_analysis(
    viewer: Viewer,
    now: datetime,
    first: date | None = None,
    end: date | None = None,
    team_id: int | None = None,
    age_band: AgeBand | None = None,
    market: str | None = None,
) -> Analysis:
    """Drivers over local dates `[first, end)`: by default the 90 days before
    today. Without a team, HR reads the company and a manager their teams."""
    first, end = window(viewer, now, first, end)
    if market is not None and len(market) > MAX_MARKET:
        raise BadUserInput(f"market has at most {MAX_MARKET} letters.", field="market")
    if team_id is not None:
        teams = frozenset({(await _readable_team(viewer, team_id)).id})
    elif viewer.is_hr_admin:
        teams = None
    else:
        teams = viewer.managed_team_ids
    return await analyse(
        Scope(viewer.company_id, viewer.timezone, first, end, teams, age_band, market)
    )


def window(
    viewer: Viewer, now: datetime, first: date | None, end: date | None
) -> tuple[date, date]:
    """The analysed dates, checked: at least a day, at most a year."""
    today = as_utc(now).astimezone(viewer.timezone).date()
    for name, day in (("from", first), ("to", end)):
        if day is not None and not in_calendar(day):
            raise BadUserInput(
                f"`{name}` is outside the supported calendar.", field=name
            )
    end = end or (today if first is None else first + timedelta(days=DEFAULT_DAYS))
    first = first or end - timedelta(days=DEFAULT_DAYS)
    if end <= first:
        raise BadUserInput("`to` must come after `from`.", field="to")
    # Days after today are not observed yet: they are no member-days.
    end = min(end, today + timedelta(days=1))
    if end <= first:
        raise BadUserInput("`from` must not be after today.", field="from")
    if (end - first).days > LONGEST_DAYS:
        raise BadUserInput(f"At most {LONGEST_DAYS} days at once.", field="from")
    return first, end


async def health(viewer: Viewer, now: datetime, team_id: int, label: str) -> TeamHealth:
    """A team's health in the period named by `label` (2026-11, 2026-Q4)."""
    try:
        period = parse_label(label, viewer.timezone)
    except ValueError as error:
        raise BadUserInput(str(error), field="period") from error
    if period.kind is PeriodKind.DAY:
        raise BadUserInput(
            "Health is per week, month, quarter or year.", field="period"
        )
    team = await _readable_team(viewer, team_id)
    return await team_health(team, period, viewer.timezone, now)


async def _readable_team(viewer: Viewer, team_id: int) -> Team:
    team = await Team.get_or_none(id=team_id, company_id=viewer.company_id)
    if team is None:
        raise NotFound("No such team.")
    if not viewer.can_watch_team(team.id):
        raise Forbidden("Managers read insights on their own teams only.")
    return team
