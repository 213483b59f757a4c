"""Choosing one rep inside a team's segment.

Weighted and plain round robin use smooth weighted round robin (the nginx algorithm):
each eligible rep gains its weight in credit, the richest is chosen and pays the
total. Shares track weights at every prefix, not only in the long run.

Policy for reps who are away (PTO, off shift, at capacity): they take no part in the
rounds they miss, neither gaining nor losing credit. On return they compete with the
credit they left with: no penalty for being away, and no flood of catch-up leads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """An eligible rep, with what the strategies need to know."""

    user: str
    weight: int
    open_leads: int
    last_assigned_at: datetime | None


def smooth_weighted_pick(
    candidates: Sequence[Candidate], credits: Mapping[str, int]
) -> tuple[str, dict[str, int]]:
    """Return the chosen rep and the team's new credits (absent reps keep theirs)."""
    updated = dict(credits)
    total = 0
    best: Candidate | None = None
    for candidate in candidates:
        updated[candidate.user] = updated.get(candidate.user, 0) + candidate.weight
        total += candidate.weight
        if best is None or updated[candidate.user] > updated[best.user]:
            best = candidate
    if best is None:
        raise ValueError("no candidates to choose from")
    updated[best.user] -= total
    return best.user, updated


def least_loaded_pick(candidates: Sequence[Candidate]) -> str:
    """Fewest open leads; ties go to whoever has waited longest since their last lead."""
    if not candidates:
        raise ValueError("no candidates to choose from")

    def wait_key(candidate: Candidate) -> tuple[int, int, float]:
        never = candidate.last_assigned_at is None
        stamp = 0.0 if never else candidate.last_assigned_at.timestamp()  # type: ignore[union-attr]
        return (candidate.open_leads, 0 if never else 1, stamp)

    return min(candidates, key=wait_key).user
