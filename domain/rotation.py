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
from itertools import compress, repeat
from math import lcm
from operator import add, eq, floordiv, gt, mul, sub
from typing import NamedTuple

PER_LEAD = "_per_lead"
"""Key of the credits dict holding how many credit units make one lead."""

_RESOLUTION = 1_000_000


class Candidate(NamedTuple):
    """An eligible rep, with what the strategies need to know."""

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
    users = [candidate.user for candidate in candidates]
    return quota_choice(users, [candidate.weight for candidate in candidates], credits, roster)


def quota_choice(
    users: Sequence[str],
    weights: Sequence[int],
    credits: Mapping[str, int],
    roster: Collection[str],
) -> tuple[str, dict[str, int]]:
    """`quota_pick` for eligible reps given as users and their weights, in member order.

    Every step is a loop in C over the reps (routing calls it on every lead, for teams
    of 100 and more). The earliest deadline `(per_lead - credit) / gain` is compared as
    the exact integer `(per_lead - credit) * (L / weight)`, `L` the weights' least
    common multiple; `min` and `index` keep the earlier rep on ties."""
    if not users:
        raise ValueError("no candidates to choose from")
    per_lead = sum(weights) * _RESOLUTION
    updated = _in_units(credits, roster, per_lead)
    held = list(map(updated.get, users, repeat(0)))
    if min(weights) == max(weights):
        # Equal gains: the earliest deadline is the most credit, and if the richest rep
        # is not owed, nobody is.
        best = held.index(max(held))
        updated.update(zip(users, map(add, held, repeat(weights[0] * _RESOLUTION)), strict=False))
    else:
        gained = list(map(add, held, map(mul, weights, repeat(_RESOLUTION))))
        everyone = range(len(users))
        owed = list(compress(everyone, map(gt, gained, repeat(0)))) or everyone
        unit = map(floordiv, repeat(lcm(*weights)), weights)
        deadlines = list(map(mul, map(sub, repeat(per_lead), gained), unit))
        best = min(owed, key=deadlines.__getitem__)
        updated.update(zip(users, gained, strict=True))
    updated[users[best]] -= per_lead
    updated[PER_LEAD] = per_lead
    return users[best], updated


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
        kept = dict(credits)
        for gone in kept.keys() - roster:
            del kept[gone]
        return kept
    # Round half up: floor(value * per_lead / old + 1/2).
    return {
        user: (2 * value * per_lead + old) // (2 * old)
        for user, value in credits.items()
        if user in roster
    }


def least_loaded_pick(candidates: Sequence[Candidate]) -> str:
    """Fewest open leads; ties go to whoever has waited longest since their last lead
    (never assigned counts as longest), then to the earlier member."""
    open_leads = {candidate.user: candidate.open_leads for candidate in candidates}
    last = {c.user: c.last_assigned_at for c in candidates if c.last_assigned_at is not None}
    return least_loaded_choice([candidate.user for candidate in candidates], open_leads, last)


def least_loaded_choice(
    users: Sequence[str], open_leads: Mapping[str, int], last_assigned: Mapping[str, datetime]
) -> str:
    """`least_loaded_pick` for eligible reps given as users in member order, in loops
    that run in C."""
    if not users:
        raise ValueError("no candidates to choose from")
    held = list(map(open_leads.get, users, repeat(0)))
    tied = list(compress(users, map(eq, held, repeat(min(held)))))
    waited = list(map(last_assigned.get, tied))
    if None in waited:
        return tied[waited.index(None)]
    return tied[waited.index(min(waited))]
