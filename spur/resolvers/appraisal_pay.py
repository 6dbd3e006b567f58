"""Finalising an appraisal: the score, the grade, and the pay they move.

One transaction re-measures the metric dimensions, scores and grades the
appraisal, writes the APPRAISAL_FINALIZED event and the ledger entries (the
performance bonus at the grade's multiplier, a process reward, the grant of
a streak of good years), and takes back what a superseded version paid
(spur.resolvers.appraisal_grant). Every entry has a unique key per appraisal
version, so nothing pays twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.engine import messages, money
from spur.engine.appraisal import (
    AppraisalStatus,
)
from spur.models import (
    AchievementEvent,
    Appraisal,
    AppraisalCycle,
    EntryCause,
    EventKind,
    LedgerEntry,
    Member,
    RewardKind,
)
from spur.models.upserts import insert_new
from spur.resolvers.appraisal import (
    advance,
    check_reviewer,
    check_status,
    load_appraisal,
)
from spur.resolvers.appraisal_fill import (
    Scored,
    Setting,
    load_setting,
    score,
    store_measures,
)
from spur.resolvers.appraisal_grant import Line, grant_streaks, take_back_superseded
from spur.resolvers.payout import entry_status

logger = logging.getLogger(__name__)

_TITLES = {
    "Performance bonus": {"zh-CN": "绩效奖金"},
    "Process reward": {"zh-CN": "过程奖励"},
}


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
    check_status(appraisal, AppraisalStatus.MANAGER_REVIEW)
    async with in_transaction() as conn:
        cycle = await AppraisalCycle.filter(id=appraisal.cycle_id).using_db(conn).get()
        setting = await load_setting(conn, cycle, [appraisal])
        done = await finalize_in(conn, setting, viewer.member_id, appraisal, now)
    logger.info(
        "member %s finalised appraisal %s: %s entries",
        viewer.member_id,
        appraisal.id,
        len(done.entries),
    )
    return done


async def finalize_in(
    conn: BaseDBAsyncClient,
    setting: Setting,
    actor_id: int,
    appraisal: Appraisal,
    now: datetime,
) -> Finalised:
    """Finalise inside the caller's transaction (a cycle finalises many).

    Scoring writes nothing, so an appraisal that cannot be finalised yet
    (BAD_USER_INPUT) leaves the transaction as it was.
    """
    check_status(appraisal, AppraisalStatus.MANAGER_REVIEW)
    scored = score(setting, appraisal)
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
    await store_measures(conn, scored.remeasured)
    pay = Pay(conn, setting, appraisal, now, actor_id)
    await pay.announce(scored)
    await pay.bonus(scored)
    kept = await grant_streaks(pay)
    await take_back_superseded(pay, kept)
    return Finalised(appraisal, pay.entries, pay.events)


@dataclass(frozen=True)
class People:
    """The appraised member, their language and their manager's."""

    member: Member
    language: str
    team_language: str


class Pay:
    """The ledger entries and events of one finalisation."""

    def __init__(
        self,
        conn: BaseDBAsyncClient,
        setting: Setting,
        appraisal: Appraisal,
        now: datetime,
        actor_id: int,
    ) -> None:
        self.conn, self.setting, self.appraisal = conn, setting, appraisal
        self.now, self.actor_id = now, actor_id
        self.entries: list[int] = []
        self.events: list[AchievementEvent] = []
        self._people: People | None = None

    def key(self, tail: str) -> str:
        a = self.appraisal
        return f"appraisal:c{a.cycle_id}:m{a.member_id}:v{a.version}:{tail}"

    async def bonus(self, scored: Scored) -> None:
        """The performance bonus at the grade's multiplier, and the process
        reward, which a strong process earns even when results are low."""
        template, currency = self.setting.template, self.setting.company.currency
        inputs = {
            "grade": scored.band.grade.value,
            "multiplier": f"{scored.band.multiplier:f}",
            "score": f"{scored.score:f}",
            "appraisal_version": str(self.appraisal.version),
        }
        base = template.bonus_base
        if base is not None:
            amount = money.quantize(base * scored.band.multiplier, currency)
            extra = {"bonus_base": f"{money.quantize(base, currency):f}"}
            await self._cash("bonus", "Performance bonus", amount, inputs | extra)
        minimum, reward = template.process_reward_min, template.process_reward_amount
        process = scored.process
        if minimum is None or reward is None or process is None or process < minimum:
            return
        extra = {"process_score": f"{process:f}", "process_min": _text(minimum)}
        amount = money.quantize(reward, currency)
        await self._cash("process", "Process reward", amount, inputs | extra)

    async def _cash(
        self, tail: str, title: str, amount: Decimal, inputs: dict[str, str]
    ) -> None:
        if amount == 0:
            return
        status = entry_status(None, RewardKind.CASH, amount)
        await self.write(
            Line(
                key=self.key(tail),
                kind=RewardKind.CASH,
                title=title,
                titles=_TITLES.get(title, {}),
                status=status,
                amount=amount,
                inputs=inputs,
            )
        )

    async def write(self, line: Line) -> int | None:
        """Insert the line unless its key exists; its id, or None."""
        company = self.setting.company
        entry_id = await insert_new(
            self.conn,
            LedgerEntry,
            {
                "company_id": company.id,
                "member_id": self.appraisal.member_id,
                "key": line.key,
                "kind": line.kind,
                "title": line.title,
                "titles": line.titles,
                "amount": line.amount,
                "currency": company.currency if line.amount is not None else None,
                "quantity": line.quantity,
                "status": line.status,
                "rule_ref": f"appraisal:{self.appraisal.id}",
                "plan_version_id": line.plan_version_id,
                "rule_id": line.rule_id,
                "cause": EntryCause.APPRAISAL,
                "appraisal_id": self.appraisal.id,
                "reverses_id": line.reverses_id,
                "inputs": line.inputs,
                "earned_at": self.now,
                "created_at": self.now,
            },
        )
        if entry_id is None:
            return None
        self.entries.append(entry_id)
        if line.announce and _positive(line):
            await self._reward_event(entry_id, line)
        return entry_id

    async def _reward_event(self, entry_id: int, line: Line) -> None:
        people = await self.people()
        currency = self.setting.company.currency
        shown = (
            None if line.amount is None else money.format_money(line.amount, currency)
        )
        lang, team_lang = people.language, people.team_language
        message = messages.reward_earned(
            lang,
            reward_title=messages.localized(line.title, line.titles, lang),
            amount=shown,
            goal_title=None,
            period_kind=None,
        )
        team_message = messages.reward_earned_by(
            team_lang,
            member_name=people.member.name,
            reward_title=messages.localized(line.title, line.titles, team_lang),
            amount=shown,
        )
        self.events.append(
            await self._event(
                EventKind.REWARD_EARNED,
                f"reward:{entry_id}",
                entry_id,
                (message, team_message),
            )
        )

    async def announce(self, scored: Scored) -> None:
        """APPRAISAL_FINALIZED to the member and the team feed, first."""
        people = await self.people()
        cycle, grade = self.setting.cycle, scored.band.grade.value
        message = messages.appraisal_finalized(
            people.language,
            cycle_name=messages.localized(cycle.name, cycle.titles, people.language),
            grade=grade,
            score=f"{scored.score:f}",
        )
        team_message = messages.appraisal_finalized_by(
            people.team_language,
            member_name=people.member.name,
            cycle_name=messages.localized(
                cycle.name, cycle.titles, people.team_language
            ),
            grade=grade,
        )
        self.events.append(
            await self._event(
                EventKind.APPRAISAL_FINALIZED,
                f"appraisal:{self.appraisal.id}:finalized",
                None,
                (message, team_message),
            )
        )

    async def people(self) -> People:
        """The member, their language, and their team manager's language."""
        if self._people is None:
            member = (
                await Member.filter(id=self.appraisal.member_id)
                .select_related("team__manager")
                .using_db(self.conn)
                .get()
            )
            manager = member.team.manager if member.team is not None else None
            team_lang = manager.language if manager is not None else member.language
            self._people = People(member, member.language, team_lang)
        return self._people

    async def _event(
        self,
        kind: EventKind,
        dedupe: str,
        entry_id: int | None,
        texts: tuple[str, str],
    ) -> AchievementEvent:
        member = (await self.people()).member
        return await AchievementEvent.create(
            using_db=self.conn,
            company_id=self.setting.company.id,
            kind=kind,
            member_id=member.id,
            team_id=member.team_id,
            ledger_entry_id=entry_id,
            dedupe_key=dedupe,
            message=texts[0],
            team_message=texts[1],
            occurred_at=self.now,
        )


def _positive(line: Line) -> bool:
    if line.amount is not None:
        return line.amount > 0
    return line.quantity is None or line.quantity > 0


def _text(number: Decimal) -> str:
    """A stored decimal as it was written: 90, not 90.0000."""
    return f"{number.normalize():f}"
