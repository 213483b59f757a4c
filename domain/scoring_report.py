"""Closing the loop from outcome back to the model: does a better grade convert better?

Pure functions over one row per scored lead (storage reads them): conversion by grade and
by score band, bands converting out of order, the MQL line replayed at other thresholds,
lead quality by source and the mix of grades per rep. Rates are over leads sales worked
(routed to a rep or a queue): a nurture lead nobody called says nothing about its grade.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from scipy.stats import fisher_exact

from domain.reports import rate
from domain.stats import gini

BAND_WIDTH = 20
SIGNIFICANT = 0.05
"""An inversion is called significant below this one-sided Fisher exact p-value."""
GRADES = tuple(f"{letter}{heat}" for letter in "ABC" for heat in "123")


@dataclass(frozen=True)
class ScoredRow:
    """One scored lead and how far it got."""

    grade: str
    score: int
    source: str | None
    owner: str | None
    routed: bool
    contacted: bool
    qualified: bool
    """Reached qualified or any later stage but disqualified."""
    opportunity: bool
    won: bool
    disqualified_reason: str | None = None


@dataclass(frozen=True)
class Conversion:
    """One grade, band or source: how many sales worked and how far they got."""

    key: str
    leads: int = 0
    worked: int = 0
    contacted: int = 0
    qualified: int = 0
    opportunities: int = 0
    won: int = 0

    @property
    def contact_rate(self) -> float | None:
        return rate(self.contacted, self.worked)

    @property
    def qualified_rate(self) -> float | None:
        return rate(self.qualified, self.worked)

    @property
    def opportunity_rate(self) -> float | None:
        return rate(self.opportunities, self.worked)

    @property
    def won_rate(self) -> float | None:
        return rate(self.won, self.worked)


def conversion(key: str, rows: Iterable[ScoredRow]) -> Conversion:
    leads = worked = contacted = qualified = opportunities = won = 0
    for row in rows:
        leads += 1
        if row.routed:
            worked += 1
            contacted += row.contacted
            qualified += row.qualified
            opportunities += row.opportunity
            won += row.won
    return Conversion(key, leads, worked, contacted, qualified, opportunities, won)


def _grouped(
    rows: Iterable[ScoredRow], key: Callable[[ScoredRow], str]
) -> dict[str, list[ScoredRow]]:
    groups: dict[str, list[ScoredRow]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def band_of(score: int, width: int = BAND_WIDTH) -> str:
    """`80-100`, `60-79`, ... `0-19`: the top band takes the maximum."""
    low = min(score // width * width, 100 - width)
    high = 100 if low == 100 - width else low + width - 1
    return f"{low}-{high}"


def by_grade(rows: Sequence[ScoredRow]) -> list[Conversion]:
    """Every grade from A1 to C3, best first, including the empty ones."""
    groups = _grouped(rows, lambda row: row.grade)
    return [conversion(grade, groups.get(grade, [])) for grade in GRADES]


def by_band(rows: Sequence[ScoredRow], width: int = BAND_WIDTH) -> list[Conversion]:
    """Score bands, best first, including the empty ones."""
    groups = _grouped(rows, lambda row: band_of(row.score, width))
    bands = [band_of(low, width) for low in range(100 - width, -1, -width)]
    return [conversion(band, groups.get(band, [])) for band in bands]


def grade_better(first: str, second: str) -> bool:
    """A1 beats A2 and B1, but A3 and B1 do not compare: each is better on one axis."""
    return first != second and first[0] <= second[0] and first[1] <= second[1]


@dataclass(frozen=True)
class Inversion:
    """A worse grade or band that qualifies more often than a better one."""

    better: Conversion
    worse: Conversion
    p_value: float
    """One-sided Fisher exact: could chance alone make the worse one look this good?"""

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANT


def inversions(
    lines: Sequence[Conversion], better: Callable[[str, str], bool] | None = None
) -> list[Inversion]:
    """Pairs converting out of order (by qualified rate). `lines` are best first; without
    `better` that order is total (bands), with it a partial order (grades)."""
    found = []
    for index, high in enumerate(lines):
        for low in lines[index + 1 :]:
            if better is not None and not better(high.key, low.key):
                continue
            high_rate, low_rate = high.qualified_rate, low.qualified_rate
            if high_rate is None or low_rate is None or low_rate <= high_rate:
                continue
            table = [
                [low.qualified, low.worked - low.qualified],
                [high.qualified, high.worked - high.qualified],
            ]
            _, p_value = fisher_exact(table, alternative="greater")
            found.append(Inversion(high, low, float(p_value)))
    return found


@dataclass(frozen=True)
class WhatIf:
    """The MQL line at `threshold`, replayed on the period's leads."""

    threshold: int
    let_through: int
    held_back: int
    qualified_let_through: int
    qualified_held_back: int
    """Leads this line would have nurtured that sales did qualify: what it would cost."""
    won_held_back: int


def mql_what_if(rows: Sequence[ScoredRow], thresholds: Iterable[int]) -> list[WhatIf]:
    lines = []
    for threshold in sorted(set(thresholds)):
        through = [row for row in rows if row.score >= threshold]
        held = [row for row in rows if row.score < threshold]
        lines.append(
            WhatIf(
                threshold,
                len(through),
                len(held),
                sum(row.qualified for row in through),
                sum(row.qualified for row in held),
                sum(row.won for row in held),
            )
        )
    return lines


def what_if_thresholds(current: int, step: int = 10) -> list[int]:
    """The current line and two steps either side, inside 0-100."""
    return sorted({min(max(current + step * k, 0), 100) for k in range(-2, 3)})


@dataclass(frozen=True)
class SourceQuality:
    """Lead quality by source: the "your leads are bad" argument settled with data."""

    conversion: Conversion
    disqualified: int
    reasons: dict[str, int]


def by_source(rows: Sequence[ScoredRow]) -> list[SourceQuality]:
    """Sources by number of leads, each with its disqualification reasons, most first."""
    groups = _grouped(rows, lambda row: row.source or "(none)")
    lines = []
    for source, members in groups.items():
        reasons = Counter(row.disqualified_reason for row in members if row.disqualified_reason)
        lines.append(
            SourceQuality(
                conversion(source, members), sum(reasons.values()), dict(reasons.most_common())
            )
        )
    return sorted(lines, key=lambda line: (-line.conversion.leads, line.conversion.key))


@dataclass(frozen=True)
class RepMix:
    """How many leads of each fit letter each rep got, and how evenly A-leads went."""

    letters: dict[str, dict[str, int]]
    a_gini: float | None
    """Gini of A-grade leads per rep (team members with none count); None without A-leads."""


def rep_mix(rows: Sequence[ScoredRow], reps: Iterable[str] = ()) -> RepMix:
    letters: dict[str, dict[str, int]] = {rep: {"A": 0, "B": 0, "C": 0} for rep in reps}
    for row in rows:
        if row.owner is not None:
            mix = letters.setdefault(row.owner, {"A": 0, "B": 0, "C": 0})
            mix[row.grade[0]] += 1
    a_counts = [mix["A"] for mix in letters.values()]
    return RepMix(letters, gini(a_counts) if sum(a_counts) else None)


@dataclass(frozen=True)
class ScoringReport:
    leads: int
    nurtured: int
    grades: list[Conversion]
    bands: list[Conversion]
    inversions: list[Inversion]
    what_if: list[WhatIf]
    mql_at: int
    sources: list[SourceQuality]
    mix: RepMix


def build_scoring_report(
    rows: Sequence[ScoredRow], mql_at: int, reps: Iterable[str] = ()
) -> ScoringReport:
    """Everything `leadrouter scoring report` prints, from the period's scored leads."""
    grades = by_grade(rows)
    bands = by_band(rows)
    return ScoringReport(
        leads=len(rows),
        nurtured=sum(not row.routed for row in rows),
        grades=grades,
        bands=bands,
        inversions=inversions(grades, grade_better) + inversions(bands),
        what_if=mql_what_if(rows, what_if_thresholds(mql_at)),
        mql_at=mql_at,
        sources=by_source(rows),
        mix=rep_mix(rows, reps),
    )
