"""The demo staff's answers to the preference survey.

The story the demo tells: about three in four salespeople aged 30 or under
want their commission now, three in five of those aged 35 or over want the
team's honour. Each segment's answers follow fixed quotas (largest
remainder), and a member keeps the preference the generator drew for them
while its quota lasts, so the answers stay tied to the people. Managers do
not answer: their preference is inferred from the team rules they earn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from spur.demo.people import Person
from spur.engine.preferences import FAMILIES, Family, Segment, segment_of
from spur.models import Member, PreferenceSurvey
from spur.models.company import IncentivePreference

QUOTAS: dict[Segment, dict[Family, int]] = {
    Segment.YOUNG: {
        Family.INSTANT_COMMISSION: 75,
        Family.GROWTH_TRAINING: 15,
        Family.TEAM_HONOR: 5,
        Family.LONG_TERM_BENEFITS: 5,
    },
    Segment.SENIOR: {
        Family.TEAM_HONOR: 60,
        Family.LONG_TERM_BENEFITS: 25,
        Family.INSTANT_COMMISSION: 10,
        Family.GROWTH_TRAINING: 5,
    },
    Segment.OTHER: {
        Family.GROWTH_TRAINING: 40,
        Family.INSTANT_COMMISSION: 30,
        Family.TEAM_HONOR: 15,
        Family.LONG_TERM_BENEFITS: 15,
    },
}


def seats(percent: dict[Family, int], n: int) -> Counter[Family]:
    """`n` answers split by `percent`, largest remainder first."""
    exact = {f: p * n / 100 for f, p in percent.items()}
    found = Counter({f: int(v) for f, v in exact.items()})
    left = n - sum(found.values())
    for family in sorted(exact, key=lambda f: -(exact[f] - int(exact[f])))[:left]:
        found[family] += 1
    return found


def answers(people: Sequence[Person], today: date) -> dict[str, list[Family]]:
    """Each salesperson's ranking by e-mail, favourite first."""
    by_segment: dict[Segment, list[Person]] = {s: [] for s in Segment}
    for person in people:
        if person.is_salesperson:
            by_segment[segment_of(person.birth_date, today)].append(person)
    found: dict[str, list[Family]] = {}
    for segment, members in by_segment.items():
        left = seats(QUOTAS[segment], len(members))
        drawn = {p.email: Family(p.preference.value) for p in members if p.preference}
        waiting = []
        for person in members:
            wish = drawn.get(person.email)
            if wish is not None and left[wish] > 0:
                left[wish] -= 1
                found[person.email] = _ranking(wish, segment)
            else:
                waiting.append(person)
        spare = [f for f in QUOTAS[segment] for _ in range(left[f])]
        for person, family in zip(waiting, spare, strict=True):
            found[person.email] = _ranking(family, segment)
    return found


def _ranking(first: Family, segment: Segment) -> list[Family]:
    rest = sorted(
        (f for f in FAMILIES if f is not first), key=lambda f: -QUOTAS[segment][f]
    )
    return [first, *rest]


async def store_surveys(
    company_id: int, people: Sequence[Person], now: datetime, tz: ZoneInfo
) -> int:
    """Survey rows answered over the last three weeks, and each member's
    stated preference set to their first choice; the number stored."""
    today = now.astimezone(tz).date()
    ranked = answers(people, today)
    ids = dict(
        await Member.filter(company_id=company_id, email__in=list(ranked)).values_list(
            "email", "id"
        )
    )
    rows = []
    for n, (email, ranking) in enumerate(sorted(ranked.items())):
        day = today - timedelta(days=3 + n % 18)
        rows.append(
            PreferenceSurvey(
                company_id=company_id,
                member_id=ids[email],
                ranking=[f.value for f in ranking],
                answered_on=day,
                submitted_at=datetime.combine(day, time(10, n % 60), tz),
            )
        )
    await PreferenceSurvey.bulk_create(rows)
    for family in FAMILIES:
        chosen = [ids[e] for e, r in ranked.items() if r[0] is family]
        if chosen:
            await Member.filter(id__in=chosen).update(
                incentive_preference=IncentivePreference(family.value)
            )
    return len(rows)
