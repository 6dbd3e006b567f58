"""The live alerts of the teams a manager watches (HR: every team).

A thin generator over the achievement event stream: MANAGER_ALERT events of
the viewer's teams, each turned into its stored alert. Live only; the
`alerts` query serves what was raised before. On a socket it counts against
the member's live-subscription limit like the hub's feeds.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any

from spur.api.context import Context
from spur.models import AchievementEvent, EventKind, ManagerAlert
from spur.resolvers.alert import visible_teams
from spur.subscriptions.fanout import FanoutHub, Ticket, current_live
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
    live = current_live()
    hub = live.hub if isinstance(live, Ticket) else None
    return _alerts(events, viewer.company_id, _Held(hub, viewer.member_id))


class _Held:
    """One place under the member's live-subscription limit, if on a socket."""

    def __init__(self, hub: FanoutHub | None, member_id: int) -> None:
        self.hub, self.member_id = hub, member_id

    def take(self) -> None:
        if self.hub is not None:
            self.hub.admit(self.member_id)  # RATE_LIMITED past the limit
            self.hub.count_member(self.member_id, +1)

    def release(self) -> None:
        if self.hub is not None:
            self.hub.count_member(self.member_id, -1)


async def _alerts(
    events: AsyncGenerator[AchievementEvent, None], company_id: int, held: _Held
) -> AsyncGenerator[ManagerAlert, None]:
    # Taken when the stream starts, as the hub's feeds join on their first step.
    held.take()
    try:
        async with aclosing(events):
            async for event in events:
                key = event.dedupe_key.removeprefix("alert:")
                alert = await ManagerAlert.get_or_none(company_id=company_id, key=key)
                if alert is not None:
                    yield alert
    finally:
        held.release()
