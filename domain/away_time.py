"""`/leads away [until TIME]`: when a rep's own away toggle ends, read in their timezone.

TIME is a clock time (`17:30`: the next time it is 17:30), a day (`fri`, `tomorrow`,
`2026-12-24`: away until that day begins), a day and a time (`mon 09:00`), or a
duration (`for 2h`, `90m`). Nothing: away until `/leads back`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.durations import parse_duration
from domain.errors import DomainError

AWAY_USAGE = (
    "Usage: `/leads away` (until `/leads back`), `/leads away until 17:30`, "
    "`/leads away until fri 09:00`, `/leads away until 2026-12-24` or `/leads away for 2h`."
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def away_until(words: list[str], now: datetime, zone: str) -> datetime | None:
    """The end of the away toggle the rep asked for (aware UTC), or None for open-ended.
    Raises DomainError with the usage for anything else, or for a time not in the future."""
    if not words:
        return None
    keyword, rest = words[0].lower(), [word.lower() for word in words[1:]]
    if keyword == "for" and len(rest) == 1:
        return now + _duration(rest[0])
    if keyword != "until" or not 1 <= len(rest) <= 2:
        if len(words) == 1:
            return now + _duration(keyword)
        raise DomainError(AWAY_USAGE)
    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz)
    if len(rest) == 1 and _CLOCK.match(rest[0]):
        at = _clock(rest[0])
        day = local_now.date()
        if at <= local_now.time().replace(tzinfo=None):
            day += timedelta(days=1)
        return _aware(day, at, tz)
    day = _day(rest[0], local_now.date())
    at = _clock(rest[1]) if len(rest) == 2 else time(0, 0)
    moment = _aware(day, at, tz)
    if moment <= now:
        raise DomainError(f"{' '.join(words[1:])} has already passed. {AWAY_USAGE}")
    return moment


def _duration(text: str) -> timedelta:
    try:
        amount = parse_duration(text)
    except ValueError:
        raise DomainError(AWAY_USAGE) from None
    if amount <= timedelta(0):
        raise DomainError(AWAY_USAGE)
    return amount


def _clock(text: str) -> time:
    match = _CLOCK.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise DomainError(f"{text!r} is not a time like 17:30. {AWAY_USAGE}")
    return time(int(match[1]), int(match[2]))


def _day(text: str, today: date) -> date:
    """`tomorrow`, a weekday (the next one, never today) or an ISO date."""
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text[:3] in _DAYS and text.isalpha():
        ahead = (_DAYS.index(text[:3]) - today.weekday()) % 7
        return today + timedelta(days=ahead or 7)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(f"{text!r} is not a day or a time. {AWAY_USAGE}") from None


def _aware(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as UTC (a time in a DST gap resolves forward, as Python's
    zoneinfo does with fold=0)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
