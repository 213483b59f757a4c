"""Fairness and speed figures: Gini of leads per rep, percentiles, share against weight.

Used by `leadrouter simulate` and `/leadstats`, so a dry run and the live numbers are
computed the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def gini(counts: Sequence[float]) -> float:
    """0 when every rep got the same, towards 1 when one rep got everything.

    Reps who got nothing count (pass them as 0): leaving them out hides the unfairness.
    """
    values = sorted(counts)
    if any(value < 0 for value in values):
        raise ValueError("counts cannot be negative")
    total = sum(values)
    size = len(values)
    if size == 0 or total == 0:
        return 0.0
    ranked = sum(rank * value for rank, value in enumerate(values, start=1))
    return (2 * ranked) / (size * total) - (size + 1) / size


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks, or
    None for no values (a dashboard shows "no data", not a zero)."""
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Share:
    """One rep's part of a team's leads, against the part their weight asks for."""

    user: str
    count: int
    weight: int
    share: float
    weight_share: float
    expected: float
    """Leads the weight alone would give out of the same total."""


def shares(counts: Mapping[str, int], weights: Mapping[str, int]) -> list[Share]:
    """Each weighted rep's share of the leads and of the weight, in `weights` order; a rep
    missing from `counts` got none."""
    total_leads = sum(counts.get(user, 0) for user in weights)
    total_weight = sum(weights.values())
    return [
        Share(
            user=user,
            count=counts.get(user, 0),
            weight=weight,
            share=counts.get(user, 0) / total_leads if total_leads else 0.0,
            weight_share=weight / total_weight if total_weight else 0.0,
            expected=total_leads * weight / total_weight if total_weight else 0.0,
        )
        for user, weight in weights.items()
    ]
