"""Permission classes, declared on fields and subscriptions.

| field                     | SALESPERSON | MANAGER        | HR_ADMIN | PARTNER |
| ------------------------- | ----------- | -------------- | -------- | ------- |
| viewer, node              | self        | own teams      | company  | self    |
| recordActivity            | self        | own teams      | company  | no      |
| achievements, goalProgress| self        | self           | self     | no      |
| teamFeed                  | no          | own teams      | company  | no      |
| createGoal                | no          | own teams      | company  | no      |

Row-level scoping (which member or team) is enforced where rows are loaded,
through `Viewer.can_see_member` and friends, and every query is filtered by
the viewer's company.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from spur.api.context import Context
from spur.api.errors import Forbidden
from spur.models import Role


class IsAuthenticated(BasePermission):
    """A valid access token came with the request."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        _viewer_role(info)
        return True


class CanWrite(BasePermission):
    """Signed in, and not a read-only partner app."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) is Role.PARTNER:
            raise Forbidden("This account may not change anything.")
        return True


class CanWatchTeams(BasePermission):
    """Managers and HR admins: the only roles with a live team feed."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins may watch a team feed.")
        return True


class CanPlanGoals(BasePermission):
    """Managers and HR admins: the roles that set goals for others."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins may set goals.")
        return True


def _viewer_role(info: Any) -> Role:
    """The viewer's role; raising `UNAUTHENTICATED` carries our stable code."""
    context: Context = info.context
    return context.viewer.role
