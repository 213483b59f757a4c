"""The scoring model in the quarterly review: a planted grade inversion is found alone,
with the Scoring model screen as its fix; a better-converting set below the MQL line
is found; no model or too few worked leads say nothing."""

from __future__ import annotations

import copy
from typing import Any

from domain.config import validate_config
from domain.review import Fix, Review, ReviewData, build_review
from domain.review_text import review_lines
from domain.scoring_report import ScoredRow
from tests.domain.scoring_model import MODEL
from tests.domain.test_review import HEALTHY, healthy_data


def rows(grade: str, score: int, worked: int, qualified: int) -> list[ScoredRow]:
    return [
        ScoredRow(
            grade=grade,
            score=score,
            source="ads",
            owner="U0ANN",
            routed=True,
            contacted=True,
            qualified=index < qualified,
            opportunity=False,
            won=False,
        )
        for index in range(worked)
    ]


def review(scored: list[ScoredRow], scoring: bool = True) -> Review:
    config: dict[str, Any] = copy.deepcopy(HEALTHY)
    if scoring:
        config["scoring"] = MODEL
    return build_review(validate_config(config), ReviewData(**healthy_data(), scored=scored))


# A1 and B1 share a score band, so only the grades can be out of order.
INVERTED = rows("A1", 85, worked=30, qualified=6) + rows("B1", 85, worked=30, qualified=21)
IN_ORDER = rows("A1", 85, worked=30, qualified=21) + rows("B1", 85, worked=30, qualified=6)


def test_a_planted_grade_inversion_is_found_alone_and_opens_the_scoring_model() -> None:
    findings = review(INVERTED).findings
    assert [(f.kind, f.subject, f.fix) for f in findings] == [
        ("scoring_out_of_order", "B1", Fix("scoring"))
    ]
    assert findings[0].text.startswith("Scoring: grade B1 qualified 70% of 30 worked leads")
    assert "against 20% of 30 for A1" in findings[0].text
    assert any(line.endswith("[fix: Scoring model]") for line in review_lines(review(INVERTED)))


def test_grades_in_order_find_nothing() -> None:
    assert review(IN_ORDER).findings == []


def test_no_model_or_too_few_worked_leads_find_nothing() -> None:
    assert review(INVERTED, scoring=False).findings == []
    few = rows("A1", 85, worked=9, qualified=0) + rows("B1", 85, worked=10, qualified=10)
    assert review(few).findings == []  # 19 worked leads, under min_leads (20)


def test_leads_below_the_line_converting_better_suggest_lowering_it() -> None:
    # Demo requests routed below the line (always_route) qualify far more often.
    below = rows("A1", 45, worked=30, qualified=21)
    above = rows("A1", 85, worked=30, qualified=6)
    findings = review(below + above).findings
    assert {(f.kind, f.subject) for f in findings} == {
        ("scoring_out_of_order", "40-59"),  # the band the report flags too
        ("scoring_mql_lower", "mql_at 50"),
    }
    lower = next(f for f in findings if f.kind == "scoring_mql_lower")
    assert lower.text.startswith("Scoring: an MQL line at 40 instead of 50 would have let")
    assert "30 more leads, 70% of which qualified against 20% of the 30 above" in lower.text


def test_a_marginal_band_converting_far_worse_suggests_raising_the_line() -> None:
    marginal = rows("A1", 55, worked=40, qualified=2)
    top = rows("A1", 75, worked=40, qualified=24)
    findings = review(marginal + top).findings
    assert [(f.kind, f.fix) for f in findings] == [("scoring_mql_higher", Fix("scoring"))]
    assert "held back 40 leads, 5% of which qualified against 60% of the 40 above" in (
        findings[0].text
    )
