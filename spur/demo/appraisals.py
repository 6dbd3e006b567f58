"""The demo's appraisals, run through the live appraisal resolvers.

The company appraises its salespeople every quarter on process (platform
hours a working day, new-customer follow-ups, inquiry reply rate, average
reply time), results (orders, sales) and five dimensions their manager rates.
The demo holds the cycle of the last complete quarter, opened by HR for the
salespeople hired by its end, self-reviewed, rated by each team's manager and
finalised, so the bonus and process-reward entries and the events are the
ones the API writes.

The history covers only the last weeks of that quarter, while a cycle reads
the whole quarter's totals; the count targets (platform hours a working day,
follow-ups, orders, sales) are therefore the full-quarter targets times the
share of the quarter's working days the history covers. Rates and the reply
time are unaffected. Manager ratings come from the seed; with the measured
part they spread the grades over all four bands.

`senior.sea@example.com` also has yearly reviews for the three previous
years, graded EXCELLENT. No activity of those years is stored, so the yearly
template holds the rated dimensions only and no bonus base; finalising the
third year grants the senior plan's 1% equity, PENDING for HR.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from spur.api.context import Viewer
from spur.demo.calendar import Window, local_date
from spur.demo.history import MemberRef
from spur.demo.people import HR_EMAIL, SENIOR_EMAIL, TEAMS, Person
from spur.engine.appraisal import DimensionKind
from spur.engine.periods import Period, PeriodKind, period_containing
from spur.models import (
    AchievementEvent,
    Appraisal,
    EntryCause,
    LedgerEntry,
    Role,
)
from spur.resolvers.appraisal import Rating, review, submit_self_review
from spur.resolvers.appraisal_admin import DimensionSpec, TemplateSpec, create_template
from spur.resolvers.appraisal_cycle import (
    CycleRequest,
    finalize_cycle,
    open_cycle,
    start_self_reviews,
)

logger = logging.getLogger(__name__)

BONUS_BASE = Decimal("6000.00")
PROCESS_REWARD_MIN = Decimal(85)
PROCESS_REWARD = Decimal("800.00")
YEARS_OF_STREAK = 3
RATED = (
    ("character", "Character", "品德"),
    ("ability", "Ability", "能力"),
    ("diligence", "Diligence", "勤奋"),
    ("achievement", "Achievement", "业绩"),
    ("integrity", "Integrity", "诚信"),
)
RATED_WEIGHT = Decimal("0.08")
# A manager's overall view of a salesperson, before the spread per dimension:
# most do well, a few excel, a few fall short.
LEVELS = ((98, 3), (91, 3), (84, 3), (74, 2), (58, 1))
SPREAD = 4


@dataclass(frozen=True)
class Staff:
    """A demo person with the id they were stored under."""

    id: int
    person: Person


@dataclass(frozen=True)
class Cast:
    """Who acts in the demo's appraisals, as the API would see them."""

    hr: Viewer
    managers: dict[int, Viewer]  # by the team they manage
    staff: list[Staff]
    team_of: dict[int, int | None]  # member id to team id

    def member(self, staff: Staff) -> Viewer:
        return replace(
            self.hr,
            member_id=staff.id,
            role=Role.SALESPERSON,
            team_id=self.team_of[staff.id],
        )


def cast_of(
    company_id: int,
    tz: ZoneInfo,
    currency: str,
    people: list[Person],
    members: dict[int, MemberRef],
) -> Cast:
    """HR, the team managers and the salespeople of the stored demo."""
    by_email = {p.email: members[i] for i, p in enumerate(people)}
    hr = Viewer(
        member_id=by_email[HR_EMAIL].id,
        company_id=company_id,
        role=Role.HR_ADMIN,
        team_id=None,
        managed_team_ids=frozenset(),
        language="zh-CN",
        timezone=tz,
        currency=currency,
        token_expires_at=0.0,
    )
    managers: dict[int, Viewer] = {}
    for spec in TEAMS:
        ref = by_email[spec.manager_email]
        assert ref.team_id is not None
        managers[ref.team_id] = replace(
            hr,
            member_id=ref.id,
            role=Role.MANAGER,
            team_id=ref.team_id,
            managed_team_ids=frozenset({ref.team_id}),
        )
    staff = [Staff(members[i].id, p) for i, p in enumerate(people) if p.is_salesperson]
    team_of = {ref.id: ref.team_id for ref in members.values()}
    return Cast(hr, managers, staff, team_of)


def last_quarter(now: datetime, tz: ZoneInfo) -> Period:
    """The last quarter that ended before `now`, in company time."""
    current = period_containing(PeriodKind.QUARTER, now, tz)
    return period_containing(PeriodKind.QUARTER, current.start - timedelta(1), tz)


def covered_share(quarter: Period, now: datetime, tz: ZoneInfo) -> Decimal:
    """The share of the quarter's working days the demo's history covers."""
    last = quarter.end.astimezone(tz).date() - timedelta(days=1)
    first = max(quarter.start_date, local_date(Window(now, tz).start, tz))
    covered = _weekdays(first, last)
    return Decimal(covered) / Decimal(_weekdays(quarter.start_date, last))


def _weekdays(first: date, last: date) -> int:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return sum(1 for day in days if day.weekday() < 5)


def quarterly_template(share: Decimal) -> TemplateSpec:
    """The company's quarterly template, count targets scaled by `share`."""

    def target(full: str) -> dict[str, str]:
        return {"target": f"{(Decimal(full) * share).quantize(Decimal('0.01')):f}"}

    proc, res = DimensionKind.PROCESS, DimensionKind.RESULT
    dimensions = [
        _measured("platform_hours", "Platform hours a working day", "平台日均时长",
                  proc, "0.08", "platform_minutes", target("1.0"),
                  divisor=Decimal(60), per_working_day=True),
        _measured("new_customer_follow_ups", "New-customer follow-ups",
                  "新客户跟进", proc, "0.08", "new_customer_follow_ups",
                  target("120")),
        # Full marks at the 90% target, most of them already at 30%.
        _measured("reply_rate", "Inquiries answered within an hour",
                  "询盘一小时回复率", proc, "0.08", "inquiry_replies_within_60",
                  {"points": [["0", "0"], ["0.3", "60"], ["0.9", "100"]]},
                  per_metric="inquiries_received"),
        # Lower is better: full marks up to the 60-minute target.
        _measured("reply_minutes", "Average reply time", "平均回复时长", proc,
                  "0.06", "inquiry_reply_minutes",
                  {"points": [["60", "100"], ["480", "60"], ["1440", "0"]]},
                  per_metric="inquiry_replies"),
        _measured("orders", "Orders closed", "成交订单", res, "0.12", "orders",
                  target("30")),
        _measured("sales", "Sales", "销售额", res, "0.18", "sales_amount",
                  target("500000")),
    ]  # fmt: skip
    return TemplateSpec(
        name="Quarterly sales appraisal",
        titles=(("zh-CN", "季度销售考核"),),
        dimensions=dimensions + _rated(),
        bonus_base=BONUS_BASE,
        process_reward_min=PROCESS_REWARD_MIN,
        process_reward_amount=PROCESS_REWARD,
    )


def yearly_template() -> TemplateSpec:
    """The yearly review: the rated dimensions only, no bonus of its own."""
    return TemplateSpec(
        name="Yearly review",
        titles=(("zh-CN", "年度评审"),),
        dimensions=_rated(),
    )


def _measured(
    code: str,
    name: str,
    zh_name: str,
    kind: DimensionKind,
    weight: str,
    metric: str,
    scale: Mapping[str, object],
    *,
    per_metric: str | None = None,
    divisor: Decimal | None = None,
    per_working_day: bool = False,
) -> DimensionSpec:
    return DimensionSpec(
        code=code,
        name=name,
        titles=(("zh-CN", zh_name),),
        kind=kind,
        weight=Decimal(weight),
        metric=metric,
        per_metric=per_metric,
        divisor=divisor,
        per_working_day=per_working_day,
        scale=dict(scale),
    )


def _rated() -> list[DimensionSpec]:
    return [
        DimensionSpec(code, name, (("zh-CN", zh),), DimensionKind.RATED, RATED_WEIGHT)
        for code, name, zh in RATED
    ]


def ratings(rng: random.Random, level: int) -> list[Rating]:
    """A score per rated dimension around `level`, whole numbers 0–100."""
    return [
        Rating(code, Decimal(max(0, min(100, level + rng.randint(-SPREAD, SPREAD)))))
        for code, _, _ in RATED
    ]


def manager_level(seed: int, email: str) -> int:
    """The manager's overall view of one salesperson, fixed by the seed."""
    rng = random.Random(f"{seed}:appraisal:{email}")
    levels, weights = zip(*LEVELS, strict=True)
    return int(rng.choices(levels, weights)[0])


@dataclass(frozen=True)
class Appraised:
    """What the demo's appraisals wrote."""

    finalized: int
    entries: int
    events: int


async def store_appraisals(cast: Cast, now: datetime, seed: int) -> Appraised:
    """The quarterly cycle and senior.sea's yearly reviews, all finalised;
    their events sequenced and published like the rest of the history."""
    tz = cast.hr.timezone
    quarter = last_quarter(now, tz)
    share = covered_share(quarter, now, tz)
    template = await create_template(cast.hr, quarterly_template(share))
    last_day = quarter.end.astimezone(tz).date() - timedelta(days=1)
    staff = [
        s
        for s in cast.staff
        if s.person.hire_date is None or s.person.hire_date <= last_day
    ]
    number = (quarter.start_date.month - 1) // 3 + 1
    names = {
        "en": f"{quarter.label} appraisal",
        "zh-CN": f"{quarter.start_date.year} 年第 {number} 季度考核",
    }
    done = await _run_cycle(cast, template.id, names, quarter, staff, now, seed)
    done += await _senior_years(cast, now, seed)
    events = await _sequence_as_history()
    entries = await LedgerEntry.filter(cause=EntryCause.APPRAISAL).count()
    logger.info(
        "demo appraisals: %s finalised, coverage %.0f%%", done, float(share) * 100
    )
    return Appraised(done, entries, events)


async def _sequence_as_history() -> int:
    """Stamp the appraisals' events as the relay would, in order, published."""
    top = await AchievementEvent.filter(seq__isnull=False).order_by("-seq").first()
    fresh = await AchievementEvent.filter(seq__isnull=True).order_by("id")
    start = top.seq if top is not None and top.seq is not None else 0
    for offset, event in enumerate(fresh, start=1):
        event.seq, event.published_at = start + offset, event.occurred_at
    await AchievementEvent.bulk_update(fresh, fields=["seq", "published_at"])
    return len(fresh)


async def _senior_years(cast: Cast, now: datetime, seed: int) -> int:
    senior = [s for s in cast.staff if s.person.email == SENIOR_EMAIL]
    template = await create_template(cast.hr, yearly_template())
    done = 0
    for back in range(YEARS_OF_STREAK, 0, -1):
        tz = cast.hr.timezone
        year = now.astimezone(tz).year - back
        period = period_containing(PeriodKind.YEAR, datetime(year, 6, 1, tzinfo=tz), tz)
        names = {"en": f"{year} yearly review", "zh-CN": f"{year} 年度评审"}
        done += await _run_cycle(
            cast, template.id, names, period, senior, now, seed, level=94
        )
    return done


async def _run_cycle(
    cast: Cast,
    template_id: int,
    names: dict[str, str],
    period: Period,
    staff: list[Staff],
    now: datetime,
    seed: int,
    level: int | None = None,
) -> int:
    """Open, self-review, rate and finalise one cycle for `staff`, named
    by `names` in English (its name) and Chinese."""
    name = names["en"]
    request = CycleRequest(
        template_id,
        name,
        period.kind,
        period.start_date,
        [s.id for s in staff],
        titles=tuple(names.items()),
    )
    cycle, _ = await open_cycle(cast.hr, request)
    await start_self_reviews(cast.hr, cycle.id, now)
    ids = dict(await Appraisal.filter(cycle_id=cycle.id).values_list("member_id", "id"))
    for one in staff:
        rng = random.Random(f"{seed}:{name}:{one.person.email}")
        view = level if level is not None else manager_level(seed, one.person.email)
        own = min(100, view + rng.randint(0, 8))  # people rate themselves higher
        await submit_self_review(
            cast.member(one), ids[one.id], ratings(rng, own), _SELF, now
        )
        manager = cast.managers[_team(cast, one)]
        await review(manager, ids[one.id], ratings(rng, view), _comment(view), now)
    result = await finalize_cycle(cast.hr, cycle.id, now)
    return result.finalized


def _team(cast: Cast, staff: Staff) -> int:
    team = cast.team_of[staff.id]
    assert team is not None, "the demo appraises salespeople of a team"
    return team


_SELF = "I kept my customers close and answered what I could."


def _comment(level: int) -> str:
    if level >= 90:
        return "Outstanding work; keep leading by example."
    if level >= 75:
        return "Solid work; faster replies would lift the results."
    return "Let us agree on a plan for more follow-ups and faster replies."
