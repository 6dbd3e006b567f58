"""Preference surveys and the profiles of segments built from them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from spur.api.context import Context
from spur.engine import preferences as prefs
from spur.engine.preferences import Family, Segment
from spur.models import IncentivePreference, PreferenceSurvey
from spur.resolvers import preference as profiles
from spur.resolvers.permissions import CanHavePlans, CanReadTeamPreferences
from spur.resolvers.plan import local_today
from spur.schema.achievement import team_pk
from spur.schema.plan import IncentivePlanNode

SegmentType = strawberry.enum(
    Segment,
    name="StaffSegment",
    description="YOUNG: aged 30 or under; SENIOR: 35 or over; OTHER: 31 to 34 "
    "or no birth date known.",
)
SourceType = strawberry.enum(
    prefs.Source,
    name="PreferenceSource",
    description="STATED: from the member's survey or profile; INFERRED: from "
    "the rewards they earned.",
)


def _preference(family: Family) -> IncentivePreference:
    return IncentivePreference(family.value)


@strawberry.type(description="One answer to the preference survey.")
class PreferenceSurveyType:
    survey: strawberry.Private[PreferenceSurvey]

    @strawberry.field(description="The kinds of reward ranked, favourite first.")
    def ranking(self) -> list[IncentivePreference]:
        return [IncentivePreference(choice) for choice in self.survey.ranking]

    @strawberry.field(description="The local date it was answered.")
    def answered_on(self) -> date:
        return self.survey.answered_on

    @strawberry.field(description="When it was submitted.")
    def submitted_at(self) -> datetime:
        return self.survey.submitted_at


@strawberry.type(description="How many of a segment prefer one kind of reward.")
class PreferenceShare:
    preference: IncentivePreference = strawberry.field(description="The kind.")
    count: int = strawberry.field(description="Members whose preference it is.")
    share: Decimal = strawberry.field(
        description="Of the members whose preference is known, 0 to 1."
    )


@strawberry.type(description="How a segment's rewards could be split.")
class MixShare:
    preference: IncentivePreference = strawberry.field(description="The kind.")
    share: Decimal = strawberry.field(description="0 to 1; the shares add up to 1.")


@strawberry.type(description="A plan some of a segment's members are on.")
class SegmentPlan:
    plan: IncentivePlanNode = strawberry.field(description="The plan.")
    members: int = strawberry.field(description="Members of the segment it covers.")
    offered_mix: list[MixShare] = strawberry.field(
        description="The share of the plan's rules (in force today) by kind."
    )


def _mix(found: dict[Family, Decimal]) -> list[MixShare]:
    return [MixShare(preference=_preference(f), share=s) for f, s in found.items()]


@strawberry.type(description="What a segment of staff prefers, and what it gets.")
class PreferenceProfile:
    profile: strawberry.Private[profiles.Profile]

    @strawberry.field(description="The segment.")
    def segment(self) -> Segment:
        return self.profile.shares.segment

    @strawberry.field(description="Active salespeople and managers in it.")
    def members(self) -> int:
        return self.profile.shares.members

    @strawberry.field(description="Members whose preference was stated.")
    def stated(self) -> int:
        return self.profile.shares.stated

    @strawberry.field(description="Members whose preference was inferred.")
    def inferred(self) -> int:
        return self.profile.shares.inferred

    @strawberry.field(description="The share for each kind of reward.")
    def shares(self) -> list[PreferenceShare]:
        return [
            PreferenceShare(
                preference=_preference(s.family), count=s.count, share=s.share
            )
            for s in self.profile.shares.shares
        ]

    @strawberry.field(description="The kind most of the segment prefers.")
    def top(self) -> IncentivePreference | None:
        top = self.profile.shares.top
        return _preference(top.family) if top else None

    @strawberry.field(
        description="A sentence such as “75% of staff aged 30 or under prefer "
        "instant commission”, in the viewer's language."
    )
    def headline(self, info: strawberry.Info[Context, Any]) -> str:
        return prefs.headline(self.profile.shares, info.context.viewer.language)

    @strawberry.field(
        description="The recommended split of rewards: the shares smoothed by "
        "one imagined member per kind, in whole percent."
    )
    def recommended_mix(self) -> list[MixShare]:
        return _mix(self.profile.recommended)

    @strawberry.field(description="The plans the segment's members are on today.")
    def plans(self) -> list[SegmentPlan]:
        return [
            SegmentPlan(
                plan=IncentivePlanNode.of(beside.plan),
                members=beside.members,
                offered_mix=_mix(beside.offered),
            )
            for beside in self.profile.plans
        ]


@strawberry.input(description="A ranking of the kinds of reward, favourite first.")
class SubmitPreferenceSurveyInput:
    ranking: list[IncentivePreference] = strawberry.field(
        description="One to four distinct kinds; choosing one is a ranking of one."
    )


@strawberry.type(description="The answer as stored.")
class SubmitPreferenceSurveyPayload:
    survey: PreferenceSurveyType = strawberry.field(description="The answer.")


async def _profiles(
    info: strawberry.Info[Context, Any], days: int, team_id: strawberry.ID | None
) -> dict[Segment, profiles.Profile]:
    ctx = info.context
    team = team_pk(team_id) if team_id is not None else None
    return await profiles.profiles(ctx.viewer, local_today(ctx), days, team)


@strawberry.type
class PreferenceQuery:
    @strawberry.field(
        description="Every segment's preference shares among the staff the "
        "viewer may see (HR: the company; a manager: their teams).",
        permission_classes=[CanReadTeamPreferences],
    )
    async def preference_shares(
        self,
        info: strawberry.Info[Context, Any],
        days: int = 90,
        team_id: strawberry.ID | None = None,
    ) -> list[PreferenceProfile]:
        found = await _profiles(info, days, team_id)
        return [PreferenceProfile(profile=found[s]) for s in Segment]

    @strawberry.field(
        description="One segment's preferences, recommended mix and plans; "
        "preferences not stated are inferred from the last `days` of rewards.",
        permission_classes=[CanReadTeamPreferences],
    )
    async def preference_profile(
        self,
        info: strawberry.Info[Context, Any],
        segment: Segment,
        days: int = 90,
        team_id: strawberry.ID | None = None,
    ) -> PreferenceProfile:
        found = await _profiles(info, days, team_id)
        return PreferenceProfile(profile=found[segment])

    @strawberry.field(
        description="The viewer's latest survey answer, if any.",
        permission_classes=[CanHavePlans],
    )
    async def my_preference_survey(
        self, info: strawberry.Info[Context, Any]
    ) -> PreferenceSurveyType | None:
        found = await profiles.latest_survey(info.context.viewer.member_id)
        return PreferenceSurveyType(survey=found) if found else None


@strawberry.type
class PreferenceMutation:
    @strawberry.mutation(
        description="Answer the preference survey; the first choice becomes "
        "the viewer's stated preference. Answering again keeps the old answer "
        "on record.",
        permission_classes=[CanHavePlans],
    )
    async def submit_preference_survey(
        self, info: strawberry.Info[Context, Any], input: SubmitPreferenceSurveyInput
    ) -> SubmitPreferenceSurveyPayload:
        ctx = info.context
        survey = await profiles.submit_survey(ctx.services, ctx.viewer, input.ranking)
        return SubmitPreferenceSurveyPayload(survey=PreferenceSurveyType(survey=survey))
