"""Is a rep able to take a lead right now? Inactive, PTO, off shift, at capacity.

Everything is judged in the rep's own timezone, so DST and day boundaries are the
rep's, not the server's. PTO days are inclusive on both ends; a shift includes its
start minute and ends just before its end minute (`09:00-17:30` is off at 17:30).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from domain.config import RepConfig


class LocalClock:
    """`now` in each timezone, converted once per decision: a team shares a few zones."""

    def __init__(self, now: datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("`now` must be timezone-aware: the domain never guesses a zone")
        self.now = now
        self._local: dict[str, datetime] = {}

    def local(self, zone: str) -> datetime:
        local = self._local.get(zone)
        if local is None:
            local = self._local[zone] = self.now.astimezone(ZoneInfo(zone))
        return local


class Availability:
    """A rep's availability rules compiled once (zone, PTO, parsed shifts)."""

    def __init__(self, rep: RepConfig):
        self.active = rep.active
        self.zone = rep.timezone
        self.capacity = rep.capacity
        self.pto: tuple[tuple[date, date], ...] = tuple((p.start, p.end) for p in rep.pto)
        shifts = rep.shifts()
        self.shifts: dict[int, tuple[tuple[time, time], ...]] | None = (
            None if shifts is None else {day: tuple(ranges) for day, ranges in shifts.items()}
        )
        self._local_rules = bool(self.pto) or self.shifts is not None

    def reason(self, clock: LocalClock, open_leads: int) -> str | None:
        """Why the rep cannot take a lead at the clock's time, or None when they can."""
        if not self.active:
            return "inactive"
        if self._local_rules:
            local = clock.local(self.zone)
            pto_end = self.pto_end(local.date())
            if pto_end is not None:
                return f"on PTO until {pto_end.isoformat()}"
            off_shift = self.off_shift(local)
            if off_shift:
                return off_shift
        if self.capacity is not None and open_leads >= self.capacity:
            return f"at capacity ({open_leads}/{self.capacity} open leads)"
        return None

    def pto_end(self, today: date) -> date | None:
        """The last day of the first PTO range holding `today` (local), or None."""
        for start, end in self.pto:
            if start <= today <= end:
                return end
        return None

    def off_shift(self, local: datetime) -> str | None:
        """Why this local time is outside every shift, or None (always, without hours)."""
        if self.shifts is None:
            return None
        now = local.time()
        for start, end in self.shifts.get(local.weekday(), ()):
            if start <= now < end:
                return None
        return f"off shift ({local:%a %H:%M} {self.zone})"


def unavailable_reason(rep: RepConfig, now: datetime, open_leads: int) -> str | None:
    """Why the rep cannot take a lead at `now` (aware datetime), or None when they can."""
    return Availability(rep).reason(LocalClock(now), open_leads)
