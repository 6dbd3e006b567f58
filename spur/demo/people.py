"""The demo company's people: teams, the named accounts and the sales staff.

Everything here is plain data derived from a seed and the moment the demo is
created, so the same seed and moment always give the same staff.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from spur.models.company import IncentivePreference, Role

COMPANY_NAME = "Silk Road Apparel Trading Co."
COMPANY_TIMEZONE = "Asia/Shanghai"
COMPANY_CURRENCY = "CNY"

HR_EMAIL = "hr@example.com"
NEWHIRE_EMAIL = "newhire@example.com"
SENIOR_EMAIL = "senior.sea@example.com"

YOUNG_MAX_AGE = 30
SENIOR_MIN_AGE = 35


@dataclass(frozen=True)
class TeamSpec:
    """A market team and the email of the manager who leads it."""

    name: str
    market: str
    manager_email: str


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("Southeast Asia", "SEA", "manager.sea@example.com"),
    TeamSpec("Europe", "EU", "manager.eu@example.com"),
    TeamSpec("North America", "NA", "manager.na@example.com"),
    TeamSpec("Middle East", "ME", "manager.me@example.com"),
)

# Salespeople per market besides the two named SEA accounts: 40 in all.
_GENERIC_PER_MARKET = {"SEA": 10, "EU": 10, "NA": 9, "ME": 9}


@dataclass(frozen=True)
class Person:
    """One member of the demo company as it will be stored."""

    email: str
    name: str
    role: Role
    market: str | None
    birth_date: date
    hire_date: date
    language: str
    preference: IncentivePreference | None

    @property
    def is_salesperson(self) -> bool:
        return self.role is Role.SALESPERSON


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on `day`."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def born_aged(today: date, age: int, rng: random.Random) -> date:
    """A birth date that makes someone exactly `age` years old `today`."""
    return years_before(today, age) - timedelta(days=rng.randint(0, 364))


_SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Zheng",
    "Liang", "Xie", "Tang", "Han", "Cao", "Deng", "Feng", "Song", "Peng",
)  # fmt: skip
# Given names follow the fashions of the decade people were born in.
_YOUNG_GIVEN = (
    "Zixuan", "Yuxin", "Haoran", "Xinyi", "Zihan", "Yichen", "Siyu", "Jiaqi",
    "Ruoxi", "Mengqi", "Tianyu", "Kexin", "Yifan", "Shuting", "Junjie", "Wenjing",
)  # fmt: skip
_OLDER_GIVEN = (
    "Wei", "Fang", "Min", "Jing", "Lei", "Jun", "Yong", "Qiang", "Hong", "Ping",
    "Gang", "Hui", "Yan", "Tao", "Xiuying", "Guiying", "Jianhua", "Lihua",
)  # fmt: skip
# Many staff of trading companies use an English name with customers.
_ENGLISH_GIVEN = ("Grace", "Jason", "Vivian", "Eric", "Cathy", "Leo")

_YOUNG_PREFERENCES: dict[IncentivePreference, int] = {
    IncentivePreference.INSTANT_COMMISSION: 45,
    IncentivePreference.GROWTH_TRAINING: 40,
    IncentivePreference.TEAM_HONOR: 10,
    IncentivePreference.LONG_TERM_BENEFITS: 5,
}
_OLDER_PREFERENCES: dict[IncentivePreference, int] = {
    IncentivePreference.TEAM_HONOR: 40,
    IncentivePreference.LONG_TERM_BENEFITS: 40,
    IncentivePreference.INSTANT_COMMISSION: 12,
    IncentivePreference.GROWTH_TRAINING: 8,
}


def _preference(age: int, rng: random.Random) -> IncentivePreference:
    table = _YOUNG_PREFERENCES if age <= YOUNG_MAX_AGE else _OLDER_PREFERENCES
    return rng.choices(list(table), list(table.values()))[0]


def _named_accounts(today: date, rng: random.Random) -> list[Person]:
    """The accounts the client contract promises, plus the four managers."""

    def person(
        email: str,
        name: str,
        role: Role,
        market: str | None,
        age: int,
        *,
        hired: date | None = None,
        language: str = "zh-CN",
    ) -> Person:
        birth = born_aged(today, age, rng)
        service = timedelta(days=rng.randint(0, 364))
        hire_date = hired or years_before(today, max(1, age - 26)) - service
        pref = _preference(age, rng) if role is Role.SALESPERSON else None
        return Person(email, name, role, market, birth, hire_date, language, pref)

    return [
        person(HR_EMAIL, "Chen Jing", Role.HR_ADMIN, None, 41),
        person(TEAMS[0].manager_email, "Huang Lei", Role.MANAGER, "SEA", 39),
        person(TEAMS[1].manager_email, "Zhao Min", Role.MANAGER, "EU", 45),
        person(
            TEAMS[2].manager_email, "Kevin Zhang", Role.MANAGER, "NA", 37, language="en"
        ),
        person(TEAMS[3].manager_email, "Ma Jun", Role.MANAGER, "ME", 48),
        person(
            NEWHIRE_EMAIL,
            "Zhou Yutong",
            Role.SALESPERSON,
            "SEA",
            23,
            hired=today - timedelta(days=7),
        ),
        person(
            SENIOR_EMAIL,
            "Wang Jianguo",
            Role.SALESPERSON,
            "SEA",
            44,
            hired=years_before(today, 13),
        ),
    ]


def _ages(count: int, rng: random.Random) -> list[int]:
    """About half 30 or under, a few in between, the rest 35 or over."""
    young = count // 2 - 1
    between = 3
    ages = [rng.randint(22, YOUNG_MAX_AGE) for _ in range(young)]
    ages += [rng.randint(YOUNG_MAX_AGE + 1, SENIOR_MIN_AGE - 1) for _ in range(between)]
    ages += [rng.randint(SENIOR_MIN_AGE, 55) for _ in range(count - young - between)]
    rng.shuffle(ages)
    return ages


@dataclass(frozen=True)
class _Name:
    given: str
    surname: str
    english: bool

    @property
    def display(self) -> str:
        # Chinese names put the family name first; English ones do not.
        if self.english:
            return f"{self.given} {self.surname}"
        return f"{self.surname} {self.given}"

    @property
    def mailbox(self) -> str:
        return f"{self.given}.{self.surname}".lower()


def _name(age: int, taken: set[str], rng: random.Random) -> _Name:
    english = rng.random() < 0.15
    pool: tuple[str, ...]
    if english:
        pool = _ENGLISH_GIVEN
    else:
        pool = _YOUNG_GIVEN if age <= YOUNG_MAX_AGE else _OLDER_GIVEN
    # Prefer given names nobody has yet, so the staff list reads naturally.
    fresh = [given for given in pool if all(given not in n.split() for n in taken)]
    while True:
        name = _Name(rng.choice(fresh or pool), rng.choice(_SURNAMES), english)
        if name.display not in taken:
            taken.add(name.display)
            return name


def _email(name: _Name, taken: set[str]) -> str:
    email, n = f"{name.mailbox}@example.com", 2
    while email in taken:
        email, n = f"{name.mailbox}{n}@example.com", n + 1
    taken.add(email)
    return email


def _hire_date(today: date, age: int, rng: random.Random) -> date:
    # Nobody joined before 21; the young have been here a few years at most.
    longest = min(age - 21, 8 if age <= YOUNG_MAX_AGE else 20)
    years_back = rng.uniform(0.5, max(1.0, float(longest)))
    return today - timedelta(days=int(years_back * 365))


def _staff(today: date, names: set[str], rng: random.Random) -> list[Person]:
    markets = [m for m, n in _GENERIC_PER_MARKET.items() for _ in range(n)]
    emails: set[str] = set()
    staff = []
    for market, age in zip(markets, _ages(len(markets), rng), strict=True):
        name = _name(age, names, rng)
        birth = born_aged(today, age, rng)
        lang = "en" if name.english and rng.random() < 0.6 else "zh-CN"
        staff.append(
            Person(
                _email(name, emails),
                name.display,
                Role.SALESPERSON,
                market,
                birth,
                _hire_date(today, age, rng),
                lang,
                _preference(age, rng),
            )
        )
    return staff


def feed_language(person: Person, people: list[Person]) -> str:
    """The language `person`'s team feed is written in: their manager's.

    Someone outside a team (HR) reads their own language.
    """
    managers = {team.market: team.manager_email for team in TEAMS}
    languages = {other.email: other.language for other in people}
    manager = managers.get(person.market or "")
    return languages.get(manager or "", person.language)


def demo_people(today: date, seed: int) -> list[Person]:
    """Everyone in the demo company, named accounts first; `today` is local."""
    rng = random.Random(f"{seed}:people")
    named = _named_accounts(today, rng)
    return named + _staff(today, {person.name for person in named}, rng)
