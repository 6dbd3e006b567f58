"""The one typed context every resolver receives, built once per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from spur.api.errors import Forbidden, SpurError, Unauthenticated
from spur.models.company import Role

if TYPE_CHECKING:
    from spur.api.services import Services
    from spur.resolvers.loaders import Loaders


@dataclass(frozen=True)
class Viewer:
    """The signed-in member, as the access token and the database describe them."""

    member_id: int
    company_id: int
    role: Role
    team_id: int | None
    managed_team_ids: frozenset[int]
    language: str
    timezone: ZoneInfo
    currency: str
    token_expires_at: float

    @property
    def is_hr_admin(self) -> bool:
        return self.role is Role.HR_ADMIN

    def can_see_member(self, member_id: int, team_id: int | None) -> bool:
        """Salespeople see themselves, managers their teams, HR the company."""
        if self.is_hr_admin or member_id == self.member_id:
            return True
        return team_id is not None and team_id in self.managed_team_ids

    def can_see_team(self, team_id: int) -> bool:
        """Team-level data: HR admins, the team's managers, and its own members."""
        return (
            self.is_hr_admin
            or team_id in self.managed_team_ids
            or team_id == self.team_id
        )

    def can_watch_team(self, team_id: int) -> bool:
        """The live team feed is for that team's managers and HR admins."""
        return self.is_hr_admin or team_id in self.managed_team_ids


@dataclass
class Context:
    """Per request (or per socket): the viewer, loaders and shared services."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    services: Services
    loaders: Loaders
    viewer_or_none: Viewer | None = None
    request_id: str = ""
    connection_params: dict[str, Any] = field(default_factory=dict)
    auth_error: str | None = None
    # The token could not be checked (the database failed, say): not the
    # client's fault, so not UNAUTHENTICATED, which would sign the app out.
    viewer_unavailable: bool = False

    @property
    def language(self) -> str:
        """The signed-in member's language; empty (the default) when anonymous."""
        return self.viewer_or_none.language if self.viewer_or_none else ""

    @property
    def viewer(self) -> Viewer:
        """The signed-in member; raises `UNAUTHENTICATED` when there is none."""
        if self.viewer_or_none is None:
            if self.viewer_unavailable:
                reference = self.request_id or "unknown"
                raise SpurError(
                    f"Internal error. Reference: {reference}.", request_id=reference
                )
            raise Unauthenticated(self.auth_error or "Sign in to do this.")
        return self.viewer_or_none

    def require_role(self, *roles: Role) -> Viewer:
        """The viewer, if their role is one of `roles`."""
        viewer = self.viewer
        if viewer.role not in roles:
            raise Forbidden("Your role may not do this.")
        return viewer
