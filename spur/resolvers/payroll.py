"""The payroll export: one CSV row per member with cash in a month.

Amounts are sums per status of the month's cash entries in the company
currency, written as fixed-point numbers with the currency's minor unit.
Texts that a spreadsheet would read as a formula are defused with a leading
quote; amounts are written by us as plain numbers and left as they are, so a
clawback stays the negative number payroll must read.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from spur.api.context import Viewer
from spur.engine import money
from spur.engine.statements import status_totals
from spur.models import CASH_KINDS, LedgerEntry, Member, Team
from spur.resolvers.ledger import earned_within, global_ids, month_period

HEADER = (
    "member_id",
    "email",
    "name",
    "team",
    "currency",
    "approved",
    "pending",
    "paid",
    "rejected",
    "reversed",
    "payable",
)
_STATUS_COLUMNS = ("APPROVED", "PENDING", "PAID", "REJECTED", "REVERSED")
# OWASP's list: what a spreadsheet may take for the start of a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class PayrollRow:
    """One member's month, ready to write."""

    member: Member
    team: str
    totals: dict[str, Decimal]


async def payroll_csv(viewer: Viewer, month: str) -> str:
    """The company's payroll CSV for `month` (`YYYY-MM`, company time)."""
    period = month_period(month, viewer.timezone)
    amounts = await (
        LedgerEntry.filter(
            company_id=viewer.company_id,
            kind__in=list(CASH_KINDS),
            currency=viewer.currency,
            **earned_within(period),
        )
        .order_by("id")
        .values_list("member_id", "status", "amount")
    )
    rows = await _rows(viewer.company_id, amounts)
    return write_csv(rows, viewer.currency)


async def _rows(
    company_id: int, amounts: Iterable[tuple[int, str, Decimal | None]]
) -> list[PayrollRow]:
    by_member: defaultdict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for member_id, status, amount in amounts:
        by_member[member_id].append((status, amount or Decimal(0)))
    members = await Member.filter(id__in=list(by_member), company_id=company_id)
    team_ids = {m.team_id for m in members if m.team_id is not None}
    teams = {t.id: t.name for t in await Team.filter(id__in=list(team_ids))}
    rows = [
        PayrollRow(m, teams.get(m.team_id or 0, ""), status_totals(by_member[m.id]))
        for m in members
    ]
    # Team, then name; members without a team come last.
    return sorted(
        rows, key=lambda r: (r.team == "", r.team, r.member.name, r.member.id)
    )


def write_csv(rows: Iterable[PayrollRow], currency: str) -> str:
    """The CSV text: a header row, then one row per member."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(_cells(row, currency))
    return out.getvalue()


def _cells(row: PayrollRow, currency: str) -> list[str]:
    member = row.member
    (member_id,) = global_ids("Member", [member.id])
    texts = [member_id, member.email, member.name, row.team, currency]
    amounts = [amount_text(row.totals[s], currency) for s in _STATUS_COLUMNS]
    payable = amount_text(row.totals["APPROVED"], currency)
    return [safe_cell(text) for text in texts] + amounts + [payable]


def amount_text(amount: Decimal, currency: str) -> str:
    """`amount` in the currency's minor unit, such as 1234.50 (never -0.00)."""
    rounded = money.quantize(amount, currency)
    return f"{rounded.copy_abs() if rounded.is_zero() else rounded:f}"


def safe_cell(text: str) -> str:
    """`text`, with a leading quote if a spreadsheet could run it as a formula."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
