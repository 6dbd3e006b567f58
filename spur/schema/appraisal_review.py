"""Reviewing appraisals: the member's self review, the manager's ratings and
finalisation, corrections, and special contributions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from spur.api.context import Context
from spur.api.errors import BadUserInput
from spur.resolvers import appraisal as lifecycle
from spur.resolvers.appraisal import Rating
from spur.resolvers.appraisal_pay import finalize
from spur.resolvers.contribution import mark_special_contribution
from spur.resolvers.ledger import key_of
from spur.resolvers.permissions import CanHaveAppraisals, CanReviewAppraisals
from spur.schema.appraisal import AppraisalNode
from spur.schema.reward import RewardNode


@strawberry.input(description="A 0–100 rating of one rated dimension.")
class AppraisalRatingInput:
    dimension: str = strawberry.field(description="The dimension's code.")
    score: float = strawberry.field(description="0 to 100, two decimals at most.")
    comment: str | None = strawberry.field(
        default=None, description="The reviewer's note; none in self review."
    )

    def rating(self) -> Rating:
        return Rating(self.dimension, Decimal(repr(self.score)), self.comment)


@strawberry.input(description="The member's own ratings, handed to the manager.")
class SubmitSelfReviewInput:
    appraisal_id: strawberry.ID = strawberry.field(description="An Appraisal.")
    ratings: list[AppraisalRatingInput] = strawberry.field(
        default_factory=list, description="Rated dimensions, each once."
    )
    comment: str | None = strawberry.field(
        default=None, description="Up to 2,000 characters."
    )


@strawberry.input(description="The reviewer's ratings; the status stays.")
class ReviewAppraisalInput:
    appraisal_id: strawberry.ID = strawberry.field(description="An Appraisal.")
    ratings: list[AppraisalRatingInput] = strawberry.field(
        default_factory=list, description="Rated dimensions, each once."
    )
    comment: str | None = strawberry.field(
        default=None, description="Up to 2,000 characters; null keeps the last."
    )


@strawberry.type(description="The member's self review, handed over.")
class SubmitSelfReviewPayload:
    appraisal: AppraisalNode = strawberry.field(description="In MANAGER_REVIEW.")


@strawberry.type(description="The reviewer's ratings, stored.")
class ReviewAppraisalPayload:
    appraisal: AppraisalNode = strawberry.field(description="As it now stands.")


@strawberry.input(description="An appraisal in MANAGER_REVIEW to finalise.")
class FinalizeAppraisalInput:
    appraisal_id: strawberry.ID = strawberry.field(description="An Appraisal.")


@strawberry.type(description="The finalised appraisal and the pay it moved.")
class FinalizeAppraisalPayload:
    appraisal: AppraisalNode = strawberry.field(description="FINALIZED.")
    rewards: list[RewardNode] = strawberry.field(
        description="The ledger lines written: bonus, process reward, grants, "
        "and compensations of a corrected version."
    )


@strawberry.input(description="A finalised appraisal to correct, and why.")
class CorrectAppraisalInput:
    appraisal_id: strawberry.ID = strawberry.field(description="A FINALIZED one.")
    reason: str = strawberry.field(description="Why, 1 to 2,000 characters.")


@strawberry.type(description="The correction: a new version in MANAGER_REVIEW.")
class CorrectAppraisalPayload:
    appraisal: AppraisalNode = strawberry.field(
        description="The new version; finalise it to pay by its grade."
    )


@strawberry.input(description="A special contribution that merits promotion.")
class MarkSpecialContributionInput:
    member_id: strawberry.ID = strawberry.field(description="Whose contribution.")
    description: str = strawberry.field(
        description="What they did, 1 to 200 characters; the entitlement's title."
    )
    reference: str | None = strawberry.field(
        default=None,
        description="The client's id for the mark, 1 to 64 characters: sent "
        "again, it finds the first mark instead of making another.",
    )


@strawberry.type(description="The PROMOTION entitlement, awaiting HR approval.")
class MarkSpecialContributionPayload:
    reward: RewardNode = strawberry.field(description="PENDING until HR decides.")
    duplicate: bool = strawberry.field(
        description="True when the reference marked it before: nothing written."
    )


def _key(global_id: strawberry.ID, type_name: str, field: str) -> int:
    return key_of(str(global_id), type_name, field)


def _ratings(ratings: list[AppraisalRatingInput]) -> list[Rating]:
    if len(ratings) > 100:
        raise BadUserInput("At most 100 ratings.", field="ratings")
    return [r.rating() for r in ratings]


@strawberry.type
class AppraisalReviewMutation:
    @strawberry.mutation(
        description="The member rates themselves (SELF_REVIEW → MANAGER_REVIEW).",
        permission_classes=[CanHaveAppraisals],
    )
    async def submit_self_review(
        self, info: strawberry.Info[Context, Any], input: SubmitSelfReviewInput
    ) -> SubmitSelfReviewPayload:
        ctx = info.context
        row = await lifecycle.submit_self_review(
            ctx.viewer,
            _key(input.appraisal_id, "Appraisal", "appraisalId"),
            _ratings(input.ratings),
            input.comment,
            ctx.services.clock(),
        )
        return SubmitSelfReviewPayload(appraisal=AppraisalNode.of(row))

    @strawberry.mutation(
        description="The member's manager or HR rates the rated dimensions, "
        "in MANAGER_REVIEW; never one's own.",
        permission_classes=[CanReviewAppraisals],
    )
    async def review_appraisal(
        self, info: strawberry.Info[Context, Any], input: ReviewAppraisalInput
    ) -> ReviewAppraisalPayload:
        ctx = info.context
        row = await lifecycle.review(
            ctx.viewer,
            _key(input.appraisal_id, "Appraisal", "appraisalId"),
            _ratings(input.ratings),
            input.comment,
            ctx.services.clock(),
        )
        return ReviewAppraisalPayload(appraisal=AppraisalNode.of(row))

    @strawberry.mutation(
        description="Finalise a fully rated appraisal in MANAGER_REVIEW: score, "
        "grade, bonus and events. The member's manager or HR; never one's own.",
        permission_classes=[CanReviewAppraisals],
    )
    async def finalize_appraisal(
        self, info: strawberry.Info[Context, Any], input: FinalizeAppraisalInput
    ) -> FinalizeAppraisalPayload:
        ctx = info.context
        key = _key(input.appraisal_id, "Appraisal", "appraisalId")
        done = await finalize(ctx.viewer, key, ctx.services.clock())
        if done.events:
            ctx.services.relay.poke()
        entries = await ctx.loaders.ledger_entry.load_many(done.entries)
        return FinalizeAppraisalPayload(
            appraisal=AppraisalNode.of(done.appraisal),
            rewards=[RewardNode.of(e) for e in entries if e is not None],
        )

    @strawberry.mutation(
        description="Correct a finalised appraisal: a new version in "
        "MANAGER_REVIEW, with the reason. The manager or HR; never one's own.",
        permission_classes=[CanReviewAppraisals],
    )
    async def correct_appraisal(
        self, info: strawberry.Info[Context, Any], input: CorrectAppraisalInput
    ) -> CorrectAppraisalPayload:
        key = _key(input.appraisal_id, "Appraisal", "appraisalId")
        row = await lifecycle.correct(info.context.viewer, key, input.reason)
        return CorrectAppraisalPayload(appraisal=AppraisalNode.of(row))

    @strawberry.mutation(
        description="Mark a member's special contribution: a PROMOTION "
        "entitlement awaiting HR approval. The member's manager or HR.",
        permission_classes=[CanReviewAppraisals],
    )
    async def mark_special_contribution(
        self, info: strawberry.Info[Context, Any], input: MarkSpecialContributionInput
    ) -> MarkSpecialContributionPayload:
        ctx = info.context
        marked = await mark_special_contribution(
            ctx.viewer,
            _key(input.member_id, "Member", "memberId"),
            input.description,
            input.reference,
            ctx.services.clock(),
        )
        ctx.loaders.prime_all([marked.entry])
        return MarkSpecialContributionPayload(
            reward=RewardNode.of(marked.entry), duplicate=marked.duplicate
        )
