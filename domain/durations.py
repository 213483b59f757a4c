"""Durations as the configuration writes them: `90s`, `5m`, `2h`, `1d`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse `<integer><unit>`; raise ValueError with a message a sales ops lead understands."""
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(f"expected a duration like 90s, 5m, 2h or 1d, got {text!r}")
    amount, unit = match.groups()
    return timedelta(seconds=int(amount) * _UNITS[unit])


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
    return value if isinstance(value, timedelta) else parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_as_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A configuration field written as `5m` and exported the same way."""
