"""The weekly leaderboard of a pull or pool team: reps ranked by speed to contact and
outcomes, never by how many leads they grabbed (that would reward cherry-picking)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from domain.durations import humanize
from domain.reports import Line


@dataclass(frozen=True)
class RepWeek:
    """One rep's week: leads they held, how fast they reached them, what came of it."""

    user: str
    leads: int
    contacted: int
    within_sla: int
    median_response_seconds: float | None
    won: int
    opportunities: int
    offers_missed: int = 0
    """Push offers declined or left to time out (shown, never ranked by)."""

    @classmethod
    def of(cls, line: Line) -> RepWeek:
        """From a rep's line of the team's weekly report."""
        tally = line.tally
        return cls(
            line.key,
            tally.leads,
            tally.contacted,
            tally.sla_met,
            line.response.median,
            tally.won,
            tally.opportunities,
            line.offers_missed,
        )

    @property
    def within_sla_share(self) -> float:
        return self.within_sla / self.leads if self.leads else 0.0

    @property
    def outcome_share(self) -> float:
        return (self.won + self.opportunities) / self.leads if self.leads else 0.0


def rank(weeks: Iterable[RepWeek]) -> list[RepWeek]:
    """Share contacted within SLA first, then the faster median response, then the share
    of leads that became opportunities or wins; the number of leads never counts (ties
    keep user order, so the result is stable)."""
    held = [week for week in weeks if week.leads]

    def key(week: RepWeek) -> tuple[float, float, float, str]:
        median = week.median_response_seconds
        return (
            -week.within_sla_share,
            median if median is not None else float("inf"),
            -week.outcome_share,
            week.user,
        )

    return sorted(held, key=key)


def leaderboard_lines(weeks: Iterable[RepWeek]) -> list[str]:
    """`1. U0ALICE — 92% within SLA · median 3m 10s · 3 won or opportunity · 12 leads`:
    bare ids, which the view turns into mentions."""
    lines = []
    for place, week in enumerate(rank(weeks), start=1):
        median = week.median_response_seconds
        speed = (
            "not contacted yet"
            if median is None
            else f"median {humanize(timedelta(seconds=median))}"
        )
        missed = f" · {week.offers_missed} offers missed" if week.offers_missed else ""
        lines.append(
            f"{place}. {week.user} — {week.within_sla_share:.0%} within SLA · {speed} · "
            f"{week.won + week.opportunities} won or opportunity · {week.leads} leads{missed}"
        )
    return lines
