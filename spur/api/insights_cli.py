"""`spur insights`: the driver analysis as a table or as JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.context import TortoiseContext
from tortoise.exceptions import DBConnectionError, OperationalError

from spur.api.settings import Settings
from spur.engine.driver_findings import Finding
from spur.engine.drivers import CORRELATION_NOTE
from spur.engine.periods import in_calendar
from spur.models import Company, Team
from spur.models.config import tortoise_config
from spur.resolvers.drivers import AgeBand, Analysis, Scope, analyse
from spur.resolvers.insights import DEFAULT_DAYS, LONGEST_DAYS

NAME_LENGTH = 200  # Company.name and Team.name
MARKET_LENGTH = 16  # Team.market


class InsightsError(Exception):
    """Arguments that name nothing, or a window that does not make sense."""


def add_command(commands: Any) -> argparse.ArgumentParser:
    """The `insights` subcommand, added to the `spur` parser's subcommands."""
    insights: argparse.ArgumentParser = commands.add_parser(
        "insights", help="print which behaviours go with orders and conversion"
    )
    insights.add_argument("--company", help="company id or name (default: the only)")
    insights.add_argument("--from", dest="first", type=date.fromisoformat)
    insights.add_argument("--to", dest="end", type=date.fromisoformat)
    insights.add_argument("--team", help="team id or name (default: the company)")
    insights.add_argument("--age-band", choices=[band.value for band in AgeBand])
    insights.add_argument("--market", help="only teams selling to this market")
    insights.add_argument("--format", choices=("table", "json"), default="table")
    insights.set_defaults(run=run)
    return insights


def run(args: argparse.Namespace, settings: Settings) -> None:
    """Analyse and write the findings to standard output."""
    try:
        analysis, company = asyncio.run(_analyse(args, settings.database_url))
    except InsightsError as error:
        sys.exit(f"spur: {error}")
    except (DBConnectionError, OperationalError, OSError) as error:
        from spur.api.cli import _without_password  # cli imports this module

        where = _without_password(settings.database_url)
        sys.exit(
            f"spur: cannot use the database {where} (is it migrated? "
            f"`spur migrate`): {error}"
        )
    if args.format == "json":
        sys.stdout.write(json.dumps(as_json(analysis, company), indent=1) + "\n")
    else:
        sys.stdout.write(as_table(analysis, company))


async def _analyse(args: argparse.Namespace, url: str) -> tuple[Analysis, Company]:
    _refuse_missing_file(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        company = await _company(args.company)
        tz = ZoneInfo(company.timezone)
        first, end = _window(args.first, args.end, tz)
        teams = None
        if args.team is not None:
            teams = frozenset({(await _team(company, args.team)).id})
        band = AgeBand(args.age_band) if args.age_band else None
        if args.market is not None and len(args.market) > MARKET_LENGTH:
            raise InsightsError(f"no market {args.market[:20]!r}...")
        scope = Scope(company.id, tz, first, end, teams, band, args.market)
        return await analyse(scope), company


def _refuse_missing_file(url: str) -> None:
    # Connecting would create an empty SQLite file where none was.
    path = url.removeprefix("sqlite://")
    if path != url and path != ":memory:" and not Path(path).exists():
        raise InsightsError(f"no database at {path} (run `spur migrate` first)")


async def _company(wanted: str | None) -> Company:
    if wanted is None:
        companies = await Company.all().order_by("id").limit(2)
        if len(companies) != 1:
            raise InsightsError("name the company with --company (id or name)")
        return companies[0]
    found: Company | None = await _by_id_or_name(Company.filter(), wanted)
    if found is None:
        raise InsightsError(f"no company {wanted!r}")
    return found


async def _team(company: Company, wanted: str) -> Team:
    found: Team | None = await _by_id_or_name(
        Team.filter(company_id=company.id), wanted
    )
    if found is None:
        raise InsightsError(f"no team {wanted!r} in {company.name}")
    return found


async def _by_id_or_name(query: Any, wanted: str) -> Any:
    if wanted.isascii() and wanted.isdigit():
        # A key past 64 bits names nothing (SQLite would overflow on it).
        return await query.filter(id=int(wanted)).first() if len(wanted) < 19 else None
    return await query.filter(name=wanted[:NAME_LENGTH]).first()


def _window(first: date | None, end: date | None, tz: ZoneInfo) -> tuple[date, date]:
    today = datetime.now(UTC).astimezone(tz).date()
    end = end or today
    for day in (first, end):
        if day is not None and not in_calendar(day):
            raise InsightsError(f"{day} is outside the supported calendar")
    first = first or end - timedelta(days=DEFAULT_DAYS)
    if end <= first:
        raise InsightsError("--to must come after --from")
    # Days after today are not observed yet: they are no member-days.
    end = min(end, today + timedelta(days=1))
    if end <= first:
        raise InsightsError("--from must not be after today")
    if (end - first).days > LONGEST_DAYS:
        raise InsightsError(f"at most {LONGEST_DAYS} days at once")
    return first, end


def as_json(analysis: Analysis, company: Company) -> dict[str, Any]:
    """The analysis with snake_case keys: `{"findings": [...]}` and context."""
    return {
        "company": company.name,
        "from": analysis.scope.first.isoformat(),
        "to": analysis.scope.end.isoformat(),
        "members": analysis.members,
        "member_days": analysis.member_days,
        "inquiries": analysis.inquiries,
        "note": CORRELATION_NOTE,
        "findings": [_finding(finding) for finding in analysis.findings],
    }


def _finding(finding: Finding) -> dict[str, Any]:
    stats = finding.stats
    return {
        "behaviour": finding.behaviour,
        "outcome": finding.outcome,
        "unit": finding.unit,
        "threshold": finding.threshold,
        "above": finding.above,
        "below": finding.below,
        "mean_above": stats.mean_above,
        "mean_below": stats.mean_below,
        "lift": stats.lift,
        "low": stats.low,
        "high": stats.high,
        "correlation": stats.spearman,
        "pearson": stats.pearson,
        "n_above": stats.n_above,
        "n_below": stats.n_below,
        "members_above": stats.members_above,
        "members_below": stats.members_below,
        "significant": stats.significant,
        "small_sample": stats.small_sample,
    }


_HEADER = (
    "behaviour",
    "outcome",
    "above",
    "below",
    "lift",
    "95% interval",
    "rho",
    "n above",
    "n below",
    "",
)


def as_table(analysis: Analysis, company: Company) -> str:
    """A plain-text table, one finding a line, and how to read it."""
    rows = [_HEADER] + [_row(finding) for finding in analysis.findings]
    widths = [max(len(row[n]) for row in rows) for n in range(len(_HEADER))]
    lines = [
        f"{company.name}: {analysis.scope.first} to {analysis.scope.end} "
        f"(exclusive), {analysis.members} salespeople, {analysis.member_days} "
        f"member-days, {analysis.inquiries} inquiries",
        "",
        *(
            "  ".join(
                cell.ljust(w) for cell, w in zip(row, widths, strict=True)
            ).rstrip()
            for row in rows
        ),
        "",
        "* the interval leaves out zero; ! small sample (under 30 units or 5 "
        "members on one side).",
        CORRELATION_NOTE,
    ]
    return "\n".join(lines) + "\n"


def _row(finding: Finding) -> tuple[str, ...]:
    stats = finding.stats
    flags = ("*" if stats.significant else "") + ("!" if stats.small_sample else "")
    return (
        finding.behaviour,
        finding.outcome,
        _number(stats.mean_above),
        _number(stats.mean_below),
        _percent(stats.lift),
        f"{_percent(stats.low)} to {_percent(stats.high)}",
        _number(stats.spearman, 2),
        str(stats.n_above),
        str(stats.n_below),
        flags,
    )


def _number(value: float | None, places: int = 3) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"
