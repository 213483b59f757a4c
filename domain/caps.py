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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Scope:
    """Which assignments a limit counts: a team's only, a lead type's only, or all."""

    team: str | None
    lead_type: str | None
    label: str


def cap_reason(
    counts: AssignmentCounts,
    today: date,
    lead_type: str,
    rep_caps: PeriodCaps | None,
    team: str | None = None,
    team_caps: PeriodCaps | None = None,
) -> str | None:
    """Why the rep may not receive one more lead of `lead_type` from `team` today, or
    None. `today` is the rep's local date; `counts` their assignment counts."""
    checks: list[tuple[PeriodLimits, _Scope]] = []
    for caps, scope_team in ((rep_caps, None), (team_caps, team)):
        if caps is None:
            continue
        where = f" in {scope_team}" if scope_team else ""
        checks.append((caps, _Scope(scope_team, None, where)))
        typed = caps.lead_types.get(lead_type)
        if typed is not None:
            checks.append((typed, _Scope(scope_team, lead_type, f" for {lead_type}{where}")))
    if not checks:
        return None
    monday = week_start(today)
    for limits, scope in checks:
        if limits.per_day is not None:
            held = _count(counts, scope, today, today)
            if held >= limits.per_day:
                return f"at daily cap{scope.label} ({held}/{limits.per_day} leads today)"
        if limits.per_week is not None:
            held = _count(counts, scope, monday, monday + timedelta(days=6))
            if held >= limits.per_week:
                return f"at weekly cap{scope.label} ({held}/{limits.per_week} leads this week)"
    return None


def _count(counts: AssignmentCounts, scope: _Scope, first: date, last: date) -> int:
    return sum(
        count
        for (team, lead_type, day), count in counts.items()
        if first <= day <= last
        and (scope.team is None or team == scope.team)
        and (scope.lead_type is None or lead_type == scope.lead_type)
    )


def earliest_day(now: datetime) -> date:
    """The oldest local day any rep's weekly cap can look at: the Monday of the week of
    the earliest local date on Earth at `now` (UTC-12), so storage reads no older rows."""
    return week_start((now.astimezone(UTC) - timedelta(hours=12)).date())
