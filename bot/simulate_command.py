"""`leadrouter simulate FILE.csv`: a dry run of routing over past leads, printed as tables.

No writes, no Slack: the CSV is read one row at a time, each row validated like an
intake request, and the leads replayed through the candidate configuration (and the
live one, for the diff) by domain.simulation, which keeps running totals: memory does
not grow with the file (except with --all, which prints every decision). A file not in
arrival order is sorted on disk first. Headers name lead fields (case-insensitive, spaces as
underscores); any other header becomes an attribute (`plan` or `attributes.plan` ->
`attributes.plan` in rules). Empty cells are absent. A `created_at` column (ISO 8601,
UTC when no offset is given) is when each lead arrived; without it every lead arrives
at `now`. A bad row is reported with its row number and skipped; the run goes on.

Exit codes: 0 every row simulated, 1 some rows were refused, 2 the file could not be read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.arrival_order import in_arrival_order
from bot.csv_leads import RowError, UnreadableCsv, stream_leads
from domain.config import Config
from domain.lead import LeadInput
from domain.routing import Decision
from domain.simulation import OutOfOrder, SimulatedLead, Simulation, SimulationResult

SHOWN_ROWS = 50


def simulate_command(
    csv_path: Path,
    candidate: Config,
    live: Config | None,
    console: Console,
    now: datetime,
    *,
    show_all: bool = False,
    open_for: timedelta | None = None,
) -> int:
    """Read, simulate, print; return the process exit code. `open_for` is how long a
    simulated lead keeps counting against its owner's capacity (None: for ever)."""
    keep = None if show_all else SHOWN_ROWS
    try:
        try:
            result, refused = _replay(csv_path, candidate, live, now, open_for, keep, False)
        except OutOfOrder:
            result, refused = _replay(csv_path, candidate, live, now, open_for, keep, True)
    except UnreadableCsv as error:
        console.print(f"[red]Cannot read {csv_path}:[/red] {error}")
        return 2
    compared = ", compared with the live configuration" if live else ""
    console.print(
        f"Simulated {result.leads} leads from {csv_path}{compared}: "
        "nothing stored, nobody notified."
    )
    if refused.rows:
        console.print(_errors_table(refused))
    console.print(_decisions_table(result))
    _print_more(console, result.leads, show_all, "decisions")
    console.print(_teams_table(result))
    console.print(_reps_table(result))
    console.print(
        f"Gini of leads per rep: {result.gini:.3f} (0 = equal). "
        f"Nobody eligible: {result.nobody_eligible}. No rule matched: {result.unrouted}."
    )
    if result.arms:
        console.print(_arms_table(result))
    if result.changes is not None:
        _print_changes(console, result, show_all)
    return 1 if refused.rows else 0


def _replay(
    csv_path: Path,
    candidate: Config,
    live: Config | None,
    now: datetime,
    open_for: timedelta | None,
    keep: int | None,
    reorder: bool,
) -> tuple[SimulationResult, Refused]:
    """Stream the file's leads through the replay. Without `reorder` they must come in
    arrival order (most exports do; OutOfOrder otherwise, and the caller starts again
    with `reorder`, which sorts them on disk first)."""
    simulation = Simulation(candidate, live, open_for=open_for, keep=keep)
    refused = Refused(keep)
    leads = refused.sift(stream_leads(csv_path, candidate.lead_types(), now))
    for item in in_arrival_order(leads) if reorder else leads:
        simulation.add(item)
    return simulation.result(), refused


class Refused:
    """Refused rows as the file is read: how many, and the first `keep` problems."""

    def __init__(self, keep: int | None):
        self.keep = keep
        self.rows = 0
        self.errors: list[RowError] = []

    def sift(self, items: Iterable[SimulatedLead | RowError]) -> Iterator[SimulatedLead]:
        """The leads of `items`; their refused rows' problems are counted here."""
        last_row = None
        for item in items:
            if not isinstance(item, RowError):
                yield item
                continue
            if item.row != last_row:
                self.rows += 1
                last_row = item.row
            if self.keep is None or len(self.errors) < self.keep:
                self.errors.append(item)


def _print_more(console: Console, total: int, show_all: bool, what: str) -> None:
    if not show_all and total > SHOWN_ROWS:
        console.print(
            f"[dim]… {total - SHOWN_ROWS} more {what} not shown: pass --all to see them.[/dim]"
        )


def _errors_table(refused: Refused) -> Table:
    table = Table(title=f"Refused rows ({refused.rows})")
    for column in ("Row", "Field", "Problem"):
        table.add_column(column)
    for error in refused.errors:
        table.add_row(str(error.row), error.error.path or "-", error.error.message)
    return table


def _lead_label(lead: LeadInput) -> str:
    who = lead.email or lead.phone or "?"
    return f"{who} ({lead.company})" if lead.company else who


def _outcome(decision: Decision) -> str:
    if decision.owner:
        return decision.owner
    if decision.nobody_eligible:
        return "nobody eligible: pull"
    return str(decision.method) if decision.team else "unrouted"


def _decisions_table(result: SimulationResult) -> Table:
    table = Table(title="Decisions")
    for column in ("Row", "Arrived", "Lead", "Rule", "Team", "Owner", "Why"):
        table.add_column(column)
    for entry in result.routed:
        decision = entry.decision
        table.add_row(
            str(entry.item.row),
            entry.item.at.strftime("%Y-%m-%d %H:%M"),
            _lead_label(entry.item.lead),
            decision.rule or "-",
            decision.team or "-",
            _outcome(decision),
            decision.reasons[-1],
        )
    return table


def _teams_table(result: SimulationResult) -> Table:
    table = Table(title="Per team: leads per member against weight")
    for column in ("Team", "How", "Rep", "Leads", "Share", "Weight share", "Expected"):
        table.add_column(column, justify="right" if column in ("Leads", "Expected") else "left")
    for team in result.teams:
        how = f"{team.method}/{team.strategy}"
        table.add_row(
            team.team,
            how,
            "[b]all[/b]",
            str(team.leads),
            f"{team.assigned} assigned, {team.queued} queued",
            f"Gini {team.gini:.3f}",
            "",
            end_section=not team.members,
        )
        for index, share in enumerate(team.members):
            table.add_row(
                "",
                "",
                share.user,
                str(share.count),
                f"{share.share:.1%}",
                f"{share.weight_share:.1%} (w={share.weight})",
                f"{share.expected:.1f}",
                end_section=index == len(team.members) - 1,
            )
    return table


def _reps_table(result: SimulationResult) -> Table:
    table = Table(title="Per rep: all assigned leads")
    for column in ("Rep", "Leads", "Share"):
        table.add_column(column)
    for rep in result.reps:
        table.add_row(rep.user, str(rep.count), f"{rep.share:.1%}")
    return table


def _arms_table(result: SimulationResult) -> Table:
    """Each experiment arm's share of its segment, where its leads went, and its Gini."""
    table = Table(title="Experiment arms")
    for column in ("Experiment", "Arm", "Leads", "Share", "Teams", "Gini of leads per rep"):
        table.add_column(column)
    for arm in result.arms:
        in_experiment = sum(a.leads for a in result.arms if a.experiment == arm.experiment)
        share = arm.leads / in_experiment if in_experiment else 0.0
        teams = ", ".join(f"{team} {count}" for team, count in arm.teams) or "-"
        table.add_row(
            arm.experiment, arm.arm, str(arm.leads), f"{share:.1%}", teams, f"{arm.gini:.3f}"
        )
    return table


def _print_changes(console: Console, result: SimulationResult, show_all: bool) -> None:
    console.print(
        f"Against the live configuration: {result.changed} of {result.leads} leads "
        f"would change owner or team ({result.moved} change team)."
    )
    if not result.changes:
        return
    table = Table(title="Leads that would land elsewhere")
    for column in ("Row", "Lead", "Live: team / owner", "Candidate: team / owner", "Rule"):
        table.add_column(column)
    for change in result.changes:
        table.add_row(
            str(change.item.row),
            _lead_label(change.item.lead),
            f"{change.live.team or '-'} / {_outcome(change.live)}",
            f"{change.candidate.team or '-'} / {_outcome(change.candidate)}",
            change.candidate.rule or "-",
        )
    console.print(table)
    _print_more(console, result.changed, show_all, "changes")
