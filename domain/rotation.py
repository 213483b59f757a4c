"""Choosing one rep inside a team's segment.

Round robin and weighted rotation share one method, Balinski and Young's quota method,
kept as credits. A rep's credit is how many leads they are owed against their fair
share of the leads routed while they could take one. Each lead adds `w/W` to every
eligible rep (weight over the eligible reps' total weight); the lead goes, among the
eligible reps owed more than nothing after that gain, to the one who will first be
owed a whole lead (smallest `(1 - credit) * W / w`), ties to the earlier member; the
chosen rep pays one lead. With the same eligible reps throughout, this is exactly the
quota method: after every lead each rep holds within one lead of `N * w / W` (the
plain nginx "richest takes it" rule drifts past one). Round robin is the same with
every weight 1: counts never differ by more than one.

There are no epochs and nothing is reset when the eligible reps change. Reps who are
away (inactive, PTO, off shift, at capacity) keep their credit frozen: they neither
gain nor lose while away. On return their credit thaws as it was, which was under one
lead while availability was stable: no penalty for being away, and no flood of catch-up
leads however long the absence (property-tested: after any history of absences, nobody
gets more than two leads beyond their weighted share of what follows). Reps who left
owed can leave the others collectively ahead; if then nobody eligible is owed anything,
the same earliest-deadline rule picks among all eligible reps. Direct routes (account
owner, event attendee) do not touch credits. A rep removed from the team loses theirs.

Credits are stored as integers: `credits[user] / credits[PER_LEAD]` leads. The unit is
`W * 1_000_000` for the eligible reps' total weight `W`, so every step is exact integer
arithmetic; when `W` changes all credits (frozen ones too) are rescaled to the new unit,
rounding off at most half a unit. A state without `PER_LEAD` starts fresh.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

PER_LEAD = "_per_lead"
"""Key of the credits dict holding how many credit units make one lead."""

_RESOLUTION = 1_000_000


class Candidate(NamedTuple):
    """An eligible rep, with what the strategies need to know (a tuple: made per member
    per decision, so it must be cheap)."""

    user: str
    weight: int
    open_leads: int
    last_assigned_at: datetime | None


def quota_pick(
    candidates: Sequence[Candidate], credits: Mapping[str, int], roster: Collection[str]
) -> tuple[str, dict[str, int]]:
    """Return the chosen rep and the team's new credits.

    `roster` lists the team's current members: credits of anyone else are dropped, so a
    rep who leaves the team does not keep a claim on it.
    """
    if not candidates:
        raise ValueError("no candidates to choose from")
    per_lead = sum(candidate.weight for candidate in candidates) * _RESOLUTION
    updated = _in_units(credits, roster, per_lead)
    gained = []
    for candidate in candidates:
        gain = candidate.weight * _RESOLUTION
        gained.append((candidate.user, updated.get(candidate.user, 0) + gain, gain))
    owed = [entry for entry in gained if entry[1] > 0] or gained
    best_user, best_credit, best_gain = owed[0]
    for user, credit, gain in owed[1:]:
        # Earliest to be owed a whole lead: (per_lead - credit) / gain is smallest.
        if (per_lead - credit) * best_gain < (per_lead - best_credit) * gain:
            best_user, best_credit, best_gain = user, credit, gain
    for user, credit, _ in gained:
        updated[user] = credit
    updated[best_user] -= per_lead
    updated[PER_LEAD] = per_lead
    return best_user, updated


def refund(credits: Mapping[str, int], user: str) -> dict[str, int]:
    """Give a rep back the lead they were charged for (an offer they never got to keep,
    when the team's policy says so): they are owed it again, as if never picked."""
    updated = dict(credits)
    per_lead = credits.get(PER_LEAD)
    if per_lead:
        updated[user] = updated.get(user, 0) + per_lead
    return updated


def credit_in_leads(credits: Mapping[str, int], user: str) -> float:
    """A rep's credit in leads (positive: owed a share), for reasons and reports."""
    per_lead = credits.get(PER_LEAD)
    return credits.get(user, 0) / per_lead if per_lead else 0.0


def _in_units(credits: Mapping[str, int], roster: Collection[str], per_lead: int) -> dict[str, int]:
    """The roster's credits expressed in `per_lead` units (a state without a unit is fresh)."""
    old = credits.get(PER_LEAD)
    if not old or old <= 0:
        return {}
    if old == per_lead:
        return {user: value for user, value in credits.items() if user in roster}
    # Round half up: floor(value * per_lead / old + 1/2).
    return {
        user: (2 * value * per_lead + old) // (2 * old)
        for user, value in credits.items()
        if user in roster
    }


def least_loaded_pick(candidates: Sequence[Candidate]) -> str:
    """Fewest open leads; ties go to whoever has waited longest since their last lead
    (never assigned counts as longest), then to the earlier member."""
    if not candidates:
        raise ValueError("no candidates to choose from")

    def wait_key(candidate: Candidate) -> tuple[int, bool, datetime | None]:
        last = candidate.last_assigned_at
        return (candidate.open_leads, last is not None, last)

    return min(candidates, key=wait_key).user
