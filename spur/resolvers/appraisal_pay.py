"""Finalising an appraisal: the score, the grade, and the pay they move.

One transaction re-measures the metric dimensions, scores and grades the
appraisal, writes its ledger entries (the performance bonus at the grade's
multiplier, a process reward, the equity of an excellent streak), takes back
what a superseded version paid, and writes the APPRAISAL_FINALIZED event.
Every entry has a unique key per appraisal version, so nothing pays twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict
from spur.engine import messages, money
from spur.engine.appraisal import (
    DEFAULT_BANDS,
    AppraisalStatus,
    Band,
    DimensionKind,
    Grade,
    Weighted,
    band_for,
    excellent_streak,
    parse_bands,
    weighted_score,
)
from spur.engine.incentives import AppraisalStreakParams
from spur.engine.periods import PeriodKind
from spur.models import (
    AchievementEvent,
    Appraisal,
    AppraisalCycle,
    AppraisalScore,
    AppraisalTemplate,
    Company,
    EntryCause,
    EventKind,
    LedgerEntry,
    Member,
    RewardKind,
    RewardStatus,
    StatusChange,
)
from spur.models.upserts import insert_new
from spur.resolvers.appraisal import advance, check_reviewer, load_appraisal
from spur.resolvers.appraisal_fill import Measurer
from spur.resolvers.payout import entry_status
from spur.resolvers.rulebook import load_rulebook, person_of


@dataclass(frozen=True)
class Scored:
    score: Decimal
    process: Decimal | None
    result: Decimal | None
    band: Band


@dataclass
class Finalised:
    """What finalising wrote: the appraisal, its entries and events."""

    appraisal: Appraisal
    entries: list[int]
    events: list[AchievementEvent]


async def finalize(viewer: Viewer, appraisal_id: int, now: datetime) -> Finalised:
    """Finalise an appraisal in MANAGER_REVIEW; CONFLICT if it is not."""
    appraisal = await load_appraisal(viewer, appraisal_id)
    check_reviewer(viewer, appraisal)
    async with in_transaction() as conn:
        return await finalize_in(conn, viewer.member_id, appraisal, now)


async def finalize_in(
    conn: BaseDBAsyncClient, actor_id: int, appraisal: Appraisal, now: datetime
) -> Finalised:
    """Finalise inside the caller's transaction (a cycle finalises many)."""
    cycle = await AppraisalCycle.filter(id=appraisal.cycle_id).using_db(conn).get()
    template = await AppraisalTemplate.filter(id=cycle.template_id).using_db(conn).get()
    company = await Company.filter(id=appraisal.company_id).using_db(conn).get()
    scored = await _score(conn, appraisal, cycle, template, ZoneInfo(company.timezone))
    await advance(
        conn,
        appraisal,
        AppraisalStatus.MANAGER_REVIEW,
        now,
        score=scored.score,
        process_score=scored.process,
        result_score=scored.result,
        grade=scored.band.grade,
        bonus_multiplier=scored.band.multiplier,
        finalized_at=now,
        finalized_by_id=actor_id,
    )
    appraisal.score, appraisal.grade = scored.score, scored.band.grade
    appraisal.bonus_multiplier = scored.band.multiplier
    pay = _Pay(conn, company, appraisal, cycle, now, actor_id)
    await pay.bonus(template, scored)
    await pay.take_back_superseded()
    await pay.streak()
    await pay.announce(scored)
    return Finalised(appraisal, pay.entries, pay.events)


async def _score(
    conn: BaseDBAsyncClient,
    appraisal: Appraisal,
    cycle: AppraisalCycle,
    template: AppraisalTemplate,
    tz: ZoneInfo,
) -> Scored:
    rows = (
        await AppraisalScore.filter(appraisal_id=appraisal.id)
        .select_related("dimension")
        .using_db(conn)
    )
    await _remeasure(conn, appraisal, cycle, rows, tz)
    missing = [
        r.dimension.name
        for r in rows
        if r.dimension.kind is DimensionKind.RATED and r.applies and r.score is None
    ]
    if missing:
        raise BadUserInput(
            f"Rate {', '.join(missing)} before finalising.", field="ratings"
        )
    overall = weighted_score([_weighted(r) for r in rows])
    if overall is None:
        raise BadUserInput("No dimension of this appraisal applies.", field="scores")
    bands = parse_bands(template.bands) if template.bands else DEFAULT_BANDS
    return Scored(
        overall,
        _of_kind(rows, DimensionKind.PROCESS),
        _of_kind(rows, DimensionKind.RESULT),
        band_for(overall, bands),
    )


def _weighted(row: AppraisalScore) -> Weighted:
    return Weighted(row.dimension.weight, row.score if row.applies else None)


def _of_kind(rows: list[AppraisalScore], kind: DimensionKind) -> Decimal | None:
    return weighted_score([_weighted(r) for r in rows if r.dimension.kind is kind])


async def _remeasure(
    conn: BaseDBAsyncClient,
    appraisal: Appraisal,
    cycle: AppraisalCycle,
    rows: list[AppraisalScore],
    tz: ZoneInfo,
) -> None:
    """Metric dimensions as the cycle's activity stands at finalisation."""
    measured = [r for r in rows if r.dimension.kind is not DimensionKind.RATED]
    if not measured:
        return
    measurer = Measurer(cycle, [r.dimension for r in measured], tz)
    await measurer.load(conn, [appraisal.member_id])
    for row in measured:
        now = measurer.measure(appraisal.member_id, row.dimension)
        row.value, row.score, row.applies = now.value, now.score, now.applies
        await (
            AppraisalScore.filter(id=row.id)
            .using_db(conn)
            .update(value=now.value, score=now.score, applies=now.applies)
        )


class _Pay:
    """The ledger entries and events of one finalisation."""

    def __init__(
        self,
        conn: BaseDBAsyncClient,
        company: Company,
        appraisal: Appraisal,
        cycle: AppraisalCycle,
        now: datetime,
        actor_id: int,
    ) -> None:
        self.conn, self.company, self.appraisal = conn, company, appraisal
        self.cycle, self.now, self.actor_id = cycle, now, actor_id
        self.entries: list[int] = []
        self.events: list[AchievementEvent] = []
        self._who: tuple[Member, str, str] | None = None

    def _key(self, tail: str) -> str:
        a = self.appraisal
        return f"appraisal:c{a.cycle_id}:m{a.member_id}:v{a.version}:{tail}"

    async def bonus(self, template: AppraisalTemplate, scored: Scored) -> None:
        base = template.bonus_base
        inputs = {
            "grade": scored.band.grade.value,
            "multiplier": f"{scored.band.multiplier:f}",
            "score": f"{scored.score:f}",
            "appraisal_version": str(self.appraisal.version),
        }
        if base is not None:
            amount = money.quantize(
                base * scored.band.multiplier, self.company.currency
            )
            await self._cash(
                "bonus",
                "Performance bonus",
                amount,
                inputs | {"bonus_base": f"{base:f}"},
            )
        await self._process_reward(template, scored, inputs)

    async def _process_reward(
        self, template: AppraisalTemplate, scored: Scored, inputs: dict[str, str]
    ) -> None:
        """Strong process earns its reward even when results are low."""
        minimum, reward = template.process_reward_min, template.process_reward_amount
        process = scored.process
        if minimum is None or reward is None or process is None or process < minimum:
            return
        await self._cash(
            "process",
            "Process reward",
            money.quantize(reward, self.company.currency),
            inputs | {"process_score": f"{process:f}", "process_min": f"{minimum:f}"},
        )

    async def _cash(
        self, tail: str, title: str, amount: Decimal, inputs: dict[str, str]
    ) -> None:
        if amount == 0:
            return
        await self._entry(
            self._key(tail),
            RewardKind.CASH,
            title,
            amount,
            None,
            inputs,
            entry_status(None, RewardKind.CASH, amount),
        )

    async def _entry(
        self,
        key: str,
        kind: RewardKind,
        title: str,
        amount: Decimal | None,
        quantity: Decimal | None,
        inputs: dict[str, str],
        status: RewardStatus,
        reverses_id: int | None = None,
    ) -> int | None:
        entry_id = await insert_new(
            self.conn,
            LedgerEntry,
            {
                "company_id": self.company.id,
                "member_id": self.appraisal.member_id,
                "key": key,
                "kind": kind,
                "title": title,
                "titles": _TITLES.get(title, {}),
                "amount": amount,
                "currency": self.company.currency if amount is not None else None,
                "quantity": quantity,
                "status": status,
                "rule_ref": f"appraisal:{self.appraisal.id}",
                "cause": EntryCause.APPRAISAL,
                "appraisal_id": self.appraisal.id,
                "reverses_id": reverses_id,
                "inputs": inputs,
                "earned_at": self.now,
                "created_at": self.now,
            },
        )
        if entry_id is not None:
            self.entries.append(entry_id)
            positive = (amount is not None and amount > 0) or (
                amount is None and (quantity is None or quantity > 0)
            )
            if positive:
                await self._reward_event(entry_id, title, amount)
        return entry_id

    async def take_back_superseded(self) -> None:
        """A corrected appraisal's pay replaces the version it supersedes."""
        old_id = self.appraisal.supersedes_id
        if old_id is None:
            return
        old = await LedgerEntry.filter(
            appraisal_id=old_id,
            cause=EntryCause.APPRAISAL,
            reverses_id__isnull=True,
            amount__isnull=False,
        ).using_db(self.conn)
        for entry in old:
            if entry.status is RewardStatus.REJECTED or entry.amount is None:
                continue
            await self._compensate(entry)

    async def _compensate(self, entry: LedgerEntry) -> None:
        paid = entry.status is RewardStatus.PAID
        status = RewardStatus.APPROVED if paid else RewardStatus.REVERSED
        if not paid:
            await _reverse(self.conn, entry, self.actor_id, self.now)
        assert entry.amount is not None
        await self._entry(
            f"{entry.key}:corrected",
            entry.kind,
            entry.title,
            -entry.amount,
            None,
            {"corrected_by_version": str(self.appraisal.version)},
            status,
            entry.id,
        )

    async def streak(self) -> None:
        """The equity (or other grant) of an excellent streak, once a year."""
        if self.cycle.period_kind is not PeriodKind.YEAR:
            return
        member, _, _ = await self._people()
        book = await load_rulebook(self.conn, self.company.id)
        today = self.now.astimezone(ZoneInfo(self.company.timezone)).date()
        grades = await _yearly_grades(self.conn, member.id)
        year = self.cycle.period_start.year
        for rule in book.rules_for(person_of(member), today):
            params = rule.params
            if not isinstance(params, AppraisalStreakParams):
                continue
            if not excellent_streak(grades, year, params.years):
                continue
            grant = params.entitlement
            key = f"streak:p{rule.plan.id}:{rule.rule.code}:m{member.id}:{year}"
            await self._entry(
                key,
                RewardKind(grant.kind.value),
                grant.title or rule.rule.title,
                None,
                grant.quantity,
                {"years": str(params.years), "through": str(year)},
                entry_status(None, RewardKind(grant.kind.value), None),
            )

    async def _reward_event(
        self, entry_id: int, title: str, amount: Decimal | None
    ) -> None:
        member, lang, team_lang = await self._people()
        shown = (
            None
            if amount is None
            else money.format_money(amount, self.company.currency)
        )
        titles = _TITLES.get(title, {})
        self.events.append(
            await self._event(
                EventKind.REWARD_EARNED,
                f"reward:{entry_id}",
                entry_id,
                messages.reward_earned(
                    lang,
                    reward_title=messages.localized(title, titles, lang),
                    amount=shown,
                    goal_title=None,
                    period_kind=None,
                ),
                messages.reward_earned_by(
                    team_lang,
                    member_name=member.name,
                    reward_title=messages.localized(title, titles, team_lang),
                    amount=shown,
                ),
            )
        )

    async def announce(self, scored: Scored) -> None:
        member, lang, team_lang = await self._people()
        a = self.appraisal
        self.events.insert(
            0,
            await self._event(
                EventKind.APPRAISAL_FINALIZED,
                f"appraisal:{a.id}:finalized",
                None,
                messages.appraisal_finalized(
                    lang,
                    cycle_name=self.cycle.name,
                    grade=scored.band.grade.value,
                    score=f"{scored.score:f}",
                ),
                messages.appraisal_finalized_by(
                    team_lang,
                    member_name=member.name,
                    cycle_name=self.cycle.name,
                    grade=scored.band.grade.value,
                ),
            ),
        )

    async def _people(self) -> tuple[Member, str, str]:
        """The member, their language, and their team manager's language."""
        if self._who is None:
            member = (
                await Member.filter(id=self.appraisal.member_id)
                .select_related("team__manager")
                .using_db(self.conn)
                .get()
            )
            manager = member.team.manager if member.team is not None else None
            team_lang = manager.language if manager is not None else member.language
            self._who = (member, member.language, team_lang)
        return self._who

    async def _event(
        self,
        kind: EventKind,
        dedupe: str,
        entry_id: int | None,
        message: str,
        team_message: str,
    ) -> AchievementEvent:
        member, _, _ = await self._people()
        return await AchievementEvent.create(
            using_db=self.conn,
            company_id=self.company.id,
            kind=kind,
            member_id=member.id,
            team_id=member.team_id,
            ledger_entry_id=entry_id,
            dedupe_key=dedupe,
            message=message,
            team_message=team_message,
            occurred_at=self.now,
        )


_TITLES = {
    "Performance bonus": {"zh-CN": "绩效奖金"},
    "Process reward": {"zh-CN": "过程奖励"},
}


async def _yearly_grades(conn: BaseDBAsyncClient, member_id: int) -> dict[int, Grade]:
    rows = (
        await Appraisal.filter(
            member_id=member_id,
            is_current=True,
            status=AppraisalStatus.FINALIZED,
            cycle__period_kind=PeriodKind.YEAR,
        )
        .select_related("cycle")
        .using_db(conn)
    )
    return {r.cycle.period_start.year: r.grade for r in rows if r.grade is not None}


async def _reverse(
    conn: BaseDBAsyncClient, entry: LedgerEntry, actor_id: int, now: datetime
) -> None:
    moved = (
        await LedgerEntry.filter(id=entry.id, status=entry.status)
        .using_db(conn)
        .update(status=RewardStatus.REVERSED)
    )
    if moved != 1:
        raise Conflict("A superseded entry changed status meanwhile.", field="status")
    await StatusChange.create(
        using_db=conn,
        entry_id=entry.id,
        from_status=entry.status,
        to_status=RewardStatus.REVERSED,
        actor_id=actor_id,
        reason="Appraisal corrected",
        changed_at=now,
    )
