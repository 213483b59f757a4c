"""JSON shapes of scoring: the lead's grade and reasons, the stats' scoring section.
Rates run from 0 to 1 (null: no data), like the rest of `/api/stats`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from domain.records import LeadRecord
from domain.scoring_report import Conversion, ScoringReport


def lead_scoring_json(lead: LeadRecord) -> dict[str, Any]:
    """`fit_score`, `engagement_score`, `grade`, `mql`, `score_reasons` (CONTRACT.md);
    all null when nothing scored the lead."""
    scoring = lead.scoring
    if scoring is None:
        return dict.fromkeys(("fit_score", "engagement_score", "grade", "mql", "score_reasons"))
    return {
        "fit_score": scoring.fit,
        "engagement_score": scoring.engagement,
        "model_score": scoring.score,
        "grade": scoring.grade,
        "mql": scoring.mql,
        "score_decided_by": scoring.decided_by,
        "score_reasons": [{"points": r.points, "reason": r.reason} for r in scoring.reasons],
    }


def _conversion(line: Conversion) -> dict[str, Any]:
    return {
        **asdict(line),
        "contact_rate": line.contact_rate,
        "qualified_rate": line.qualified_rate,
        "opportunity_rate": line.opportunity_rate,
        "won_rate": line.won_rate,
    }


def scoring_report_json(report: ScoringReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "leads": report.leads,
        "nurtured": report.nurtured,
        "mql_at": report.mql_at,
        "grades": [_conversion(line) for line in report.grades],
        "bands": [_conversion(line) for line in report.bands],
        "out_of_order": [
            {
                "better": inversion.better.key,
                "worse": inversion.worse.key,
                "p_value": inversion.p_value,
                "significant": inversion.significant,
            }
            for inversion in report.inversions
        ],
        "mql_what_if": [asdict(line) for line in report.what_if],
        "sources": [
            {
                **_conversion(line.conversion),
                "disqualified": line.disqualified,
                "disqualify_reasons": line.reasons,
            }
            for line in report.sources
        ],
        "reps": {
            "grades": report.mix.letters,
            "a_grade_gini": report.mix.a_gini,
        },
    }
