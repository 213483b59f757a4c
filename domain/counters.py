"""The counts routing needs, kept incrementally: open leads per rep (capacity,
least-loaded) and leads per rep per (team, lead type, local day) (caps).

Each change of a lead is a pair of its counted states, before and after; the counters
move by the difference, in the same transaction as the change, so routing reads a few
rows instead of counting every open lead on every intake. `recount` gives the same
totals from the leads themselves: the check that rebuilds and compares them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from domain.caps import AssignmentKey
from domain.records import WORKLOAD_STATUSES, LeadRecord

_WORKLOAD = frozenset(str(status) for status in WORKLOAD_STATUSES)


@dataclass(frozen=True)
class Counted:
    """What of a lead the counters look at."""

    owner: str | None
    status: str
    team: str | None
    lead_type: str
    assigned_day: date | None

    @classmethod
    def of(cls, lead: LeadRecord) -> Counted:
        return cls(
            lead.owner, str(lead.status), lead.team, lead.fields.lead_type, lead.assigned_day
        )

    @property
    def open_for(self) -> str | None:
        """The rep whose open leads this lead counts against, if any."""
        return self.owner if self.owner is not None and str(self.status) in _WORKLOAD else None

    @property
    def assignment(self) -> tuple[str, AssignmentKey] | None:
        """The rep and period key this lead counts for in caps, if any."""
        if self.owner is None or self.assigned_day is None:
            return None
        return self.owner, (self.team or "", self.lead_type, self.assigned_day)


@dataclass
class CountDeltas:
    """How much each counter moves; zero entries are dropped."""

    open_leads: Counter[str] = field(default_factory=Counter)
    assignments: Counter[tuple[str, AssignmentKey]] = field(default_factory=Counter)

    def add(self, before: Counted | None, after: Counted | None) -> None:
        """Count the change of one lead from `before` to `after` (None: not there)."""
        for state, sign in ((before, -1), (after, 1)):
            if state is None:
                continue
            if (user := state.open_for) is not None:
                self.open_leads[user] += sign
            if (key := state.assignment) is not None:
                self.assignments[key] += sign

    def nonzero(self) -> CountDeltas:
        return CountDeltas(
            Counter({k: v for k, v in self.open_leads.items() if v}),
            Counter({k: v for k, v in self.assignments.items() if v}),
        )

    @property
    def empty(self) -> bool:
        return not any(self.open_leads.values()) and not any(self.assignments.values())


def recount(leads: Iterable[Counted]) -> CountDeltas:
    """The counters from scratch: what the incremental ones must always equal."""
    totals = CountDeltas()
    for lead in leads:
        totals.add(None, lead)
    return totals.nonzero()
