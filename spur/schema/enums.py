"""The domain's enums as GraphQL enums (the Python enums stay the source)."""

from __future__ import annotations

import enum

import strawberry

from spur.engine.metrics import ActivityKind
from spur.engine.periods import PeriodKind
from spur.engine.progress import ProgressStatus
from spur.models import EntryCause, EventKind, RewardKind, RewardStatus, Role

strawberry.enum(PeriodKind, description="Calendar periods; weeks start on Monday.")
strawberry.enum(ProgressStatus, description="Where a goal stands in its period.")
strawberry.enum(ActivityKind, description="What a salesperson did.")
strawberry.enum(Role, description="What a signed-in member may see and do.")
strawberry.enum(RewardKind, description="Cash, commission or a non-cash reward.")
strawberry.enum(RewardStatus, description="Where a reward stands on its way to pay.")
strawberry.enum(EventKind, name="AchievementKind", description="Kinds of events.")
strawberry.enum(
    EntryCause, description="Why a ledger line exists: earned, void, re-rating."
)


@strawberry.enum(description="Which of the viewer's goals to list.")
class GoalListStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    PAST = "PAST"
    ALL = "ALL"


__all__ = [
    "ActivityKind",
    "EntryCause",
    "EventKind",
    "GoalListStatus",
    "PeriodKind",
    "ProgressStatus",
    "RewardKind",
    "RewardStatus",
    "Role",
]
