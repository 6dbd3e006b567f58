"""The live alerts of the teams a manager watches (HR: every team).

A thin generator over the achievement event stream: MANAGER_ALERT events of
the viewer's teams, each turned into its stored alert. Live only; the
`alerts` query serves what was raised before.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any

from spur.api.context import Context
from spur.models import AchievementEvent, EventKind, ManagerAlert
from spur.resolvers.alert import visible_teams
from spur.subscriptions.feed import event_feed


async def alert_feed(
    ctx: Context, team_id: int | None
) -> AsyncGenerator[ManagerAlert, None]:
    """Awaiting it checks the team and the viewer's right; then stream."""
    viewer = ctx.viewer
    teams = await visible_teams(viewer, team_id)
    kind = EventKind.MANAGER_ALERT.value

    def audience(message: Mapping[str, Any]) -> bool:
        if message.get("kind") != kind:
            return False
        return teams is None or message.get("team_id") in teams

    async def replay(after_seq: int, limit: int) -> list[AchievementEvent]:
        query = AchievementEvent.filter(
            company_id=viewer.company_id, seq__gt=after_seq, kind=kind
        )
        if teams is not None:
            query = query.filter(team_id__in=teams)
        return list(await query.order_by("seq").limit(limit))

    events = event_feed(ctx.services.broker, viewer.company_id, None, audience, replay)
    return _alerts(events, viewer.company_id)


async def _alerts(
    events: AsyncGenerator[AchievementEvent, None], company_id: int
) -> AsyncGenerator[ManagerAlert, None]:
    async with aclosing(events):
        async for event in events:
            key = event.dedupe_key.removeprefix("alert:")
            alert = await ManagerAlert.get_or_none(company_id=company_id, key=key)
            if alert is not None:
                yield alert
