"""Caps per period: leads a rep may receive per day and per week, in their own timezone.

What counts is the leads a rep holds that were assigned to them in the period: a lead
released, declined, timed out or reassigned away leaves the count (it is no longer
theirs), an outcome does not. The counts are keyed by (team, lead type, local day of
assignment) and kept incrementally by storage (see domain.counters); the local day is
fixed when the lead is assigned, so a later timezone change never moves old leads.
Weeks are ISO weeks (Monday to Sunday) of the rep's local calendar, so DST changes
nothing: a day is a calendar day whether it lasts 23, 24 or 25 hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.availability_config import PeriodCaps, PeriodLimits

AssignmentKey = tuple[str, str, date]
"""(team or "", lead type, the rep's local day when the lead was assigned)."""

AssignmentCounts = Mapping[AssignmentKey, int]


def local_day(at: datetime, zone: str) -> date:
    """The calendar day of `at` where the rep lives."""
    return at.astimezone(ZoneInfo(zone)).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def cap_reason(
    counts: AssignmentCounts,
    today: date,
    lead_type: str,
    rep_caps: PeriodCaps | None,
    team: str | None = None,
    team_caps: PeriodCaps | None = None,
) -> str | None:
    """Why the rep may not receive one more lead of `lead_type` from `team` today, or
    None. `today` is the rep's local date; `counts` their assignment counts. Asked for
    every member on every lead: one pass over the counts, then the limits."""
    monday = week_start(today)
    sunday = monday + timedelta(days=6)
    # [today, this week] for: every lead, this type, this team, this team and type.
    held = [[0, 0], [0, 0], [0, 0], [0, 0]]
    for (count_team, count_type, day), count in counts.items():
        if not monday <= day <= sunday:
            continue
        same_type, same_team = count_type == lead_type, count_team == team
        for index, wanted in enumerate((True, same_type, same_team, same_team and same_type)):
            if wanted:
                held[index][1] += count
                if day == today:
                    held[index][0] += count
    checks: list[tuple[PeriodLimits, list[int], str]] = []
    for caps, base, where in ((rep_caps, 0, ""), (team_caps, 2, f" in {team}")):
        if caps is None:
            continue
        checks.append((caps, held[base], where))
        typed = caps.lead_types.get(lead_type)
        if typed is not None:
            checks.append((typed, held[base + 1], f" for {lead_type}{where}"))
    for limits, (today_held, week_held), label in checks:
        if limits.per_day is not None and today_held >= limits.per_day:
            return f"at daily cap{label} ({today_held}/{limits.per_day} leads today)"
        if limits.per_week is not None and week_held >= limits.per_week:
            return f"at weekly cap{label} ({week_held}/{limits.per_week} leads this week)"
    return None


def earliest_day(now: datetime) -> date:
    """The oldest local day any rep's weekly cap can look at: the Monday of the week of
    the earliest local date on Earth at `now` (UTC-12), so storage reads no older rows."""
    return week_start((now.astimezone(UTC) - timedelta(hours=12)).date())
