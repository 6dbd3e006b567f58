"""Appraisals as members, managers and HR read them: templates, cycles, and
each member's appraisal with its dimension scores and the pay it moved."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from spur.api.context import Context, Viewer
from spur.engine import messages
from spur.engine.appraisal import (
    AppraisalStatus,
    DimensionKind,
    Grade,
    Weighted,
    shares,
)
from spur.engine.periods import PeriodKind, period_starting
from spur.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalDimension,
    AppraisalScore,
    CycleStatus,
    Role,
)
from spur.resolvers import appraisal_read as read
from spur.resolvers.appraisal import load_cycle
from spur.resolvers.ids import row_key
from spur.resolvers.ledger import key_of
from spur.resolvers.permissions import CanReviewAppraisals
from spur.schema.appraisal_template import AppraisalTemplateNode, as_float
from spur.schema.goal import Period
from spur.schema.pagination import Connection, connection, page_bounds
from spur.schema.reward import RewardNode

if TYPE_CHECKING:
    from spur.schema.member import MemberNode

strawberry.enum(AppraisalStatus, description="Where an appraisal stands.")
strawberry.enum(Grade, name="AppraisalGrade", description="A grade from the bands.")
strawberry.enum(
    DimensionKind,
    name="AppraisalDimensionKind",
    description="A process or result metric, or rated by people.",
)
strawberry.enum(
    CycleStatus,
    name="AppraisalCycleStatus",
    description="OPEN while any appraisal is unfinished; CLOSED once all are final.",
)

MemberRef = Annotated["MemberNode", strawberry.lazy("spur.schema.member")]


def _two_places(value: Decimal) -> Decimal:
    """1.2 as 1.20, as multipliers are written; more places kept as they are."""
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value.normalize()


@strawberry.type(name="AppraisalCycle", description="An appraisal round.")
class AppraisalCycleNode(relay.Node):
    id: relay.NodeID[int]
    row: strawberry.Private[AppraisalCycle]

    @classmethod
    def of(cls, row: AppraisalCycle) -> Self:
        return cls(id=row.id, row=row)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        viewer = info.context.viewer
        found = await info.context.loaders.appraisal_cycle.load_many(
            [row_key(k) for k in node_ids]
        )
        return [
            cls.of(c)
            if c and c.company_id == viewer.company_id and viewer.role != Role.PARTNER
            else None
            for c in found
        ]

    @strawberry.field(
        description="Such as 2026-Q4 appraisal, in the viewer's language."
    )
    def name(self, info: strawberry.Info[Context, Any]) -> str:
        return messages.localized(self.row.name, self.row.titles, info.context.language)

    @strawberry.field(description="The kind of period it covers.")
    def period_kind(self) -> PeriodKind:
        return self.row.period_kind

    @strawberry.field(description="The period its metrics are measured over.")
    def period(self, info: strawberry.Info[Context, Any]) -> Period:
        tz = info.context.viewer.timezone
        return Period.of(
            period_starting(self.row.period_kind, self.row.period_start, tz)
        )

    @strawberry.field(description="OPEN, or CLOSED once every appraisal is final.")
    def status(self) -> CycleStatus:
        return self.row.status

    @strawberry.field(
        description="The template it scores by: managers and HR admins.",
        permission_classes=[CanReviewAppraisals],
    )
    async def template(
        self, info: strawberry.Info[Context, Any]
    ) -> AppraisalTemplateNode:
        found = await info.context.loaders.appraisal_template.load(self.row.template_id)
        assert found is not None  # templates of cycles cannot be deleted
        return AppraisalTemplateNode(id=found.id, row=found)


def _page(
    info: strawberry.Info[Context, Any], rows: list[Appraisal], offset: int, limit: int
) -> Connection[AppraisalNode]:
    info.context.loaders.prime_all(rows)
    return connection([AppraisalNode.of(row) for row in rows], offset, limit)


@strawberry.type(description="One dimension of an appraisal, and how it scored.")
class AppraisalDimensionScore:
    row: strawberry.Private[AppraisalScore]
    dimension_row: strawberry.Private[AppraisalDimension]
    share: strawberry.Private[Decimal]
    sealed: strawberry.Private[bool]

    @strawberry.field(description="The dimension's name in the viewer's language.")
    def dimension(self, info: strawberry.Info[Context, Any]) -> str:
        row = self.dimension_row
        return messages.localized(row.name, row.titles, info.context.language)

    @strawberry.field(description="The dimension's stable code.")
    def code(self) -> str:
        return self.dimension_row.code

    @strawberry.field(description="A process or result metric, or rated.")
    def kind(self) -> DimensionKind:
        return self.dimension_row.kind

    @strawberry.field(
        description="Its share of the score, 0 to 1: its weight over the weights "
        "of the dimensions that apply (they sum to 1); 0 when it does not apply."
    )
    def weight(self) -> float:
        return float(self.share)

    @strawberry.field(description="The measured value (rate, hours…); null if rated.")
    def value(self) -> float | None:
        return as_float(self.row.value)

    @strawberry.field(description="The member's own rating, 0 to 100.")
    def self_score(self) -> float | None:
        return as_float(self.row.self_score)

    @strawberry.field(
        description="The score that counts, 0 to 100: measured, or the reviewer's "
        "rating (shown to the member once final); null while unrated."
    )
    def score(self) -> float | None:
        return None if self.sealed else as_float(self.row.score)

    @strawberry.field(description="False when it does not apply to the member.")
    def applies(self) -> bool:
        return self.row.applies

    @strawberry.field(description="The reviewer's comment on it, once visible.")
    def comment(self) -> str | None:
        return None if self.sealed else self.row.comment


@strawberry.type(name="Appraisal", description="A member's appraisal in a cycle.")
class AppraisalNode(relay.Node):
    id: relay.NodeID[int]
    row: strawberry.Private[Appraisal]

    @classmethod
    def of(cls, row: Appraisal) -> Self:
        return cls(id=row.id, row=row)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        ctx = info.context
        found = await ctx.loaders.appraisal.load_many([row_key(k) for k in node_ids])
        return [cls.of(a) if a and await read.visible(ctx, a) else None for a in found]

    @strawberry.field(description="The cycle it belongs to.")
    async def cycle(self, info: strawberry.Info[Context, Any]) -> AppraisalCycleNode:
        found = await info.context.loaders.appraisal_cycle.load(self.row.cycle_id)
        assert found is not None
        return AppraisalCycleNode.of(found)

    @strawberry.field(description="Whose appraisal it is.")
    async def member(self, info: strawberry.Info[Context, Any]) -> MemberRef:
        from spur.schema.member import MemberNode

        found = await info.context.loaders.member.load(self.row.member_id)
        assert found is not None
        return MemberNode.of(found)

    @strawberry.field(description="1, then one more for each correction.")
    def version(self) -> int:
        return self.row.version

    @strawberry.field(description="False once a correction replaced it.")
    def is_current(self) -> bool:
        return self.row.is_current

    @strawberry.field(description="DRAFT, SELF_REVIEW, MANAGER_REVIEW or FINALIZED.")
    def status(self) -> AppraisalStatus:
        return self.row.status

    @strawberry.field(description="The overall score, 0 to 100; null until final.")
    def score(self) -> float | None:
        return as_float(self.row.score)

    @strawberry.field(description="The grade; null until final.")
    def grade(self) -> Grade | None:
        return self.row.grade

    @strawberry.field(description='The bonus multiplier, such as "1.20".')
    def bonus_multiplier(self) -> Decimal | None:
        value: Decimal | None = self.row.bonus_multiplier
        return None if value is None else _two_places(value)

    @strawberry.field(description="The score of the process dimensions alone.")
    def process_score(self) -> float | None:
        return as_float(self.row.process_score)

    @strawberry.field(description="The score of the result dimensions alone.")
    def result_score(self) -> float | None:
        return as_float(self.row.result_score)

    @strawberry.field(description="Every dimension, in the template's order.")
    async def scores(
        self, info: strawberry.Info[Context, Any]
    ) -> list[AppraisalDimensionScore]:
        ctx = info.context
        rows = await ctx.loaders.appraisal_scores.load(self.row.id)
        dims = await ctx.loaders.appraisal_dimension.load_many(
            [r.dimension_id for r in rows]
        )
        pairs = sorted(
            ((r, d) for r, d in zip(rows, dims, strict=True) if d is not None),
            key=lambda pair: (pair[1].position, pair[1].id),
        )
        weights = shares(
            [Weighted(d.weight, Decimal(0) if r.applies else None) for r, d in pairs]
        )
        sealed = self._sealed(ctx.viewer)
        return [
            AppraisalDimensionScore(
                row=r,
                dimension_row=d,
                share=share,
                sealed=sealed and d.kind is DimensionKind.RATED,
            )
            for (r, d), share in zip(pairs, weights, strict=True)
        ]

    def _sealed(self, viewer: Viewer) -> bool:
        """The reviewer's ratings reach the member when the appraisal is final."""
        return (
            viewer.member_id == self.row.member_id
            and self.row.status is not AppraisalStatus.FINALIZED
        )

    @strawberry.field(description="The member's comment from self review.")
    def self_comment(self) -> str | None:
        return self.row.self_comment

    @strawberry.field(description="The reviewer's comment; the member sees it final.")
    def manager_comment(self, info: strawberry.Info[Context, Any]) -> str | None:
        return None if self._sealed(info.context.viewer) else self.row.manager_comment

    @strawberry.field(description="When it was finalised.")
    def finalized_at(self) -> datetime | None:
        return self.row.finalized_at

    @strawberry.field(description="The version this one corrects, if any.")
    async def supersedes(self, info: strawberry.Info[Context, Any]) -> Self | None:
        if self.row.supersedes_id is None:
            return None
        found = await info.context.loaders.appraisal.load(self.row.supersedes_id)
        return None if found is None else type(self).of(found)

    @strawberry.field(description="Why this version corrects the one before.")
    def correction_reason(self) -> str | None:
        return self.row.correction_reason

    @strawberry.field(
        description="The ledger lines this version wrote: its bonus, process "
        "reward, grants, and what it took back from the version before."
    )
    async def rewards(self, info: strawberry.Info[Context, Any]) -> list[RewardNode]:
        entries = await info.context.loaders.appraisal_entries.load(self.row.id)
        return [RewardNode.of(e) for e in entries]


@strawberry.type
class AppraisalQuery:
    @strawberry.field(
        description="The company's appraisal cycles, newest period first: "
        "managers and HR admins.",
        permission_classes=[CanReviewAppraisals],
    )
    async def appraisal_cycles(
        self,
        info: strawberry.Info[Context, Any],
        first: int = 20,
        after: str | None = None,
    ) -> Connection[AppraisalCycleNode]:
        offset, limit = page_bounds(first, after)
        rows = await read.cycles(info.context.viewer, offset, limit)
        return connection([AppraisalCycleNode.of(r) for r in rows], offset, limit)

    @strawberry.field(
        description="The company's appraisal templates, newest first: managers "
        "and HR admins.",
        permission_classes=[CanReviewAppraisals],
    )
    async def appraisal_templates(
        self,
        info: strawberry.Info[Context, Any],
        first: int = 20,
        after: str | None = None,
    ) -> Connection[AppraisalTemplateNode]:
        offset, limit = page_bounds(first, after)
        rows = await read.templates(info.context.viewer, offset, limit)
        nodes = [AppraisalTemplateNode(id=r.id, row=r) for r in rows]
        return connection(nodes, offset, limit)

    @strawberry.field(
        description="A cycle's appraisals in force that the viewer reviews (a "
        "manager's teams', HR's all), in member order, optionally of one status.",
        permission_classes=[CanReviewAppraisals],
    )
    async def cycle_appraisals(
        self,
        info: strawberry.Info[Context, Any],
        cycle_id: strawberry.ID,
        status: AppraisalStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[AppraisalNode]:
        offset, limit = page_bounds(first, after)
        viewer = info.context.viewer
        cycle = await load_cycle(
            viewer, key_of(str(cycle_id), "AppraisalCycle", "cycleId")
        )
        rows = await read.cycle_appraisals(viewer, cycle.id, status, offset, limit)
        return _page(info, rows, offset, limit)

    @strawberry.field(
        description="Appraisals waiting in MANAGER_REVIEW for the viewer: a "
        "team's, or all the viewer reviews when teamId is null; never one's own.",
        permission_classes=[CanReviewAppraisals],
    )
    async def pending_appraisals(
        self,
        info: strawberry.Info[Context, Any],
        team_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[AppraisalNode]:
        offset, limit = page_bounds(first, after)
        team = None if team_id is None else key_of(str(team_id), "Team", "teamId")
        rows = await read.pending(info.context.viewer, team, offset, limit)
        return _page(info, rows, offset, limit)


async def member_appraisals(
    info: strawberry.Info[Context, Any], member_id: int, first: int, after: str | None
) -> Connection[AppraisalNode]:
    """A member's current appraisals, newest cycle first (Member.appraisals)."""
    offset, limit = page_bounds(first, after)
    rows = await read.member_appraisals(member_id, offset, limit)
    return _page(info, rows, offset, limit)
