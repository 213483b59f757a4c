"""`leadrouter intake test PROFILE FILE`: the lead(s) a sender's payload would become
under a profile, and every mapping problem, without storing or notifying anything.

The file is the body the sender posts (JSON, or a Salesforce outbound message as .xml).
Signatures are not checked (a file has no headers); everything after them is the very
code `POST /api/intake/{profile}` runs, including the configuration's lead types.

Exit codes: 0 every record becomes a valid lead, 1 some record has problems (each is
listed), 2 the file cannot be read or the profile does not exist.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from domain.config import Config
from domain.errors import FieldError, InvalidInput
from domain.intake_formats import decode_body
from domain.intake_mapping import MappedRecord, map_payload
from domain.intake_profiles import known_profiles, resolve_profile


def add_intake_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    intake = commands.add_parser("intake", help="intake profiles: try a sender's payload")
    actions = intake.add_subparsers(dest="intake_command", required=True)
    test = actions.add_parser("test", help="show the lead a payload would become; stores nothing")
    test.add_argument("profile")
    test.add_argument("file", type=Path)
    test.add_argument("--config", type=Path, help="candidate configuration (default: live)")


def intake_test_command(profile_name: str, path: Path, config: Config, console: Console) -> int:
    try:
        profile = resolve_profile(profile_name, config.intake_profiles)
    except KeyError:
        known = ", ".join(known_profiles(config.intake_profiles))
        console.print(f"[red]No intake profile {profile_name!r}.[/red] Known: {known}")
        return 2
    try:
        body = path.read_bytes()
    except OSError as error:
        console.print(f"[red]Cannot read {path}:[/red] {error.strerror}")
        return 2
    content_type = "text/xml" if path.suffix.lower() == ".xml" else "application/json"
    try:
        records = map_payload(profile, decode_body(body, content_type, profile.format).document)
    except InvalidInput as error:
        _print_problems(console, error.errors)
        return 1
    console.print(
        f"Profile [bold]{profile.name}[/bold] ({profile.auth.scheme} sender): "
        f"{len(records)} record(s) in {path}; nothing stored, nobody notified."
    )
    if profile.retrieve is not None:
        which = f"without `{profile.retrieve.unless}` " if profile.retrieve.unless else ""
        console.print(
            f"(When serving, records {which}are first fetched from {profile.retrieve.url}; "
            "here each is mapped as the file has it.)",
            highlight=False,
        )
    failed = 0
    for record in records:
        problems = record.problems + _unknown_type(record, config)
        failed += bool(problems)
        _print_record(console, record, problems, len(records) > 1)
    return 1 if failed else 0


def _unknown_type(record: MappedRecord, config: Config) -> list[FieldError]:
    """The check intake makes after mapping: the configuration must know the lead type."""
    if record.lead is None or record.lead.lead_type in config.lead_types():
        return []
    known = ", ".join(sorted(config.lead_types()))
    return [FieldError("lead_type", f"unknown lead type; known: {known}")]


def _print_record(
    console: Console, record: MappedRecord, problems: list[FieldError], numbered: bool
) -> None:
    title = f"Record {record.index + 1}: " if numbered else ""
    if problems:
        console.print(f"{title}[red]not a lead[/red]: {len(problems)} problem(s)")
        _print_problems(console, problems)
    else:
        console.print(f"{title}[green]a valid lead[/green]")
    lead = record.lead.model_dump(exclude_none=True) if record.lead and not problems else None
    table = Table("field", "value", title="as a lead" if lead else "as mapped")
    for field, value in (lead or record.values).items():
        if value in ({}, []):
            continue
        table.add_row(field, repr(value) if not isinstance(value, str) else value)
    console.print(table)


def _print_problems(console: Console, problems: list[FieldError]) -> None:
    for problem in problems:
        console.print(f"  [red]•[/red] {problem}", markup=True, highlight=False)
