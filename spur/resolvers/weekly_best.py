"""The team's best of the week: most new-customer follow-ups, to the team feed.

Once a week has ended in the company's zone, each team's leader on its
weekly board of the company's new-customer follow-up count gets one
TEAM_BEST_OF_WEEK event (ties go by the board's order). The event's
dedupe key (`best:<team>:<week start>`, unique per company) makes "once
per team and week" a database fact, so any number of API instances may run
the pass, at any time and as often as they like.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from spur.api.services import Services, utc_now
from spur.api.settings import Settings
from spur.engine import messages, ranking
from spur.engine.metrics import ActivityKind, Aggregation
from spur.engine.periods import Period, PeriodKind, period_containing, previous_period
from spur.models import (
    AchievementEvent,
    Company,
    EventKind,
    Member,
    MetricDefinition,
    Team,
)
from spur.models.config import tortoise_config
from spur.models.upserts import insert_new
from spur.resolvers.leaderboard import BoardView, top

logger = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 3600.0


async def best_of_week(company: Company, week: Period) -> list[int]:
    """Write each team's best-of-week event for `week`; ids of the new ones.

    A second call for the same week writes nothing.
    """
    metric = await follow_up_metric(company.id)
    if metric is None:
        return []
    tz = ZoneInfo(company.timezone)
    written = []
    async with in_transaction() as conn:
        for team in await Team.filter(company_id=company.id).order_by("id"):
            scope = ranking.team_scope(team.id)
            board = BoardView(metric, week, scope, company.id, tz)
            leaders = await top(board, 0, 1)
            if leaders and leaders[0].value > 0:
                count = int(leaders[0].value)
                found = await _write(
                    conn, team, metric, week, leaders[0].member_id, count
                )
                written += [found] if found is not None else []
    return written


async def follow_up_metric(company_id: int) -> MetricDefinition | None:
    """The company's count of new-customer follow-ups (the first defined)."""
    return (
        await MetricDefinition.filter(
            company_id=company_id,
            activity_kind=ActivityKind.CUSTOMER_FOLLOW_UP,
            aggregation=Aggregation.COUNT,
            new_customer=True,
            market__isnull=True,
            product_category__isnull=True,
        )
        .order_by("id")
        .first()
    )


async def _write(
    conn: BaseDBAsyncClient,
    team: Team,
    metric: MetricDefinition,
    week: Period,
    member_id: int,
    count: int,
) -> int | None:
    member = await Member.filter(id=member_id).using_db(conn).get()
    lead = await Member.get_or_none(id=team.manager_id) if team.manager_id else None
    team_lang = lead.language if lead is not None else member.language
    return await insert_new(
        conn,
        AchievementEvent,
        {
            "company_id": team.company_id,
            "kind": EventKind.TEAM_BEST_OF_WEEK,
            "member_id": member.id,
            "team_id": team.id,
            "period_start": week.start_date,
            "dedupe_key": f"best:{team.id}:{week.start_date.isoformat()}",
            "message": messages.best_of_week(
                member.language,
                count=count,
                metric_name=messages.localized(
                    metric.name, metric.titles, member.language
                ),
                week_label=week.label,
            ),
            "team_message": messages.best_of_week_by(
                team_lang,
                member_name=member.name,
                count=count,
                metric_name=messages.localized(metric.name, metric.titles, team_lang),
                week_label=week.label,
            ),
            "occurred_at": week.end,
        },
    )


def last_full_week(now: datetime, tz: ZoneInfo) -> Period:
    """The latest week that has ended at `now` in a zone."""
    return previous_period(period_containing(PeriodKind.WEEK, now, tz), tz)


async def produce_due(services: Services, now: datetime) -> int:
    """Best-of-week events for every company's last ended week; how many new.

    The hook tests, operators and the background task call.
    """
    written = await _pass(now)
    if written:
        services.relay.poke()
        logger.info("best of the week: %s team events", written)
    return written


async def seconds_to_next_week(now: datetime) -> float:
    """Until the next week ends in any company's zone (at most an hour)."""
    zones = set(await Company.all().values_list("timezone", flat=True))
    waits = [
        (period_containing(PeriodKind.WEEK, now, ZoneInfo(str(zone))).end - now)
        for zone in zones
    ]
    wait = min(waits, default=timedelta(seconds=MAX_SLEEP_SECONDS))
    return min(max(wait.total_seconds() + 1.0, 1.0), MAX_SLEEP_SECONDS)


class WeeklyBest:
    """The lifespan's background task: a pass at start, then at each week's end."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="spur-weekly-best")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            now = self.services.clock()
            try:
                await produce_due(self.services, now)
                wait = await seconds_to_next_week(now)
            except Exception:  # the next pass tries again
                logger.exception("best-of-the-week pass failed")
                wait = MAX_SLEEP_SECONDS
            await asyncio.sleep(wait)


async def run_weekly_best(settings: Settings, at: str | None) -> int:
    """The CLI hook: one pass outside a server, as of `at` (ISO) or now.

    The events wait in the outbox; the next server relay publishes them.
    """
    now = datetime.fromisoformat(at) if at else utc_now()
    if now.tzinfo is None:
        raise SystemExit("spur: --at needs a time zone offset")
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(settings.database_url))
        return await _pass(now)


async def _pass(now: datetime) -> int:
    written = 0
    for company in await Company.all().order_by("id"):
        week = last_full_week(now, ZoneInfo(company.timezone))
        written += len(await best_of_week(company, week))
    return written
