"""The pure mapping from a sender's payload to our lead fields, with every problem named.

`map_payload(profile, payload)` never stops at the first problem: a sales ops person
fixing a profile (or reading `leadrouter intake test`) sees all of them at once, each
with the lead field and the sender's path it came from. The result then goes through
the same validation as `POST /api/leads` (domain.lead.parse_lead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from domain.errors import FieldError, InvalidInput
from domain.intake_profiles import FieldSource, IntakeProfile
from domain.json_paths import Memo
from domain.lead import LeadInput, parse_lead

NUMBER_FIELDS = frozenset({"employees", "score"})
MAX_RECORDS = 100  # Salesforce sends at most 100 notifications a message; Meta batches fewer
_LEADING_NUMBER = re.compile(r"^\s*(\d[\d,. ]*)")


@dataclass(frozen=True)
class MappedRecord:
    """One record of the payload: the fields as mapped, and the lead if they are valid."""

    index: int
    values: dict[str, Any]
    lead: LeadInput | None
    problems: list[FieldError] = field(default_factory=list)


def map_payload(profile: IntakeProfile, payload: Any) -> list[MappedRecord]:
    """Every record in the payload, mapped. A payload without records raises InvalidInput."""
    return map_records(profile, records_of(profile, payload))


def map_records(profile: IntakeProfile, records: list[Any]) -> list[MappedRecord]:
    return [map_record(profile, record, index) for index, record in enumerate(records)]


def records_of(profile: IntakeProfile, payload: Any) -> list[Any]:
    """The records of a payload; InvalidInput when there are none or too many."""
    records = _records(profile, payload)
    if not records:
        where = f"at {' or '.join(profile.records)}" if profile.records else "in the body"
        raise InvalidInput([FieldError("body", f"no records found {where}")])
    if len(records) > MAX_RECORDS:
        raise InvalidInput([FieldError("body", f"at most {MAX_RECORDS} records per request")])
    return records


def map_record(profile: IntakeProfile, record: Any, index: int = 0) -> MappedRecord:
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    memo: Memo = {}  # the record's lists indexed once per filter key, not once per field
    for target, source in profile.fields.items():
        value, problem = _field_value(target, source, record, memo)
        if problem:
            problems.append(FieldError(target, problem))
        elif value is not None:
            values[target] = value
    lead = None
    try:
        lead = parse_lead(_lead_data(values))
    except InvalidInput as error:
        problems.extend(error.errors)
    return MappedRecord(index, values, lead if not problems else None, problems)


def _records(profile: IntakeProfile, payload: Any) -> list[Any]:
    for path in profile.records_paths:
        records = [
            item
            for value in path.find(payload)
            for item in (value if isinstance(value, list) else [value])
        ]
        if records:
            return records
    if profile.records:
        return []
    return payload if isinstance(payload, list) else [payload]


def _lead_data(values: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for target, value in values.items():
        if target.startswith("attributes."):
            attributes[target.removeprefix("attributes.")] = value
        else:
            data[target] = value
    if attributes:
        data["attributes"] = attributes
    return data


def _field_value(
    target: str, sources: list[FieldSource], record: Any, memo: Memo
) -> tuple[Any, str | None]:
    """The value for one lead field from the first source that gives one, or a problem
    saying which path gave what."""
    for source in sources:
        if source.value is not None:
            return source.value, None
        raw, path = _first_found(source, record, memo)
        if raw is None:
            continue
        if isinstance(raw, dict):
            return None, f"expected a single value (from {path}), found an object"
        if isinstance(raw, list) and not target.startswith("attributes."):
            raw = ", ".join(str(item) for item in raw if not isinstance(item, dict | list))
        if source.split_name:
            raw = split_name(str(raw), source.split_name)
            if raw is None:
                continue
        if source.map is not None:
            key = str(raw).strip().casefold()
            if key in source.map:
                raw = source.map[key]
            elif source.default is not None:
                return source.default, None
            else:
                known = ", ".join(f'"{name}"' for name in source.map)
                return None, f'"{raw}" (from {path}) is not in the value map (known: {known})'
        return _coerced(target, raw, path)
    return next((source.default for source in sources if source.default is not None), None), None


def _first_found(source: FieldSource, record: Any, memo: Memo) -> tuple[Any, str | None]:
    """The first path that reaches a non-empty value: senders leave unanswered fields out,
    send them as null, or as an empty string."""
    for path in source.paths:
        found = path.find(record, memo=memo) if path.fans_out else [path.first(record, memo=memo)]
        values = [value for value in found if value not in (None, "", [])]
        if values:
            return (values if path.fans_out else values[0]), path.text
    return None, None


def _coerced(target: str, raw: Any, path: str | None) -> tuple[Any, str | None]:
    if target.startswith("attributes."):
        return raw, None
    if target in NUMBER_FIELDS:
        number = to_number(raw)
        if number is None:
            return None, f"expected a number (from {path}), got {raw!r}"
        return number, None
    if isinstance(raw, bool):
        return ("true" if raw else "false"), None
    return (str(raw) if isinstance(raw, int | float) else raw), None


def to_number(raw: Any) -> int | None:
    """`1200`, `"1,200"`, `"500+"`, and the lower bound of a band like `"51-200"`: forms
    ask for company size in bands, and the lower bound never overstates a company."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return round(raw)
    match = _LEADING_NUMBER.match(str(raw))
    if not match:
        return None
    digits = match.group(1).replace(",", "").replace(" ", "")
    try:
        return round(float(digits))
    except ValueError:
        return None


def split_name(full_name: str, part: str) -> str | None:
    """First word as the first name, the rest as the last name; `Last, First` (the
    comma form CRMs export) is read the other way round."""
    last, comma, first = full_name.partition(",")
    if comma:
        words = (first.strip(), last.strip())
    else:
        head, _, rest = full_name.strip().partition(" ")
        words = (head, rest.strip())
    chosen = words[0] if part == "first" else words[1]
    return chosen or None
