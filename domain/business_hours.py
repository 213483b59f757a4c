"""Business-hours SLA counting: off-hours do not consume the SLA.

A team may set `business_hours` (a timezone and weekly hours). A 2h SLA on a lead
that arrives Friday at 16:00 with hours 09:00-17:00 is then due Monday at 10:00.
Arithmetic is done on UTC instants, so DST changes neither add nor lose time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MAX_DAYS = 3660  # ten years of calendar: more means the hours are empty


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str
    shifts: dict[int, list[tuple[time, time]]]

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant `amount` of business time after `start` (aware, returned in UTC)."""
        if amount <= timedelta(0):
            return start.astimezone(UTC)
        zone = ZoneInfo(self.timezone)
        remaining = amount
        begin_utc = start.astimezone(UTC)
        day = start.astimezone(zone).date()
        for _ in range(_MAX_DAYS):
            for opens, closes in sorted(self.shifts.get(day.weekday(), [])):
                window_start = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
                window_end = _closing(day, closes, zone)
                lower = max(window_start, begin_utc)
                if window_end <= lower:
                    continue
                available = window_end - lower
                if remaining <= available:
                    return lower + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("business hours never open: cannot count an SLA in them")


def _closing(day: date, closes: time, zone: ZoneInfo) -> datetime:
    """Closing instant; `24:00` (stored as time.max) is the next midnight, exactly."""
    if closes == time.max:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
