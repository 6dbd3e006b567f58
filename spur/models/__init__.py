"""Tortoise models, one module per domain aggregate."""

from spur.models.activity import Activity, ExchangeRate
from spur.models.auth import RefreshToken
from spur.models.company import Company, IncentivePreference, Member, Role, Team
from spur.models.event import AchievementEvent, EventKind
from spur.models.goal import Goal, GoalProgress, GoalReward
from spur.models.ledger import (
    CASH_KINDS,
    LedgerEntry,
    RewardKind,
    RewardStatus,
)
from spur.models.metric import MetricDefinition, MetricTotal

__all__ = [
    "CASH_KINDS",
    "AchievementEvent",
    "Activity",
    "Company",
    "EventKind",
    "ExchangeRate",
    "Goal",
    "GoalProgress",
    "GoalReward",
    "IncentivePreference",
    "LedgerEntry",
    "Member",
    "MetricDefinition",
    "MetricTotal",
    "RefreshToken",
    "RewardKind",
    "RewardStatus",
    "Role",
    "Team",
]
