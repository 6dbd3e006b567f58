"""Setting appraisals up: HR admins create templates, open cycles, hand them
to the members for self review and finalise them in batches."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from spur.api.context import Context
from spur.engine.appraisal import DimensionKind
from spur.engine.periods import PeriodKind
from spur.resolvers import appraisal as lifecycle
from spur.resolvers import appraisal_cycle as cycles
from spur.resolvers.appraisal_admin import DimensionSpec, TemplateSpec, create_template
from spur.resolvers.ledger import key_of
from spur.resolvers.permissions import IsHrAdmin
from spur.schema.appraisal import AppraisalCycleNode
from spur.schema.appraisal_template import AppraisalTemplateNode


@strawberry.input(description="A name in one language.")
class AppraisalTitleInput:
    language: str = strawberry.field(description="zh-CN or en.")
    text: str = strawberry.field(description="The name in that language.")


def _titles(titles: list[AppraisalTitleInput] | None) -> tuple[tuple[str, str], ...]:
    return tuple((t.language, t.text) for t in titles or ())


@strawberry.input(description="One weighted dimension of a template.")
class AppraisalDimensionInput:
    code: str = strawberry.field(description="Letters, digits, _ or -; rated by it.")
    name: str = strawberry.field(description="What it is called.")
    titles: list[AppraisalTitleInput] | None = strawberry.field(
        default=None, description="The name per language, if it differs."
    )
    kind: DimensionKind = strawberry.field(description="PROCESS, RESULT or RATED.")
    weight: Decimal = strawberry.field(description="Above zero; shares renormalise.")
    metric: str | None = strawberry.field(
        default=None, description="PROCESS/RESULT: the key of the metric measured."
    )
    per_metric: str | None = strawberry.field(
        default=None,
        description="Divide by this metric's total (a rate); a zero total "
        "means the dimension does not apply.",
    )
    divisor: Decimal | None = strawberry.field(
        default=None, description="Divide by a constant, such as 60 for hours."
    )
    per_working_day: bool = strawberry.field(
        default=False, description="Divide by the cycle's working days."
    )
    scale: JSON | None = strawberry.field(
        default=None,
        description='PROCESS/RESULT: {"target": "40"} (with "lowerIsBetter": true '
        'for reply time) or {"points": [["0", "0"], ["10", "100"]]}.',
    )

    def spec(self) -> DimensionSpec:
        return DimensionSpec(
            code=self.code,
            name=self.name,
            titles=_titles(self.titles),
            kind=self.kind,
            weight=self.weight,
            metric=self.metric,
            per_metric=self.per_metric,
            divisor=self.divisor,
            per_working_day=self.per_working_day,
            scale=self.scale,
        )


@strawberry.input(description="A template of weighted dimensions and bands.")
class CreateAppraisalTemplateInput:
    name: str = strawberry.field(description="Unique in the company.")
    titles: list[AppraisalTitleInput] | None = strawberry.field(
        default=None, description="The name per language, if it differs."
    )
    dimensions: list[AppraisalDimensionInput] = strawberry.field(
        description="1 to 30 dimensions, in the order shown."
    )
    bands: JSON | None = strawberry.field(
        default=None,
        description='[{"minimum": "90", "grade": "EXCELLENT", "multiplier": '
        '"1.20"}, …], one band from 0; null: 90/80/70/0 with 1.20/1.00/0.90/0.50.',
    )
    bonus_base: Decimal | None = strawberry.field(
        default=None, description="The performance bonus at a 1.00 multiplier."
    )
    process_reward_min: Decimal | None = strawberry.field(
        default=None, description="The process score, 0 to 100, that earns it."
    )
    process_reward_amount: Decimal | None = strawberry.field(
        default=None, description="The process reward; set with processRewardMin."
    )

    def spec(self) -> TemplateSpec:
        return TemplateSpec(
            name=self.name,
            titles=_titles(self.titles),
            dimensions=[d.spec() for d in self.dimensions],
            bands=self.bands,
            bonus_base=self.bonus_base,
            process_reward_min=self.process_reward_min,
            process_reward_amount=self.process_reward_amount,
        )


@strawberry.type(description="The template created.")
class CreateAppraisalTemplatePayload:
    template: AppraisalTemplateNode = strawberry.field(description="As stored.")


@strawberry.input(description="A cycle to open for a set of members.")
class OpenAppraisalCycleInput:
    template_id: strawberry.ID = strawberry.field(description="An AppraisalTemplate.")
    name: str = strawberry.field(description="Unique in the company.")
    titles: list[AppraisalTitleInput] | None = strawberry.field(
        default=None, description="The name per language, if it differs."
    )
    period_kind: PeriodKind = strawberry.field(
        default=PeriodKind.QUARTER, description="The period measured."
    )
    period_start: date = strawberry.field(
        description="The period's first day, such as 2026-10-01."
    )
    member_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Who is appraised; null: every salesperson."
    )


@strawberry.type(description="The cycle opened.")
class OpenAppraisalCyclePayload:
    cycle: AppraisalCycleNode = strawberry.field(description="OPEN, in DRAFT.")
    appraisals: int = strawberry.field(description="How many it holds.")


@strawberry.input(description="A cycle whose DRAFT appraisals go to self review.")
class StartSelfReviewsInput:
    cycle_id: strawberry.ID = strawberry.field(description="An AppraisalCycle.")


@strawberry.type(description="How many appraisals went to self review.")
class StartSelfReviewsPayload:
    cycle: AppraisalCycleNode = strawberry.field(description="The cycle.")
    started: int = strawberry.field(description="Appraisals moved from DRAFT.")


@strawberry.input(description="A cycle whose fully rated appraisals to finalise.")
class FinalizeAppraisalCycleInput:
    cycle_id: strawberry.ID = strawberry.field(description="An AppraisalCycle.")


@strawberry.type(description="What finalising a cycle did.")
class FinalizeAppraisalCyclePayload:
    cycle: AppraisalCycleNode = strawberry.field(description="CLOSED when done.")
    finalized: int = strawberry.field(description="Appraisals finalised now.")
    skipped: int = strawberry.field(
        description="Left in MANAGER_REVIEW: not fully rated, nothing applies, "
        "or the viewer's own."
    )
    not_ready: int = strawberry.field(description="Still in DRAFT or SELF_REVIEW.")


def _key(global_id: strawberry.ID, type_name: str, field: str) -> int:
    return key_of(str(global_id), type_name, field)


def _member_ids(ids: list[strawberry.ID] | None) -> list[int] | None:
    if ids is None:
        return None
    return [_key(i, "Member", "memberIds") for i in ids]


@strawberry.type
class AppraisalMutation:
    @strawberry.mutation(
        description="Create an appraisal template: HR admins.",
        permission_classes=[IsHrAdmin],
    )
    async def create_appraisal_template(
        self, info: strawberry.Info[Context, Any], input: CreateAppraisalTemplateInput
    ) -> CreateAppraisalTemplatePayload:
        row = await create_template(info.context.viewer, input.spec())
        return CreateAppraisalTemplatePayload(
            template=AppraisalTemplateNode(id=row.id, row=row)
        )

    @strawberry.mutation(
        description="Open a cycle with a DRAFT appraisal per member, metric "
        "dimensions measured from the period's activity: HR admins.",
        permission_classes=[IsHrAdmin],
    )
    async def open_appraisal_cycle(
        self, info: strawberry.Info[Context, Any], input: OpenAppraisalCycleInput
    ) -> OpenAppraisalCyclePayload:
        request = cycles.CycleRequest(
            template_id=_key(input.template_id, "AppraisalTemplate", "templateId"),
            name=input.name,
            period_kind=input.period_kind,
            period_start=input.period_start,
            member_ids=_member_ids(input.member_ids),
            titles=_titles(input.titles),
        )
        cycle, count = await cycles.open_cycle(info.context.viewer, request)
        return OpenAppraisalCyclePayload(
            cycle=AppraisalCycleNode.of(cycle), appraisals=count
        )

    @strawberry.mutation(
        description="Hand a cycle's DRAFT appraisals to their members: HR admins.",
        permission_classes=[IsHrAdmin],
    )
    async def start_self_reviews(
        self, info: strawberry.Info[Context, Any], input: StartSelfReviewsInput
    ) -> StartSelfReviewsPayload:
        ctx = info.context
        key = _key(input.cycle_id, "AppraisalCycle", "cycleId")
        started = await cycles.start_self_reviews(ctx.viewer, key, ctx.services.clock())
        cycle = await lifecycle.load_cycle(ctx.viewer, key)
        return StartSelfReviewsPayload(
            cycle=AppraisalCycleNode.of(cycle), started=started
        )

    @strawberry.mutation(
        description="Finalise every fully rated appraisal of a cycle in "
        "MANAGER_REVIEW, in batches: HR admins.",
        permission_classes=[IsHrAdmin],
    )
    async def finalize_appraisal_cycle(
        self, info: strawberry.Info[Context, Any], input: FinalizeAppraisalCycleInput
    ) -> FinalizeAppraisalCyclePayload:
        ctx = info.context
        key = _key(input.cycle_id, "AppraisalCycle", "cycleId")
        done = await cycles.finalize_cycle(ctx.viewer, key, ctx.services.clock())
        if done.events:
            ctx.services.relay.poke()
        return FinalizeAppraisalCyclePayload(
            cycle=AppraisalCycleNode.of(done.cycle),
            finalized=done.finalized,
            skipped=done.skipped,
            not_ready=done.not_ready,
        )
