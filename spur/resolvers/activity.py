"""Recording an activity: one transaction from the raw fact to its rewards."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from spur.api.context import Viewer
from spur.api.errors import BadUserInput, Conflict, Forbidden, NotFound
from spur.api.services import Services
from spur.engine import money
from spur.engine.metrics import ActivityFacts, MetricSpec, contributions
from spur.engine.periods import ALL_KINDS, as_utc, period_containing
from spur.models import (
    AchievementEvent,
    Activity,
    Company,
    ExchangeRate,
    LedgerEntry,
    Member,
    MetricDefinition,
    Role,
    Team,
)
from spur.models.upserts import (
    Movement,
    StoredCounters,
    TotalDelta,
    TotalKey,
    add_to_totals,
    placeholders,
)
from spur.resolvers.activity_input import (
    MAX_AMOUNT,
    ActivityDraft,
    CheckedActivity,
    check_activity,
)
from spur.resolvers.alert_rules import alerts_after_activity
from spur.resolvers.goal_progress import GoalOutcome, advance_goals
from spur.resolvers.payout import Payout
from spur.resolvers.rating import RatingInput, rate_activity
from spur.resolvers.rulebook import RuleBook, load_rulebook
from spur.resolvers.scores import rank_events, record_scores
from spur.subscriptions.relay import publish_progress

logger = logging.getLogger(__name__)

ACTIVITY_COLUMNS = (
    "company_id",
    "member_id",
    "recorded_by_id",
    "kind",
    "occurred_at",
    "recorded_at",
    "source",
    "external_id",
    "quantity",
    "amount",
    "currency",
    "amount_company",
    "exchange_rate",
    "market",
    "product_category",
    "customer_ref",
    "new_customer",
    "response_minutes",
    "rating",
)


@dataclass(frozen=True)
class Recorded:
    """What recording an activity did: the row, and the events it caused."""

    activity: Activity
    duplicate: bool
    events: list[AchievementEvent]
    rewards: list[LedgerEntry]
    moved: list[tuple[int, str]]


@dataclass(frozen=True)
class Conversion:
    """An order amount in the company currency, and the rate that made it."""

    amount: Decimal
    rate: Decimal


async def record_activity(
    services: Services, viewer: Viewer, member_id: int | None, draft: ActivityDraft
) -> Recorded:
    """Record `draft` for a member once; a repeat of its source and id is a no-op.

    Everything the activity changes (totals, goal progress, ledger lines and
    events) is written in one transaction or not at all.
    """
    member = await _target_member(viewer, member_id)
    company = await Company.get(id=viewer.company_id)
    now = services.clock()
    checked = check_activity(draft, now, viewer.timezone, services.settings.late_days)
    conversion = await _convert(company, checked, viewer.timezone)

    async with in_transaction() as conn:
        activity_id = await _insert(conn, member, viewer, checked, conversion, now)
        if activity_id is None:
            return await _duplicate(member, checked)
        activity = await Activity.filter(id=activity_id).using_db(conn).get()
        outcome = await _apply(conn, company, member, activity, now)

    await _announce(services, company, member, outcome)
    await alerts_after_activity(services, company, member, activity)
    return Recorded(activity, False, outcome.events, outcome.rewards, outcome.moved)


async def _announce(
    services: Services, company: Company, member: Member, outcome: GoalOutcome
) -> None:
    """After commit: hand the events to the relay, tell progress bars to move."""
    if outcome.events:
        services.relay.poke()
    if outcome.moved:
        await publish_progress(
            services.broker, company.id, outcome.moved, member.id, member.team_id
        )


async def _target_member(viewer: Viewer, member_id: int | None) -> Member:
    if viewer.role is Role.PARTNER:
        raise Forbidden("Partner apps may not record activity.")
    wanted = viewer.member_id if member_id is None else member_id
    member = await Member.get_or_none(id=wanted, company_id=viewer.company_id)
    if member is None or not member.is_active:
        raise NotFound("No such member.")
    if member.id != viewer.member_id and not _may_record_for(viewer, member):
        raise Forbidden("Only the member's manager or HR may record for them.")
    return member


def _may_record_for(viewer: Viewer, member: Member) -> bool:
    if viewer.role is Role.HR_ADMIN:
        return True
    return viewer.role is Role.MANAGER and member.team_id in viewer.managed_team_ids


async def _convert(
    company: Company, checked: CheckedActivity, tz: ZoneInfo
) -> Conversion | None:
    amount, currency = checked.draft.amount, checked.currency
    if amount is None or currency is None:
        return None
    if currency == company.currency:
        return Conversion(amount, Decimal(1))
    on_date = checked.draft.occurred_at.astimezone(tz).date()
    rate = await ExchangeRate.get_or_none(
        company_id=company.id, currency=currency, on_date=on_date
    )
    if rate is None:
        raise BadUserInput(
            f"No {currency}→{company.currency} exchange rate for {on_date}.",
            field="currency",
            reason="MISSING_EXCHANGE_RATE",
        )
    converted = money.convert(amount, rate.rate, company.currency)
    if abs(converted) >= MAX_AMOUNT:
        raise BadUserInput(
            f"amount is too large in {company.currency}.", field="amount"
        )
    return Conversion(converted, rate.rate)


async def _insert(
    conn: BaseDBAsyncClient,
    member: Member,
    viewer: Viewer,
    checked: CheckedActivity,
    conversion: Conversion | None,
    now: datetime,
) -> int | None:
    """Insert the activity unless its (source, external id) is known; its id."""
    values = _row(member, viewer, checked, conversion, now)
    marks = ", ".join(placeholders(conn, len(values)))
    # Only fixed column names and bind markers are formatted into the SQL.
    sql = (
        f"INSERT INTO activity ({', '.join(ACTIVITY_COLUMNS)}) VALUES ({marks}) "  # noqa: S608
        "ON CONFLICT (company_id, source, external_id) DO NOTHING RETURNING id"
    )
    # execute_query on asyncpg runs an INSERT without fetching, dropping the
    # RETURNING row (every activity would look like a duplicate); the dict
    # variant fetches on both backends.
    rows = await conn.execute_query_dict(sql, values)
    return int(rows[0]["id"]) if rows else None


def _row(
    member: Member,
    viewer: Viewer,
    checked: CheckedActivity,
    conversion: Conversion | None,
    now: datetime,
) -> list[object]:
    draft = checked.draft
    return [
        member.company_id,
        member.id,
        viewer.member_id,
        draft.kind.value,
        as_utc(draft.occurred_at),
        as_utc(now),
        checked.source,
        checked.external_id,
        _stored("quantity", checked.quantity),
        _stored("amount", draft.amount),
        checked.currency,
        _stored("amount_company", conversion and conversion.amount),
        _stored("exchange_rate", conversion and conversion.rate),
        checked.market,
        draft.product_category,
        draft.customer_ref,
        draft.new_customer,
        draft.response_minutes,
        _stored("rating", checked.rating),
    ]


def _stored(name: str, value: object) -> object:
    """A value as the model's field stores it (scaled integers for decimals)."""
    return Activity._meta.fields_map[name].to_db_value(value, Activity)


async def _duplicate(member: Member, checked: CheckedActivity) -> Recorded:
    activity = await Activity.get(
        company_id=member.company_id,
        source=checked.source,
        external_id=checked.external_id,
    )
    if activity.member_id != member.id:
        # Not a retry: answering "duplicate" would drop this activity and show
        # the caller another member's row.
        raise Conflict(
            "This source and externalId were recorded for another member.",
            field="externalId",
        )
    return Recorded(activity, True, [], [], [])


async def _apply(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    activity: Activity,
    now: datetime,
) -> GoalOutcome:
    changes = await metric_changes(conn, company.id, activity)
    tz = ZoneInfo(company.timezone)
    moved = await add_to_totals(
        conn, company.id, total_deltas(member, activity, changes, tz), now
    )
    outcome = await advance_goals(conn, company, member, activity, changes, now)
    scores = await record_scores(conn, company, member, activity, changes, now)
    ranked = await rank_events(conn, company, member, activity, scores)
    outcome = replace(outcome, events=outcome.events + ranked)
    book = await load_rulebook(conn, company.id)
    if not book.plans:
        return outcome
    return await _pay_plans(conn, company, member, activity, book, moved, outcome, now)


async def metric_changes(
    conn: BaseDBAsyncClient, company_id: int, activity: Activity
) -> dict[int, Decimal]:
    """What the activity adds to each of the company's metrics, by metric id."""
    metrics = await MetricDefinition.filter(company_id=company_id).using_db(conn)
    deltas = contributions([_spec(metric) for metric in metrics], _facts(activity))
    by_key = {metric.key: metric for metric in metrics}
    return {by_key[key].id: delta for key, delta in deltas.items()}


async def _pay_plans(
    conn: BaseDBAsyncClient,
    company: Company,
    member: Member,
    activity: Activity,
    book: RuleBook,
    moved: dict[TotalKey, Movement],
    outcome: GoalOutcome,
    now: datetime,
) -> GoalOutcome:
    """Add what the incentive plans pay for the activity to the goals' outcome."""
    team = await _team(conn, member)
    lead = team.manager if team is not None else None
    given = RatingInput(
        conn=conn,
        counters=StoredCounters(conn, company.id, now),
        company_id=company.id,
        currency=company.currency,
        tz=ZoneInfo(company.timezone),
        member=member,
        activity=activity,
        moved=moved,
        goal_steps=outcome.steps,
        now=now,
        lead=lead,
    )
    earned = await rate_activity(book, given)
    if not earned:
        return outcome
    people = {member.id: member} | ({lead.id: lead} if lead else {})
    language = lead.language if lead is not None else member.language
    payout = Payout(conn, company, activity, people, language, now)
    ids, events = await payout.pay(earned)
    entries = await LedgerEntry.filter(id__in=ids).order_by("id").using_db(conn)
    return replace(
        outcome, events=outcome.events + events, rewards=outcome.rewards + entries
    )


async def _team(conn: BaseDBAsyncClient, member: Member) -> Team | None:
    if member.team_id is None:
        return None
    return (
        await Team.filter(id=member.team_id)
        .select_related("manager")
        .using_db(conn)
        .first()
    )


def _spec(metric: MetricDefinition) -> MetricSpec:
    return MetricSpec(
        key=metric.key,
        activity_kind=metric.activity_kind,
        aggregation=metric.aggregation,
        market=metric.market,
        product_category=metric.product_category,
        new_customer=metric.new_customer,
        reply_within_minutes=metric.reply_within_minutes,
    )


def _facts(activity: Activity) -> ActivityFacts:
    return ActivityFacts(
        kind=activity.kind,
        quantity=activity.quantity,
        amount=activity.amount_company,
        market=activity.market,
        product_category=activity.product_category,
        new_customer=activity.new_customer,
        response_minutes=activity.response_minutes,
        rating=activity.rating,
    )


def total_deltas(
    member: Member, activity: Activity, changes: dict[int, Decimal], tz: ZoneInfo
) -> list[TotalDelta]:
    """The changes as increments to the member's and team's totals, in the
    activity's period of every kind."""
    scopes = [("member", member.id)]
    if member.team_id is not None:
        scopes.append(("team", member.team_id))
    return [
        TotalDelta(
            metric_id,
            scope,
            subject,
            kind,
            period_containing(kind, activity.occurred_at, tz).start_date,
            delta,
        )
        for metric_id, delta in changes.items()
        for kind in ALL_KINDS
        for scope, subject in scopes
    ]
