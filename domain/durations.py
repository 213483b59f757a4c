"""Durations as the configuration writes them: `90s`, `5m`, `2h`, `1d`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PATTERN = re.compile(r"^\s*(\d{1,12})\s*([smhd])\s*$")
MAX_DURATION = timedelta(days=365)
"""No SLA, reminder, window or report period is longer; `99999999999d` is a typo (and
overflows timedelta)."""


def parse_duration(text: str) -> timedelta:
    """Parse `<integer><unit>`; raise ValueError with a message a sales ops lead understands."""
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(f"expected a duration like 90s, 5m, 2h or 1d, got {str(text)[:40]!r}")
    amount, unit = match.groups()
    seconds = int(amount) * _UNITS[unit]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"at most {format_duration(MAX_DURATION)} (a year), got {text!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling, so an export reads the way a person writes it."""
    seconds = int(value.total_seconds())
    for unit, size in _UNITS.items():
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def humanize(value: timedelta) -> str:
    """`4m 30s`, `2h 5m`, `1d 3h`: for lines humans read in Slack."""
    seconds = abs(int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{amount}{unit}" for amount, unit in parts if amount][:2]
    return " ".join(shown) or "0s"


def _as_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_as_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A configuration duration: read from `5m`, written back the same way."""
