"""Is a rep able to take a lead right now? Inactive, PTO, off shift, at capacity.

Everything is judged in the rep's own timezone, so DST and day boundaries are the
rep's, not the server's.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.config import RepConfig


def unavailable_reason(rep: RepConfig, now: datetime, open_leads: int) -> str | None:
    """Why the rep cannot take a lead at `now` (aware datetime), or None when they can."""
    if not rep.active:
        return "inactive"
    local = now.astimezone(ZoneInfo(rep.timezone))
    today = local.date()
    for pto in rep.pto:
        if pto.start <= today <= pto.end:
            return f"on PTO until {pto.end.isoformat()}"
    shifts = rep.shifts()
    if shifts is not None:
        clock = local.time()
        if not any(start <= clock <= end for start, end in shifts.get(local.weekday(), [])):
            return f"off shift ({local:%a %H:%M} {rep.timezone})"
    if rep.capacity is not None and open_leads >= rep.capacity:
        return f"at capacity ({open_leads}/{rep.capacity} open leads)"
    return None
