"""`leadrouter simulate FILE.csv`: a dry run of routing over past leads, printed as tables.

No writes, no Slack: the CSV is read, each row validated like an intake request, and
the leads replayed through the candidate configuration (and the live one, for the diff)
in memory by domain.simulation. Headers name lead fields (case-insensitive, spaces as
underscores); any other header becomes an attribute (`plan` or `attributes.plan` ->
`attributes.plan` in rules). Empty cells are absent. A `created_at` column (ISO 8601,
UTC when no offset is given) is when each lead arrived; without it every lead arrives
at `now`. A bad row is reported with its row number and skipped; the run goes on.

Exit codes: 0 every row simulated, 1 some rows were refused, 2 the file could not be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bot.csv_leads import RowError, UnreadableCsv, read_leads
from domain.config import Config
from domain.lead import LeadInput
from domain.routing import Decision
from domain.simulation import SimulationResult, simulate

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
    try:
        leads, errors = read_leads(csv_path, candidate.lead_types(), now)
    except UnreadableCsv as error:
        console.print(f"[red]Cannot read {csv_path}:[/red] {error}")
        return 2
    result = simulate(leads, candidate, live, open_for=open_for)
    compared = ", compared with the live configuration" if live else ""
    console.print(
        f"Simulated {len(leads)} leads from {csv_path}{compared}: nothing stored, nobody notified."
    )
    if errors:
        console.print(_errors_table(errors, show_all))
    console.print(_decisions_table(result, show_all))
    _print_more(console, len(result.routed), show_all, "decisions")
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
    return 1 if errors else 0


def _limited(items: Sequence[Any], show_all: bool) -> Sequence[Any]:
    return items if show_all else items[:SHOWN_ROWS]


def _print_more(console: Console, total: int, show_all: bool, what: str) -> None:
    if not show_all and total > SHOWN_ROWS:
        console.print(
            f"[dim]… {total - SHOWN_ROWS} more {what} not shown: pass --all to see them.[/dim]"
        )


def _errors_table(errors: Sequence[RowError], show_all: bool) -> Table:
    table = Table(title=f"Refused rows ({len({error.row for error in errors})})")
    for column in ("Row", "Field", "Problem"):
        table.add_column(column)
    for error in _limited(errors, show_all):
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


def _decisions_table(result: SimulationResult, show_all: bool) -> Table:
    table = Table(title="Decisions")
    for column in ("Row", "Arrived", "Lead", "Rule", "Team", "Owner", "Why"):
        table.add_column(column)
    for entry in _limited(result.routed, show_all):
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
    changes = result.changes or ()
    moved = sum(1 for change in changes if change.team_changed)
    console.print(
        f"Against the live configuration: {len(changes)} of {len(result.routed)} leads "
        f"would change owner or team ({moved} change team)."
    )
    if not changes:
        return
    table = Table(title="Leads that would land elsewhere")
    for column in ("Row", "Lead", "Live: team / owner", "Candidate: team / owner", "Rule"):
        table.add_column(column)
    for change in _limited(changes, show_all):
        table.add_row(
            str(change.item.row),
            _lead_label(change.item.lead),
            f"{change.live.team or '-'} / {_outcome(change.live)}",
            f"{change.candidate.team or '-'} / {_outcome(change.candidate)}",
            change.candidate.rule or "-",
        )
    console.print(table)
    _print_more(console, len(changes), show_all, "changes")
