"""Reading the ledger: where a line came from, and the inputs its readers send.

Shared by approvals, statements and the payroll export: global ids of
rewards and members, months, free texts, and the plan and rule behind an
entry (through the request's loaders, so a list costs a fixed number of
queries).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from strawberry import relay
from tortoise.backends.base.client import BaseDBAsyncClient

from spur.api.context import Context
from spur.api.errors import BadUserInput
from spur.engine import messages
from spur.engine.periods import Period, PeriodKind, as_utc, period_starting
from spur.models import (
    IncentivePlan,
    LedgerEntry,
    PlanRule,
    PlanVersion,
    RewardStatus,
    StatusChange,
)
from spur.resolvers.ids import is_key_text, row_key

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def key_of(global_id: str, type_name: str, field: str) -> int:
    """The primary key inside a global id of `type_name`.

    A malformed id, or one of another type, is the client's mistake
    (`BAD_USER_INPUT`); a well-formed id of no row gives a key no row has.
    """
    try:
        decoded = relay.GlobalID.from_id(global_id)
    except (ValueError, TypeError) as error:
        raise BadUserInput(f"{field} is not a {type_name} id.", field=field) from error
    if decoded.type_name != type_name or not is_key_text(decoded.node_id):
        raise BadUserInput(f"{field} is not a {type_name} id.", field=field)
    return row_key(decoded.node_id)


def global_ids(type_name: str, keys: Sequence[int]) -> list[str]:
    """The global ids clients know rows by, for error details."""
    return [str(relay.GlobalID(type_name, str(key))) for key in keys]


def month_period(text: str, tz: ZoneInfo) -> Period:
    """The calendar month `YYYY-MM` in zone `tz`, half-open."""
    match = _MONTH.fullmatch(text)
    if match is None:
        raise BadUserInput(
            f'month must look like "2026-12", not {text!r}.', field="month"
        )
    year, month = (int(part) for part in match.groups())
    try:
        return period_starting(PeriodKind.MONTH, date(year, month, 1), tz)
    except (ValueError, OverflowError) as error:
        # Month 13, or a year whose month bounds fall outside the calendar.
        raise BadUserInput(f"Not a month: {text!r}.", field="month") from error


def earned_within(period: Period) -> dict[str, datetime]:
    """Filters for entries earned in `period`.

    The bounds are given in UTC, as instants are stored: Tortoise passes
    filter values through unconverted, and SQLite compares the texts, so a
    bound written with the company's offset would shift the month by it.
    """
    return {
        "earned_at__gte": as_utc(period.start),
        "earned_at__lt": as_utc(period.end),
    }


def checked_text(value: str | None, field: str, limit: int, *, required: bool) -> str:
    """A free text as stored: at most `limit` characters and no NUL (which
    PostgreSQL cannot store); blank is refused when `required`."""
    text = (value or "").strip()
    if required and not text:
        raise BadUserInput(f"{field} is required.", field=field)
    if len(text) > limit:
        raise BadUserInput(f"{field} may have at most {limit} characters.", field=field)
    if "\x00" in text:
        raise BadUserInput(f"{field} may not contain NUL characters.", field=field)
    return text


@dataclass(frozen=True)
class RuleSource:
    """The plan version (and rule, if any) that wrote a ledger entry."""

    plan: IncentivePlan
    version: PlanVersion
    rule: PlanRule | None


async def rule_source(ctx: Context, entry: LedgerEntry) -> RuleSource | None:
    """The plan, version and rule behind `entry`; None for a goal reward."""
    if entry.plan_version_id is None:
        return None
    loaders = ctx.loaders
    version = await loaders.plan_version.load(entry.plan_version_id)
    if version is None:
        return None
    plan, rule = await asyncio.gather(
        loaders.plan.load(version.plan_id),
        loaders.plan_rule.load(entry.rule_id) if entry.rule_id else _no_rule(),
    )
    return RuleSource(plan, version, rule) if plan else None


async def _no_rule() -> PlanRule | None:
    return None


def source_title(source: RuleSource, language: str) -> str:
    """ "Plan · rule", each in the reader's language."""
    plan = messages.localized(source.plan.name, source.plan.titles, language)
    if source.rule is None:
        return plan
    rule = messages.localized(source.rule.title, source.rule.titles, language)
    return f"{plan} · {rule}"


async def reverse_entry(
    conn: BaseDBAsyncClient,
    entry: LedgerEntry,
    actor_id: int | None,
    reason: str,
    now: datetime,
) -> bool:
    """Move an unpaid entry to REVERSED, recording who, when and why.

    False when the entry left the status it was read in meanwhile (the
    caller answers CONFLICT); nothing is written then.
    """
    moved = (
        await LedgerEntry.filter(id=entry.id, status=entry.status)
        .using_db(conn)
        .update(status=RewardStatus.REVERSED)
    )
    if moved != 1:
        return False
    await StatusChange.create(
        using_db=conn,
        entry_id=entry.id,
        from_status=entry.status,
        to_status=RewardStatus.REVERSED,
        actor_id=actor_id,
        reason=reason,
        changed_at=now,
    )
    return True
