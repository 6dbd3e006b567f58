"""Tortoise models, one module per domain aggregate."""

from spur.models.activity import Activity, ExchangeRate
from spur.models.appraisal import (
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalScore,
    AppraisalTemplate,
    CycleStatus,
)
from spur.models.auth import RefreshToken
from spur.models.company import Company, IncentivePreference, Member, Role, Team
from spur.models.event import AchievementEvent, EventKind
from spur.models.goal import Goal, GoalProgress, GoalReward
from spur.models.insight import AlertStatus, ManagerAlert, PreferenceSurvey
from spur.models.leaderboard import LeaderboardNode, LeaderboardScore
from spur.models.ledger import (
    CASH_KINDS,
    EntryCause,
    LedgerEntry,
    RewardKind,
    RewardStatus,
    StatusChange,
)
from spur.models.metric import MetricDefinition, MetricTotal
from spur.models.plan import (
    IncentivePlan,
    PlanAssignment,
    PlanRule,
    PlanVersion,
    RuleCounter,
    RuleKind,
)

__all__ = [
    "CASH_KINDS",
    "AchievementEvent",
    "Activity",
    "AlertStatus",
    "Appraisal",
    "AppraisalCycle",
    "AppraisalDimension",
    "AppraisalScore",
    "AppraisalTemplate",
    "Company",
    "CycleStatus",
    "EntryCause",
    "EventKind",
    "ExchangeRate",
    "Goal",
    "GoalProgress",
    "GoalReward",
    "IncentivePlan",
    "IncentivePreference",
    "LeaderboardNode",
    "LeaderboardScore",
    "LedgerEntry",
    "ManagerAlert",
    "Member",
    "MetricDefinition",
    "MetricTotal",
    "PlanAssignment",
    "PlanRule",
    "PlanVersion",
    "PreferenceSurvey",
    "RefreshToken",
    "RewardKind",
    "RewardStatus",
    "Role",
    "RuleCounter",
    "RuleKind",
    "StatusChange",
    "Team",
]
