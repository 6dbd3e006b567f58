"""Per-request DataLoaders: each batch is one query, whatever the list length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from spur.models import (
    AchievementEvent,
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalScore,
    AppraisalTemplate,
    Goal,
    GoalProgress,
    IncentivePlan,
    LedgerEntry,
    Member,
    MetricDefinition,
    PlanAssignment,
    PlanRule,
    PlanVersion,
    StatusChange,
    Team,
)

M = TypeVar("M", bound=Model)
ProgressKey = tuple[int, date]


async def _by_id(model: type[M], ids: Sequence[int]) -> list[M | None]:
    rows = {row.pk: row for row in await model.filter(id__in=list(set(ids)))}
    return [rows.get(key) for key in ids]


class ByIdLoader(DataLoader[int, M | None]):
    """Rows of one model by primary key, `None` for unknown ids."""

    def __init__(self, model: type[M]) -> None:
        async def load(ids: list[int]) -> list[M | None]:
            return await _by_id(model, ids)

        super().__init__(load_fn=load)


class ProgressByGoalPeriodLoader(DataLoader[ProgressKey, GoalProgress | None]):
    """A goal's stored progress in one period (`None` before any activity)."""

    def __init__(self) -> None:
        super().__init__(load_fn=self.fetch)

    @staticmethod
    async def fetch(keys: Sequence[ProgressKey]) -> list[GoalProgress | None]:
        """One query for many (goal, period start) keys, in key order."""
        if not keys:
            return []
        goal_ids = {goal_id for goal_id, _ in keys}
        starts = {start for _, start in keys}
        rows = await GoalProgress.filter(goal_id__in=goal_ids, period_start__in=starts)
        found = {(row.goal_id, row.period_start): row for row in rows}
        return [found.get(key) for key in keys]


class ChildrenByGoalLoader(DataLoader[int, list[Goal]]):
    """The child goals of each goal, in creation order."""

    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(parent_ids: list[int]) -> list[list[Goal]]:
        children: dict[int, list[Goal]] = {key: [] for key in parent_ids}
        for goal in await Goal.filter(parent_id__in=parent_ids).order_by("id"):
            assert goal.parent_id is not None
            children[goal.parent_id].append(goal)
        return [children[key] for key in parent_ids]


class ByParentLoader(DataLoader[int, list[M]]):
    """Rows of one model grouped by a parent's key, in a stated order."""

    def __init__(self, model: type[M], parent: str, *order: str) -> None:
        async def load(keys: list[int]) -> list[list[M]]:
            groups: dict[int, list[M]] = {key: [] for key in keys}
            rows = model.filter(**{f"{parent}__in": keys}).order_by(*order)
            for row in await rows:
                groups[getattr(row, parent)].append(row)
            return [groups[key] for key in keys]

        super().__init__(load_fn=load)


class VersionsByPlanLoader(DataLoader[int, list[PlanVersion]]):
    """Each plan's versions by number, with their rules in the same batch.

    The rules are primed into `rules`: a plan's current version and its list
    of versions reach their rules a tick apart, and would otherwise be two
    batches or one depending on timing, not a fixed number of queries.
    """

    def __init__(self, rules: ByParentLoader[PlanRule]) -> None:
        self.rules = rules
        super().__init__(load_fn=self._load)

    async def _load(self, plan_ids: list[int]) -> list[list[PlanVersion]]:
        versions: dict[int, list[PlanVersion]] = {key: [] for key in plan_ids}
        for row in await PlanVersion.filter(plan_id__in=plan_ids).order_by("number"):
            versions[row.plan_id].append(row)
        rules: dict[int, list[PlanRule]] = {
            version.id: [] for found in versions.values() for version in found
        }
        if rules:
            query = PlanRule.filter(version_id__in=list(rules))
            for rule in await query.order_by("position", "id"):
                rules[rule.version_id].append(rule)
        self.rules.prime_many(rules)
        return [versions[key] for key in plan_ids]


class StatusChangesByEntryLoader(DataLoader[int, list[StatusChange]]):
    """The status moves of each ledger entry, oldest first."""

    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(entry_ids: list[int]) -> list[list[StatusChange]]:
        moves: dict[int, list[StatusChange]] = {key: [] for key in entry_ids}
        rows = StatusChange.filter(entry_id__in=entry_ids).order_by("changed_at", "id")
        for row in await rows:
            moves[row.entry_id].append(row)
        return [moves[key] for key in entry_ids]


@dataclass
class Loaders:
    """A fresh set of loaders for every request, so nothing leaks between them."""

    member: ByIdLoader[Member] = field(default_factory=lambda: ByIdLoader(Member))
    team: ByIdLoader[Team] = field(default_factory=lambda: ByIdLoader(Team))
    goal: ByIdLoader[Goal] = field(default_factory=lambda: ByIdLoader(Goal))
    metric: ByIdLoader[MetricDefinition] = field(
        default_factory=lambda: ByIdLoader(MetricDefinition)
    )
    ledger_entry: ByIdLoader[LedgerEntry] = field(
        default_factory=lambda: ByIdLoader(LedgerEntry)
    )
    event: ByIdLoader[AchievementEvent] = field(
        default_factory=lambda: ByIdLoader(AchievementEvent)
    )
    progress: ProgressByGoalPeriodLoader = field(
        default_factory=ProgressByGoalPeriodLoader
    )
    children: ChildrenByGoalLoader = field(default_factory=ChildrenByGoalLoader)
    plan: ByIdLoader[IncentivePlan] = field(
        default_factory=lambda: ByIdLoader(IncentivePlan)
    )
    plan_version: ByIdLoader[PlanVersion] = field(
        default_factory=lambda: ByIdLoader(PlanVersion)
    )
    plan_rule: ByIdLoader[PlanRule] = field(
        default_factory=lambda: ByIdLoader(PlanRule)
    )
    plan_assignment: ByIdLoader[PlanAssignment] = field(
        default_factory=lambda: ByIdLoader(PlanAssignment)
    )
    plan_rules: ByParentLoader[PlanRule] = field(
        default_factory=lambda: ByParentLoader(PlanRule, "version_id", "position", "id")
    )
    plan_versions: VersionsByPlanLoader = field(init=False)
    plan_assignments: ByParentLoader[PlanAssignment] = field(
        default_factory=lambda: ByParentLoader(PlanAssignment, "plan_id", "id")
    )
    status_changes: StatusChangesByEntryLoader = field(
        default_factory=StatusChangesByEntryLoader
    )
    appraisal: ByIdLoader[Appraisal] = field(
        default_factory=lambda: ByIdLoader(Appraisal)
    )
    appraisal_cycle: ByIdLoader[AppraisalCycle] = field(
        default_factory=lambda: ByIdLoader(AppraisalCycle)
    )
    appraisal_template: ByIdLoader[AppraisalTemplate] = field(
        default_factory=lambda: ByIdLoader(AppraisalTemplate)
    )
    appraisal_dimension: ByIdLoader[AppraisalDimension] = field(
        default_factory=lambda: ByIdLoader(AppraisalDimension)
    )
    appraisal_scores: ByParentLoader[AppraisalScore] = field(
        default_factory=lambda: ByParentLoader(AppraisalScore, "appraisal_id", "id")
    )
    appraisal_entries: ByParentLoader[LedgerEntry] = field(
        default_factory=lambda: ByParentLoader(LedgerEntry, "appraisal_id", "id")
    )
    template_dimensions: ByParentLoader[AppraisalDimension] = field(
        default_factory=lambda: ByParentLoader(
            AppraisalDimension, "template_id", "position", "id"
        )
    )

    def __post_init__(self) -> None:
        self.plan_versions = VersionsByPlanLoader(self.plan_rules)

    def prime_all(self, rows: Sequence[Any]) -> None:
        """Seed loaders with rows already fetched, so no query repeats them."""
        for row in rows:
            loader = _PRIMERS.get(type(row))
            if loader is not None:
                getattr(self, loader).prime(row.pk, row)


_PRIMERS = {
    Member: "member",
    Appraisal: "appraisal",
    AppraisalCycle: "appraisal_cycle",
    Team: "team",
    Goal: "goal",
    LedgerEntry: "ledger_entry",
    AchievementEvent: "event",
    MetricDefinition: "metric",
}


async def loaders_for_events(events: Sequence[AchievementEvent]) -> Loaders:
    """Fresh loaders primed with everything a page of events shows.

    Four queries whatever the page holds: members, goals, ledger entries and
    the goals' progress in the events' periods.
    """
    loaders = Loaders()
    loaders.prime_all(events)
    loaders.prime_all(await _rows(Member, {e.member_id for e in events}))
    loaders.prime_all(await _rows(Goal, {e.goal_id for e in events}))
    loaders.prime_all(await _rows(LedgerEntry, {e.ledger_entry_id for e in events}))
    keys = [(e.goal_id, e.period_start) for e in events if e.goal_id and e.period_start]
    for key, row in zip(
        keys, await ProgressByGoalPeriodLoader.fetch(keys), strict=True
    ):
        loaders.progress.prime(key, row)
    return loaders


async def _rows(model: type[M], ids: set[int | None]) -> list[M]:
    wanted = [key for key in ids if key is not None]
    return list(await model.filter(id__in=wanted)) if wanted else []
