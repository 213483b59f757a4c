"""`leadrouter import FILE.csv`: bulk intake through the same path as the API, so each
row is validated, deduplicated, routed, given its SLA and queued for Slack exactly like
a POST. Safe to run again after an interruption, or after correcting refused rows in
the file: each row's idempotency key is a digest of the lead it holds, so rows already
stored come back as duplicates and nothing is stored or sent twice. (A key from the
file's digest and row number would change with any edit to the file and store every
row again.) Slack messages go out when `leadrouter serve` runs."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.csv_leads import RowError, UnreadableCsv, read_leads
from bot.services.intake import IntakeService
from domain.errors import FieldError, InvalidInput
from domain.lead import BUILTIN_LEAD_TYPES, LeadInput
from domain.simulation import SimulatedLead

CHUNK = 256  # submitted together, they share group commits
DEFAULT_SOURCE = "csv_import"


async def import_command(
    csv_path: Path,
    intake: IntakeService,
    known_lead_types: set[str] | None,
    submitter: str,
    console: Console,
) -> int:
    """Import the file; print a summary; return 0 if every row was stored (or already
    was), 1 if some rows were refused (listed in FILE.errors.csv), 2 if unreadable."""
    try:
        leads, errors = await asyncio.to_thread(
            read_leads, csv_path, known_lead_types or set(BUILTIN_LEAD_TYPES), intake.now()
        )
    except (OSError, UnreadableCsv) as error:
        console.print(f"[red]Cannot read {csv_path}:[/red] {error}")
        return 2
    stored = duplicates = 0
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("import", total=len(leads))
        for start in range(0, len(leads), CHUNK):
            chunk = leads[start : start + CHUNK]
            outcomes = await asyncio.gather(
                *(_submit(intake, submitter, item) for item in chunk),
                return_exceptions=True,
            )
            for item, outcome in zip(chunk, outcomes, strict=True):
                if isinstance(outcome, InvalidInput):
                    errors.extend(RowError(item.row, problem) for problem in outcome.errors)
                elif isinstance(outcome, BaseException):
                    raise outcome
                elif outcome:
                    duplicates += 1
                else:
                    stored += 1
            progress.advance(task, len(chunk))
    console.print(
        f"{csv_path}: {stored} leads stored, {duplicates} already there (duplicates or an "
        f"earlier run), {len({e.row for e in errors})} rows refused."
    )
    if errors:
        report = await asyncio.to_thread(_write_report, csv_path, errors)
        console.print(f"Refused rows and why: {report}")
        return 1
    return 0


def row_key(lead: LeadInput) -> str:
    """The same lead gives the same key in any file, at any row."""
    canonical = json.dumps(lead.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return "csv:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


async def _submit(intake: IntakeService, submitter: str, item: SimulatedLead) -> bool:
    """Store one row; True when it was already stored."""
    lead: LeadInput = item.lead
    if lead.source is None:
        lead = lead.model_copy(update={"source": DEFAULT_SOURCE})
    result = await intake.submit(submitter, lead, row_key(lead))
    return result.duplicate


def _write_report(csv_path: Path, errors: list[RowError]) -> Path:
    report = csv_path.with_name(csv_path.name + ".errors.csv")
    with report.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "field", "message"])
        for error in sorted(errors, key=lambda e: e.row):
            problem: FieldError = error.error
            writer.writerow([error.row, problem.path, problem.message])
    return report
