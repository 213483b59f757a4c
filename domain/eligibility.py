"""Can this rep take this lead now? Every availability source, combined, with the first
reason that says no: the configuration (inactive, PTO, off shift, open-lead capacity),
the rep's own away toggle, Slack (status, do-not-disturb, presence: as the team opted
in), then caps per period. Routing, escalation, backfill and claims all ask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.availability import Availability, LocalClock
from domain.availability_config import AvailabilitySettings, PeriodCaps, TeamCaps, TeamSignals
from domain.caps import AssignmentCounts, cap_reason
from domain.signals import NO_SIGNALS, RepSignals, signal_reason

_NO_COUNTS: AssignmentCounts = {}


@dataclass(frozen=True)
class RepFacts:
    """What the database and the Slack cache know about reps, read once per decision."""

    open_leads: Mapping[str, int] = field(default_factory=dict)
    signals: Mapping[str, RepSignals] = field(default_factory=dict)
    assignments: Mapping[str, AssignmentCounts] = field(default_factory=dict)


@dataclass(frozen=True)
class TeamRules:
    """The parts of a team's configuration that decide availability."""

    name: str | None = None
    signals: TeamSignals | None = None
    caps: TeamCaps | None = None


NO_TEAM = TeamRules()


def unavailable(
    user: str,
    availability: Availability,
    rep_caps: PeriodCaps | None,
    team: TeamRules,
    lead_type: str,
    clock: LocalClock,
    facts: RepFacts,
    settings: AvailabilitySettings,
    push: bool = True,
) -> str | None:
    """Why `user` cannot take a `lead_type` lead from `team` at the clock's time, or None.
    `push`: the lead would be assigned to them (presence only matters then)."""
    reason = availability.reason(clock, facts.open_leads.get(user, 0))
    if reason:
        return reason
    signals = facts.signals.get(user, NO_SIGNALS)
    if signals is not NO_SIGNALS:
        reason = signal_reason(signals, team.signals, settings, clock.now, availability.zone, push)
        if reason:
            return reason
    if rep_caps is None and team.caps is None:
        return None
    return cap_reason(
        facts.assignments.get(user, _NO_COUNTS),
        clock.local(availability.zone).date(),
        lead_type,
        rep_caps,
        team.name,
        team.caps,
    )
