"""The review as plain text lines (the CLI prints them; Slack and the quarterly DM show
them), and as JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from domain.review import Review, RuleLine

FIX_LABELS = {
    "rules": "Routing rules",
    "rule": "Edit rule",
    "team": "Edit team",
    "rep": "Edit rep",
    "pto": "Time off",
    "scoring": "Scoring model",
    "import": "Import configuration",
}
"""What each finding's fix is called in the admin menu."""


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _row(line: RuleLine) -> list[str]:
    return [
        line.rule,
        str(line.leads),
        _percent(line.share),
        _percent(line.sla_rate),
        _percent(line.conversion),
    ]


def review_lines(review: Review) -> list[str]:
    days = (review.end - review.start).days
    lines = [
        f"Routing review of the last {days} days "
        f"({review.start:%Y-%m-%d} to {review.end:%Y-%m-%d}): {review.leads} leads, "
        f"{len(review.findings)} finding{'s' if len(review.findings) != 1 else ''}",
        "",
    ]
    header = ["rule", "leads", "share", "in SLA", "to opportunity"]
    rows = [_row(line) for line in review.rules] + [_row(review.average)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    if review.gini_trend:
        trend = " → ".join(f"{value:.2f}" for _, value in review.gini_trend)
        lines += ["", f"Gini of leads per rep over the period: {trend}"]
    lines.append("")
    if not review.findings:
        lines.append("Nothing to fix: every rule matched leads and no rep or team stood out.")
    for number, finding in enumerate(review.findings, start=1):
        fix = FIX_LABELS[finding.fix.modal]
        target = f" {finding.fix.key}" if finding.fix.key else ""
        lines.append(f"{number}. {finding.text}  [fix: {fix}{target}]")
    return lines


def review_document(review: Review) -> dict[str, Any]:
    return {
        "start": review.start.isoformat(),
        "end": review.end.isoformat(),
        "leads": review.leads,
        "rules": [asdict(line) for line in review.rules],
        "average": asdict(review.average),
        "gini_trend": [[at.isoformat(), value] for at, value in review.gini_trend],
        "findings": [asdict(finding) for finding in review.findings],
    }
