"""Permission classes, declared on fields and subscriptions.

| field                     | SALESPERSON | MANAGER        | HR_ADMIN | PARTNER |
| ------------------------- | ----------- | -------------- | -------- | ------- |
| viewer, node              | self        | own teams      | company  | self    |
| recordActivity            | self        | own teams      | company  | no      |
| achievements, goalProgress| self        | self           | self     | no      |
| teamFeed                  | no          | own teams      | company  | no      |
| createGoal                | no          | own teams      | company  | no      |
| plans, exchangeRates,     | no          | company, read  | company  | no      |
| metricDefinitions         |             |                |          |         |
| myPlans                   | self        | self           | self     | no      |
| node: IncentivePlan and   | plans       | company, read  | company  | no      |
| its versions, rules and   | covering    |                |          |         |
| assignments               | self today  |                |          |         |
| createPlan, updatePlan,   | no          | no             | company  | no      |
| addPlanVersion,           |             |                |          |         |
| assignPlan,               |             |                |          |         |
| removePlanAssignment,     |             |                |          |         |
| setExchangeRates,         |             |                |          |         |
| defineMetric              |             |                |          |         |
| approveRewards            | no          | own teams *†   | company *| no      |
| rejectRewards             | no          | own teams *†   | company *| no      |
| pendingRewards            | no          | own teams *    | company *| no      |
| markRewardsPaid           | no          | no             | company *| no      |
| voidActivity              | no          | own teams *    | company *| no      |
| statement                 | self        | self, own teams| company  | no      |
| payrollExport, CSV export | no          | no             | company  | no      |
| rerate,                   | no          | no             | company  | no      |
| previewPlanVersion **     |             |                |          |         |
| appraisals, node:         | self        | self, own teams| company  | no      |
| Appraisal                 |             |                |          |         |
| appraisalCycles,          | no          | company, read  | company  | no      |
| appraisalTemplates        |             |                |          |         |
| pendingAppraisals,        | no          | own teams *    | company *| no      |
| cycleAppraisals           |             |                |          |         |
| createAppraisalTemplate,  | no          | no             | company  | no      |
| openAppraisalCycle,       |             |                |          |         |
| startSelfReviews,         |             |                |          |         |
| finalizeAppraisalCycle    |             |                |          |         |
| submitSelfReview          | self        | self           | self     | no      |
| reviewAppraisal,          | no          | own teams *    | company *| no      |
| finalizeAppraisal,        |             |                |          |         |
| correctAppraisal,         |             |                |          |         |
| markSpecialContribution   |             |                |          |         |
| driverAnalysis,           | no          | own teams      | company  | no      |
| teamHealth                |             |                |          |         |
| alerts (query and         | no          | own teams      | company  | no      |
| subscription)             |             |                |          |         |
| preferenceShares,         | no          | own teams      | company  | no      |
| preferenceProfile         |             |                |          |         |
| acceptAlert, dismissAlert | no          | own teams *    | company *| no      |
| submitPreferenceSurvey,   | self        | self           | self     | no      |
| myPreferenceSurvey        |             |                |          |         |

* never the viewer's own rewards, activity or alerts: someone else decides.
The CSV export is `GET /exports/payroll/{YYYY-MM}.csv` (spur.api.exports).
** writes nothing, but shows what every member of the company would be paid,
which a manager may not see beyond their own teams.
† not PROMOTION or EQUITY entitlements: HR admins decide those.
A rated appraisal dimension is written only by the reviewer whose turn it is:
the member in SELF_REVIEW, the member's manager or HR in MANAGER_REVIEW.

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


class CanReadTeamPreferences(BasePermission):
    """Managers and HR admins: the roles that plan rewards from staff preferences."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins may read staff preferences.")
        return True


class CanPlanGoals(BasePermission):
    """Managers and HR admins: the roles that set goals for others."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins may set goals.")
        return True


class CanDecideRewards(BasePermission):
    """Managers and HR admins: the roles that approve or reject rewards."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins decide on rewards.")
        return True


class CanVoidActivity(BasePermission):
    """Managers and HR admins: the roles that void recorded activity."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins may void activity.")
        return True


class CanReviewAppraisals(BasePermission):
    """Managers and HR admins: the roles that review and correct appraisals
    and read cycles and templates."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins review appraisals.")
        return True


class CanHaveAppraisals(BasePermission):
    """Everyone but partner apps, which are not appraised and see no one's."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) is Role.PARTNER:
            raise Forbidden("Partner apps may not read appraisals.")
        return True


class IsHrAdmin(BasePermission):
    """HR admins only: paying rewards, re-rating and exporting payroll."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) is not Role.HR_ADMIN:
            raise Forbidden("Only HR admins may do this.")
        return True


class CanReadStatements(BasePermission):
    """Everyone but partner apps, which see no pay."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) is Role.PARTNER:
            raise Forbidden("Partner apps may not read pay statements.")
        return True


class CanReadIncentives(BasePermission):
    """Managers and HR admins: every plan, rate and metric of the company.

    Managers read plans they cannot change: they approve what any plan pays
    their teams, and a segment (aged 30 or under) names no team.
    """

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins may read incentive plans.")
        return True


class CanAdministerIncentives(BasePermission):
    """HR admins only: plans, their versions and assignments, rates, metrics."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) is not Role.HR_ADMIN:
            raise Forbidden("Only HR admins may change incentive plans.")
        return True


class CanReadInsights(BasePermission):
    """Managers and HR admins: driver analysis and team health."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) not in (Role.MANAGER, Role.HR_ADMIN):
            raise Forbidden("Only managers and HR admins may read insights.")
        return True


class CanHavePlans(BasePermission):
    """Everyone a plan can cover: not partner apps, which earn nothing."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if _viewer_role(info) is Role.PARTNER:
            raise Forbidden("Partner apps have no incentive plans.")
        return True


def _viewer_role(info: Any) -> Role:
    """The viewer's role; raising `UNAUTHENTICATED` carries our stable code."""
    context: Context = info.context
    return context.viewer.role
