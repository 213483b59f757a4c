"""Leads from a CSV file, read the way intake reads JSON: headers name lead fields
(case-insensitive, spaces as underscores), any other header becomes an attribute
(`plan` or `attributes.plan`), empty cells are absent, and a `created_at` column (ISO
8601, UTC without an offset) says when the lead arrived. A bad row is reported with its
row number and the rest are read. Used by `leadrouter simulate` and `leadrouter import`."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.bounded_files import FileTooLarge, limited_lines
from domain.errors import FieldError, InvalidInput
from domain.lead import LeadInput, parse_lead
from domain.simulation import SimulatedLead

TIME_COLUMN = "created_at"
MAX_LINE = 1024 * 1024
"""A row (or the header) longer than this is not a lead export; /dev/zero is one line."""
MAX_CHARACTERS = 200 * 1024 * 1024
"""About a million leads, which `import` holds in memory (`simulate` streams them)."""
_LEAD_FIELDS = frozenset(LeadInput.model_fields) - {"attributes"}


@dataclass(frozen=True)
class RowError:
    row: int
    error: FieldError


class UnreadableCsv(Exception):
    """The file as a whole cannot be used: missing, not UTF-8, no header, bad quoting."""


def read_leads(
    csv_path: Path, known_lead_types: set[str], default_at: datetime
) -> tuple[list[SimulatedLead], list[RowError]]:
    """Every valid row as a lead to replay, and every refused row's problems."""
    leads: list[SimulatedLead] = []
    errors: list[RowError] = []
    for item in stream_leads(csv_path, known_lead_types, default_at):
        if isinstance(item, RowError):
            errors.append(item)
        else:
            leads.append(item)
    return leads, errors


def stream_leads(
    csv_path: Path, known_lead_types: set[str], default_at: datetime
) -> Iterator[SimulatedLead | RowError]:
    """Each valid row as a lead and each refused row's problems, in file order, one row
    at a time (a file of a million leads is never held whole). UnreadableCsv as soon
    as the file as a whole turns out unusable."""
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(limited_lines(handle, MAX_LINE, MAX_CHARACTERS))
            names = _columns(next(reader, None))
            for row, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue
                try:
                    at, data = _row_data(names, cells, default_at)
                    lead = SimulatedLead(row, parse_lead(data, known_lead_types), at)
                except InvalidInput as error:
                    yield from (RowError(row, problem) for problem in error.errors)
                else:
                    yield lead
    except (OSError, UnicodeDecodeError, csv.Error, FileTooLarge) as error:
        raise UnreadableCsv(str(error)) from None


def _columns(header: list[str] | None) -> list[str]:
    """Normalised header names: `First Name` -> `first_name`."""
    if not header:
        raise UnreadableCsv("the file is empty: expected a header row")
    names = ["_".join(name.strip().lower().replace("-", " ").split()) for name in header]
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise UnreadableCsv(f"duplicate columns: {', '.join(duplicates)}")
    return names


def _row_data(
    names: list[str], cells: list[str], default_at: datetime
) -> tuple[datetime, dict[str, Any]]:
    if len(cells) > len(names):
        raise InvalidInput([FieldError("", f"{len(cells)} cells for {len(names)} columns")])
    data: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    at = default_at
    for name, raw in zip(names, cells, strict=False):
        value = raw.strip()
        if not value:
            continue
        if name == TIME_COLUMN:
            at = _timestamp(value)
        elif name in _LEAD_FIELDS:
            data[name] = value
        else:
            attributes[name.removeprefix("attributes.")] = value
    if attributes:
        data["attributes"] = attributes
    return at, data


def _timestamp(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        message = f"expected an ISO 8601 time like 2026-03-02T09:15:00Z, got {value!r}"
        raise InvalidInput([FieldError(TIME_COLUMN, message)]) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
