"""The scoring model's part of the quarterly review: the scoring report's own findings
(domain.scoring_report), turned into review findings that open the Scoring model screen.

Two things make a finding. A grade or score band that qualifies more often than a better
one, by the report's one-sided Fisher test (`Inversion.significant`). And the MQL line's
replay at the report's other thresholds, when moving the line would have let through a
set that qualified more often than the leads above today's line, or held back a set that
qualified materially less often than the leads above the new line (the same Fisher test
on the replay's counts, over every lead the replay counts). Without a model, or with
fewer worked leads than the review's `min_leads`, there is nothing to say.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.config import Config
from domain.review_config import ReviewConfig
from domain.review_findings import Finding, Fix
from domain.scoring_report import (
    Conversion,
    Inversion,
    ScoredRow,
    WhatIf,
    build_scoring_report,
    inversions,
)

MATERIAL = 0.5
"""Raising the line is suggested only when the leads it would hold back qualified at most
this fraction as often as those above the new line: a model that works always has some
gradient, and that alone is no reason to page sales less."""
FIX = Fix("scoring")


def scoring_findings(
    config: Config, rows: Sequence[ScoredRow], settings: ReviewConfig
) -> list[Finding]:
    """Out-of-order grades and bands, then the MQL line's what-if; none without a model
    or with too few worked leads to judge."""
    if config.scoring is None or sum(row.routed for row in rows) < settings.min_leads:
        return []
    report = build_scoring_report(rows, config.scoring.mql_at)
    return [*_out_of_order(report.inversions), *_mql_line(report.what_if, report.mql_at)]


def _percent(line: Conversion) -> str:
    rate = line.qualified_rate
    return "-" if rate is None else f"{rate * 100:.0f}%"


def _out_of_order(found: Sequence[Inversion]) -> list[Finding]:
    """One finding per grade or band that beats a better one, against the better one it
    beats most surely (a B1 beating both A1 and A2 is one problem, not two)."""
    strongest: dict[str, Inversion] = {}
    for inversion in found:
        if not inversion.significant:
            continue
        known = strongest.get(inversion.worse.key)
        if known is None or inversion.p_value < known.p_value:
            strongest[inversion.worse.key] = inversion
    return [
        Finding(
            "scoring_out_of_order",
            worse,
            f"Scoring: {_kind(worse)} {worse} qualified {_percent(inv.worse)} of "
            f"{inv.worse.worked} worked leads against {_percent(inv.better)} of "
            f"{inv.better.worked} for {inv.better.key} ({_p(inv.p_value)}): the model "
            "ranks them out of order",
            FIX,
        )
        for worse, inv in strongest.items()
    ]


def _p(p_value: float) -> str:
    return "p<0.001" if p_value < 0.001 else f"p={p_value:.3f}"


def _kind(key: str) -> str:
    return "score band" if "-" in key else "grade"


def _replayed(key: str, leads: int, qualified: int) -> Conversion:
    """A set of the replay as a Conversion, every lead counted (as the replay counts)."""
    return Conversion(key, leads=leads, worked=leads, qualified=qualified)


def _mql_line(what_if: Sequence[WhatIf], mql_at: int) -> list[Finding]:
    """At most one finding for lowering the line and one for raising it: the threshold
    whose difference from today's line is the surest, the nearest of equally sure ones."""
    current = next(line for line in what_if if line.threshold == mql_at)
    lower: list[tuple[Inversion, WhatIf]] = []
    higher: list[tuple[Inversion, WhatIf]] = []
    for line in what_if:
        if line.threshold < mql_at:
            above = _replayed(f"{mql_at}+", current.let_through, current.qualified_let_through)
            extra = _replayed(
                f"{line.threshold}-{mql_at - 1}",
                line.let_through - current.let_through,
                line.qualified_let_through - current.qualified_let_through,
            )
            lower += [(inv, line) for inv in inversions([above, extra]) if inv.significant]
        elif line.threshold > mql_at:
            held = _replayed(
                f"{mql_at}-{line.threshold - 1}",
                current.let_through - line.let_through,
                current.qualified_let_through - line.qualified_let_through,
            )
            above = _replayed(f"{line.threshold}+", line.let_through, line.qualified_let_through)
            # `held` in the better place: the test asks whether `above` beats it.
            higher += [
                (inv, line)
                for inv in inversions([held, above])
                if inv.significant
                and (inv.better.qualified_rate or 0) <= MATERIAL * (inv.worse.qualified_rate or 0)
            ]
    findings = []
    if lower:
        inv, line = min(lower, key=lambda pair: (pair[0].p_value, abs(pair[1].threshold - mql_at)))
        findings.append(
            Finding(
                "scoring_mql_lower",
                f"mql_at {mql_at}",
                f"Scoring: an MQL line at {line.threshold} instead of {mql_at} would have "
                f"let through {inv.worse.leads} more leads, {_percent(inv.worse)} of which "
                f"qualified against {_percent(inv.better)} of the {inv.better.leads} above "
                f"today's line ({_p(inv.p_value)})",
                FIX,
            )
        )
    if higher:
        inv, line = min(higher, key=lambda pair: (pair[0].p_value, abs(pair[1].threshold - mql_at)))
        findings.append(
            Finding(
                "scoring_mql_higher",
                f"mql_at {mql_at}",
                f"Scoring: an MQL line at {line.threshold} instead of {mql_at} would have "
                f"held back {inv.better.leads} leads, {_percent(inv.better)} of which "
                f"qualified against {_percent(inv.worse)} of the {inv.worse.leads} above "
                f"{line.threshold} ({_p(inv.p_value)})",
                FIX,
            )
        )
    return findings
