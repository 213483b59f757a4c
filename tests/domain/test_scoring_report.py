"""The scoring report: conversion by grade and band, inversions, the MQL what-if."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.scoring_report import (
    GRADES,
    ScoredRow,
    band_of,
    build_scoring_report,
    by_band,
    by_grade,
    grade_better,
    inversions,
    mql_what_if,
    rep_mix,
)


def row(grade: str, score: int, qualified: bool = False, **extra: object) -> ScoredRow:
    values: dict = {
        "grade": grade,
        "score": score,
        "source": "web_form",
        "owner": "U0ALICE",
        "routed": True,
        "contacted": qualified,
        "qualified": qualified,
        "opportunity": False,
        "won": False,
    }
    values.update(extra)
    return ScoredRow(**values)


def test_bands_cover_0_to_100() -> None:
    assert [band_of(s) for s in (0, 19, 20, 79, 80, 99, 100)] == [
        "0-19",
        "0-19",
        "20-39",
        "60-79",
        "80-100",
        "80-100",
        "80-100",
    ]


def test_rates_are_over_leads_sales_worked() -> None:
    rows = [row("A1", 90, True), row("A1", 85), row("A1", 80, routed=False)]
    a1 = by_grade(rows)[0]
    assert (a1.key, a1.leads, a1.worked, a1.qualified) == ("A1", 3, 2, 1)
    assert a1.qualified_rate == 0.5
    assert by_grade([])[8].qualified_rate is None


def test_a_worse_grade_converting_better_is_flagged() -> None:
    rows = [row("A1", 90, q) for q in [True] * 2 + [False] * 18]
    rows += [row("B1", 60, q) for q in [True] * 15 + [False] * 5]
    rows += [row("A3", 50, True)]
    found = inversions(by_grade(rows), grade_better)
    assert [(i.better.key, i.worse.key) for i in found] == [("A1", "A3"), ("A1", "B1")]
    assert [i.significant for i in found] == [False, True]  # one A3 lead proves nothing
    assert not grade_better("A3", "B1") and not grade_better("B1", "A3")


def test_a_noisy_inversion_is_not_called_significant() -> None:
    rows = [row("A1", 90, True), row("A1", 90), row("B1", 60, True)]
    (found,) = inversions(by_grade(rows), grade_better)
    assert not found.significant


def test_the_what_if_replays_the_line() -> None:
    rows = [row("A1", 80, True), row("B2", 45, True), row("C3", 10, routed=False)]
    lines = {line.threshold: line for line in mql_what_if(rows, [40, 50])}
    assert (lines[50].let_through, lines[50].held_back, lines[50].qualified_held_back) == (1, 2, 1)
    assert (lines[40].let_through, lines[40].qualified_held_back) == (2, 0)


@given(st.lists(st.tuples(st.sampled_from(GRADES), st.integers(0, 100), st.booleans())))
def test_groupings_lose_no_lead(items: list[tuple[str, int, bool]]) -> None:
    rows = [row(grade, score, qualified) for grade, score, qualified in items]
    assert sum(line.leads for line in by_grade(rows)) == len(rows)
    assert sum(line.leads for line in by_band(rows)) == len(rows)
    for line in mql_what_if(rows, range(0, 101, 10)):
        assert line.let_through + line.held_back == len(rows)


def test_report_shares_a_leads_and_counts_nurture() -> None:
    rows = [
        row("A1", 90, owner="U0ALICE"),
        row("A2", 70, owner="U0ALICE"),
        row("B1", 60, owner="U0BOB"),
        row("C3", 5, owner=None, routed=False),
        row("B3", 20, owner="U0BOB", disqualified_reason="no budget", source="paid_ads"),
    ]
    report = build_scoring_report(rows, mql_at=50, reps=["U0ALICE", "U0BOB", "U0CAROL"])
    assert report.nurtured == 1 and report.leads == 5
    assert report.mix.letters["U0ALICE"] == {"A": 2, "B": 0, "C": 0}
    assert report.mix.letters["U0CAROL"] == {"A": 0, "B": 0, "C": 0}
    assert report.mix.a_gini is not None and report.mix.a_gini > 0.6
    assert [line.threshold for line in report.what_if] == [30, 40, 50, 60, 70]
    paid = next(s for s in report.sources if s.conversion.key == "paid_ads")
    assert paid.reasons == {"no budget": 1}
    assert rep_mix([]).a_gini is None
