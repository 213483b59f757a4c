"""`leadrouter scoring report [--days N]`: does a better grade convert better?

For each grade and score band over the period: the contact, qualified, opportunity and
won rates (over leads sales worked; nurture leads are counted apart); pairs converting
out of order flagged, with a Fisher exact p-value; the MQL line replayed at other
thresholds on the stored scores; lead quality and disqualification reasons by source;
each rep's mix of grades and the Gini of A-grade leads.

Exit codes: 0 the report is printed; 1 some grade or band converts significantly out of
order (the model needs review); 2 nothing to report on (no scoring model, bad option).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from bot.clock import SystemClock
from bot.services.configuration import ConfigService
from bot.services.stats import StatsService
from domain.scoring_report import Conversion, ScoringReport
from storage.uow import Database

DEFAULT_DAYS = 90

PERCENT_EMPTY = "—"


def _percent(value: float | None) -> str:
    return PERCENT_EMPTY if value is None else f"{value:.0%}"


def _conversion_table(title: str, lines: Sequence[Conversion], first: str) -> Table:
    table = Table(title=title)
    for column in (first, "leads", "worked", "contacted", "qualified", "opportunity", "won"):
        table.add_column(column, justify="left" if column == first else "right")
    for line in lines:
        table.add_row(
            line.key,
            str(line.leads),
            str(line.worked),
            _percent(line.contact_rate),
            _percent(line.qualified_rate),
            _percent(line.opportunity_rate),
            _percent(line.won_rate),
        )
    return table


def print_scoring_report(
    report: ScoringReport, console: Console, start: datetime, end: datetime
) -> int:
    """Print the report; return the exit code (1 when something converts out of order)."""
    console.print(
        f"Scoring report, leads received {start:%Y-%m-%d} to {end:%Y-%m-%d}: "
        f"{report.leads} scored, {report.nurtured} never handed to sales (nurture). "
        "Rates are over the leads sales worked."
    )
    console.print(_conversion_table("Conversion by grade", report.grades, "grade"))
    console.print(_conversion_table("Conversion by score band", report.bands, "band"))
    significant = [inversion for inversion in report.inversions if inversion.significant]
    for inversion in report.inversions:
        mark = "[red]OUT OF ORDER[/red]" if inversion.significant else "out of order (noise?)"
        console.print(
            f"{mark}: {inversion.worse.key} qualifies {_percent(inversion.worse.qualified_rate)}"
            f" of {inversion.worse.worked}, above {inversion.better.key} at "
            f"{_percent(inversion.better.qualified_rate)} of {inversion.better.worked} "
            f"(p = {inversion.p_value:.3f})"
        )
    if not report.inversions:
        console.print("Grades and bands convert in order.")
    console.print(_what_if_table(report))
    console.print(_sources_table(report))
    console.print(_mix_table(report))
    return 1 if significant else 0


def _what_if_table(report: ScoringReport) -> Table:
    table = Table(title="The MQL line replayed on these leads")
    for column in ("line", "let through", "held back", "qualified through", "qualified held"):
        table.add_column(column, justify="right")
    table.add_column("won held", justify="right")
    for line in report.what_if:
        current = " (now)" if line.threshold == report.mql_at else ""
        table.add_row(
            f"{line.threshold}{current}",
            str(line.let_through),
            str(line.held_back),
            str(line.qualified_let_through),
            str(line.qualified_held_back),
            str(line.won_held_back),
        )
    return table


def _sources_table(report: ScoringReport) -> Table:
    table = Table(title="Lead quality by source")
    for column in ("source", "leads", "worked", "qualified", "disqualified", "reasons"):
        table.add_column(column, justify="left" if column in ("source", "reasons") else "right")
    for line in report.sources:
        reasons = ", ".join(f"{reason} {count}" for reason, count in line.reasons.items())
        table.add_row(
            line.conversion.key,
            str(line.conversion.leads),
            str(line.conversion.worked),
            _percent(line.conversion.qualified_rate),
            str(line.disqualified),
            reasons or PERCENT_EMPTY,
        )
    return table


def _mix_table(report: ScoringReport) -> Table:
    gini = report.mix.a_gini
    fairness = f"Gini of A-leads per rep {gini:.2f}" if gini is not None else "no A-leads"
    table = Table(title=f"Grades per rep ({fairness})")
    for column in ("rep", "A", "B", "C"):
        table.add_column(column, justify="left" if column == "rep" else "right")
    for rep, letters in sorted(report.mix.letters.items(), key=lambda item: -item[1]["A"]):
        table.add_row(rep, str(letters["A"]), str(letters["B"]), str(letters["C"]))
    return table


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    scoring = commands.add_parser("scoring", help="how the scoring model's grades convert")
    actions = scoring.add_subparsers(dest="scoring_command", required=True)
    report = actions.add_parser("report", help="conversion by grade and band, MQL what-if")
    report.add_argument("--days", type=int, default=DEFAULT_DAYS, help="period (default 90)")


async def scoring_report_command(db: Database, days: int, console: Console) -> int:
    """Read the period's scored leads and print the report; the exit code (see above)."""
    if days < 1:
        console.print("[red]--days must be at least 1[/red]")
        return 2
    clock = SystemClock()

    async def utc(_user: str) -> ZoneInfo:
        return ZoneInfo("UTC")

    stats = StatsService(db, ConfigService(), clock.now, lambda: None, utc)
    report = await stats.scoring_report(days)
    if report is None:
        console.print("No scoring model in the live configuration (add a `scoring:` section).")
        return 2
    end = clock.now()
    return print_scoring_report(report, console, end - timedelta(days=days), end)


def runner(days: int) -> Callable[[Database], Awaitable[int]]:
    """What `leadrouter scoring report` runs once the database is migrated."""
    return lambda db: scoring_report_command(db, days, Console())
