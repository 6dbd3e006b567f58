"""Storing the demo's goals and their rewards, parents before children."""

from __future__ import annotations

from dataclasses import dataclass

from spur.demo.catalogue import GoalPlan
from spur.demo.history import GoalRef, MemberRef, RewardRef
from spur.demo.store import BATCH
from spur.models import Goal, GoalReward, RewardKind


@dataclass(frozen=True)
class Owners:
    """Stored members by their index in the plan, and team ids by market."""

    members: dict[int, MemberRef]
    team_ids: dict[str, int]

    def of(self, plan: GoalPlan) -> tuple[int | None, int | None]:
        """The member id and team id a goal plan belongs to."""
        member = None if plan.owner is None else self.members[plan.owner].id
        team = None if plan.team is None else self.team_ids[plan.team]
        return member, team


async def store_goals(
    company_id: int,
    plans: list[GoalPlan],
    owners: Owners,
    metric_ids: dict[str, int],
) -> list[GoalRef]:
    """Parents, then children, then rewards; returns the goals with their ids."""
    ids: dict[str, int] = {}
    for level in (
        [p for p in plans if p.parent is None],
        [p for p in plans if p.parent is not None],
    ):
        rows = [_goal_row(company_id, p, owners, metric_ids, ids) for p in level]
        await Goal.bulk_create(rows, batch_size=BATCH)
        stored = await Goal.filter(company_id=company_id).values_list(
            "member_id", "team_id", "title", "id"
        )
        # An owner never has two goals of the same title.
        by_owner_title = {(m, t, title): i for m, t, title, i in stored}
        for p in level:
            ids[p.ref] = by_owner_title[(*owners.of(p), p.title)]
    rewards = await _store_rewards(plans, ids)
    return [
        _goal_ref(p, owners, ids[p.ref], rewards.get(ids[p.ref], ())) for p in plans
    ]


def _goal_row(
    company_id: int,
    plan: GoalPlan,
    owners: Owners,
    metric_ids: dict[str, int],
    ids: dict[str, int],
) -> Goal:
    member_id, team_id = owners.of(plan)
    return Goal(
        company_id=company_id,
        member_id=member_id,
        team_id=team_id,
        metric_id=metric_ids[plan.metric],
        parent_id=ids[plan.parent] if plan.parent else None,
        title=plan.title,
        titles=plan.titles,
        period_kind=plan.kind,
        target=plan.target,
        active_from=plan.active_from,
        active_until=plan.active_until,
        window_start=plan.window[0] if plan.window else None,
        window_end=plan.window[1] if plan.window else None,
    )


async def _store_rewards(
    plans: list[GoalPlan], ids: dict[str, int]
) -> dict[int, tuple[RewardRef, ...]]:
    rows = [
        GoalReward(
            goal_id=ids[p.ref],
            kind=r.kind.value,
            title=r.title,
            titles=r.titles,
            amount=r.amount,
            quantity=r.quantity,
        )
        for p in plans
        for r in p.rewards
    ]
    await GoalReward.bulk_create(rows, batch_size=BATCH)
    stored = await GoalReward.filter(goal_id__in=list(ids.values())).order_by("id")
    rewards: dict[int, list[RewardRef]] = {}
    for row in stored:
        ref = RewardRef(
            row.id,
            RewardKind(row.kind),
            row.title,
            row.amount,
            row.quantity,
            row.titles,
        )
        rewards.setdefault(row.goal_id, []).append(ref)
    return {goal_id: tuple(refs) for goal_id, refs in rewards.items()}


def _goal_ref(
    plan: GoalPlan, owners: Owners, goal_id: int, rewards: tuple[RewardRef, ...]
) -> GoalRef:
    return GoalRef(
        goal_id,
        plan.owner,
        owners.of(plan)[1],
        plan.metric,
        plan.title,
        plan.kind,
        plan.target,
        plan.active_from,
        plan.active_until,
        plan.window,
        rewards,
        plan.titles,
    )
