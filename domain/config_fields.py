"""The field types of the configuration that are not models: Slack ids and the emails
or `#names` a file may use instead, timezones, and working hours."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator

_SLACK_ID = re.compile(r"^[UWBCGD][A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CHANNEL_NAME = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _slack_id(value: Any) -> str:
    if not isinstance(value, str) or not _SLACK_ID.match(value):
        raise ValueError(f"expected a Slack id like U0ALICE or C0SALES, got {value!r}")
    return value


SlackId = Annotated[str, BeforeValidator(_slack_id)]


def _user_ref(value: Any) -> str:
    if isinstance(value, str) and _EMAIL.match(value):
        return value
    try:
        return _slack_id(value)
    except ValueError:
        raise ValueError(f"expected a member id like U0ALICE or an email, got {value!r}") from None


def _channel_ref(value: Any) -> str:
    if isinstance(value, str) and _CHANNEL_NAME.match(value):
        return value
    try:
        return _slack_id(value)
    except ValueError:
        raise ValueError(f"expected a channel id like C0SALES or a #name, got {value!r}") from None


# A person or a channel as a file may name them: the email or `#name` is replaced by the
# Slack id when the file is loaded (bot.services.directory), so the stored configuration
# and everything that routes hold ids.
UserRef = Annotated[str, BeforeValidator(_user_ref)]
ChannelRef = Annotated[str, BeforeValidator(_channel_ref)]


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


def is_channel_name(value: str) -> bool:
    return value.startswith("#")


def check_timezone(value: str) -> str:
    """An IANA zone name, so DST is handled by the zone database, not by us."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}") from None
    return value


def parse_working_hours(spec: dict[str, str]) -> dict[int, list[tuple[time, time]]]:
    """`{mon-fri: "09:00-17:30", sat: "10:00-14:00, 15:00-16:00"}` -> weekday -> shifts."""
    shifts: dict[int, list[tuple[time, time]]] = {}
    for days, hours in spec.items():
        for day in _expand_days(days):
            shifts.setdefault(day, []).extend(_parse_ranges(str(hours)))
    return shifts


def _expand_days(spec: str) -> list[int]:
    days: list[int] = []
    for part in str(spec).lower().split(","):
        first, _, last = part.strip().partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"expected days like mon-fri or sat, got {spec!r}")
        start, end = _DAYS.index(first), _DAYS.index(last or first)
        if end < start:
            raise ValueError(f"day range {spec!r} runs backwards")
        days.extend(range(start, end + 1))
    return days


def _parse_ranges(text: str) -> list[tuple[time, time]]:
    ranges = []
    for part in text.split(","):
        match = _CLOCK_RANGE.match(part.strip())
        if not match:
            raise ValueError(f"expected hours like 09:00-17:30, got {part.strip()!r}")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"not a time of day: {part.strip()!r}")
        start = time(h1, m1)
        end = time.max if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"{part.strip()!r} ends before it starts (split overnight shifts)")
        ranges.append((start, end))
    return ranges
