"""The schema: only assembles each domain's queries, mutations and subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types.execution import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from spur.api.error_policy import ErrorPolicy
from spur.api.settings import Settings
from spur.schema.achievement import AchievementSubscription
from spur.schema.activity import ActivityMutation
from spur.schema.alert import AlertMutation, AlertQuery, AlertSubscription
from spur.schema.appraisal import AppraisalQuery
from spur.schema.appraisal_admin import AppraisalMutation
from spur.schema.appraisal_review import AppraisalReviewMutation
from spur.schema.auth import AuthMutation
from spur.schema.exchange_rate import ExchangeRateMutation, ExchangeRateQuery
from spur.schema.goal_admin import GoalAdminMutation
from spur.schema.insight import InsightQuery
from spur.schema.leaderboard import LeaderboardQuery
from spur.schema.ledger import LedgerMutation, LedgerQuery
from spur.schema.member import MemberQuery
from spur.schema.metric import MetricMutation, MetricQuery
from spur.schema.node import NodeQuery
from spur.schema.plan import PlanQuery
from spur.schema.plan_admin import PlanMutation
from spur.schema.preference import PreferenceMutation, PreferenceQuery
from spur.schema.preview import PreviewQuery
from spur.schema.rerate import RerateMutation
from spur.schema.scalars import SCALAR_MAP
from spur.schema.void import VoidMutation


@strawberry.type
class Query(
    MemberQuery,
    NodeQuery,
    LedgerQuery,
    PlanQuery,
    ExchangeRateQuery,
    MetricQuery,
    PreviewQuery,
    AppraisalQuery,
    LeaderboardQuery,
    AlertQuery,
    PreferenceQuery,
    InsightQuery,
):
    """Everything a client can read."""


@strawberry.type
class Mutation(
    AuthMutation,
    ActivityMutation,
    GoalAdminMutation,
    LedgerMutation,
    PlanMutation,
    ExchangeRateMutation,
    MetricMutation,
    VoidMutation,
    RerateMutation,
    AppraisalMutation,
    AppraisalReviewMutation,
    AlertMutation,
    PreferenceMutation,
):
    """Everything a client can change."""


@strawberry.type
class Subscription(AchievementSubscription, AlertSubscription):
    """Live events over `graphql-transport-ws`."""


class SpurSchema(strawberry.Schema):
    """Leaves error logging to the error policy, which logs only real faults."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Queries and mutations only; subscriptions need the socket.

        Strawberry lets a POST carry a subscription for its multipart
        transport, which Spur does not serve: executed plainly, one answered
        INTERNAL. Refused here, HTTP answers 400 before anything runs.
        """
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        # FORBIDDEN, BAD_USER_INPUT and the like are answers, not faults.
        return None


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with the limits from settings; extensions are per-operation."""
    return SpurSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=True, relay_max_results=100
        ),
        extensions=[
            ErrorPolicy,
            # Factories, not instances: Strawberry calls each once per operation.
            partial(QueryDepthLimiter, max_depth=settings.max_query_depth),
            partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
            partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        ],
    )
