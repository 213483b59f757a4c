"""An experiment report as JSON (`/api/stats?experiment=`, the snapshot a promotion links
to) and as plain text lines (the CLI prints them, Slack shows them in a code block), so
every surface shows the same figures the same way."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from domain.experiment_config import METRIC_LABELS, RATE_METRICS
from domain.experiment_report import ArmFigures, ExperimentReport, minutes, p_text
from domain.experiment_stats import Difference, Estimate


def to_document(report: ExperimentReport) -> dict[str, Any]:
    """JSON-ready: rates as fractions, times in seconds, differences in points/seconds."""
    experiment = report.experiment
    return {
        "experiment": experiment.name,
        "state": experiment.state,
        "segment": experiment.segment or {},
        "metric": experiment.metric,
        "min_effect": experiment.min_effect,
        "planned_end": experiment.end.isoformat(),
        "confidence": report.confidence,
        "arms": [_arm(figures) for figures in report.arms],
        "comparisons": {
            arm: {c.metric: asdict(c.difference) for c in comparisons}
            for arm, comparisons in report.comparisons.items()
        },
        "verdicts": [asdict(verdict) for verdict in report.verdicts],
        "guardrail_breaches": [
            {"arm": b.arm, "metric": b.guardrail.metric, "text": b.text} for b in report.breaches
        ],
    }


def _arm(figures: ArmFigures) -> dict[str, Any]:
    return {
        "arm": figures.arm,
        "control": figures.control,
        "leads": figures.leads,
        "response_median_seconds": asdict(figures.response_median),
        "response_p90_seconds": asdict(figures.response_p90),
        "rates": {metric: asdict(figures.rates[metric]) for metric in RATE_METRICS},
        "gini": asdict(figures.gini),
    }


def _rate(estimate: Estimate) -> str:
    if estimate.value is None:
        return "no data"
    if estimate.low is None or estimate.high is None:
        return f"{estimate.value * 100:.1f}%"
    return f"{estimate.value * 100:.1f}% ({estimate.low * 100:.1f}–{estimate.high * 100:.1f})"


def _time(estimate: Estimate) -> str:
    if estimate.value is None:
        return "no data"
    shown = minutes(estimate.value)
    if estimate.low is None or estimate.high is None:
        return shown
    return f"{shown} ({estimate.low / 60:.1f}–{estimate.high / 60:.1f})"


def _index(estimate: Estimate) -> str:
    if estimate.value is None:
        return "no data"
    if estimate.low is None or estimate.high is None:
        return f"{estimate.value:.2f}"
    return f"{estimate.value:.2f} ({estimate.low:.2f}–{estimate.high:.2f})"


def _difference(metric: str, found: Difference) -> str:
    if found.value is None:
        return "no data"
    if metric == "median_response_time":
        text = minutes(found.value, signed=True)
        span = (
            ""
            if found.low is None or found.high is None
            else f" ({found.low / 60:+.1f}..{found.high / 60:+.1f})"
        )
    elif metric == "gini":
        text = f"{found.value:+.2f}"
        span = (
            ""
            if found.low is None or found.high is None
            else f" ({found.low:+.2f}..{found.high:+.2f})"
        )
    else:
        text = f"{found.value:+.1f} pts"
        span = (
            ""
            if found.low is None or found.high is None
            else f" ({found.low:+.1f}..{found.high:+.1f})"
        )
    p_value = "" if found.p_value is None else f", {p_text(found.p_value)}"
    return f"{text}{span}{p_value}"


def summary_lines(report: ExperimentReport) -> list[str]:
    """The report as aligned text: per-arm figures, then each arm against control, the
    verdicts and any guardrail breach."""
    experiment = report.experiment
    level = f"{report.confidence * 100:g}%"
    lines = [
        f"Experiment {experiment.name} ({experiment.state}, planned end "
        f"{experiment.end.isoformat()}): primary metric {METRIC_LABELS[experiment.metric]}",
        f"Figures with {level} confidence intervals in brackets.",
        "",
    ]
    rows = [
        ("leads", lambda f: str(f.leads)),
        ("median response", lambda f: _time(f.response_median)),
        ("p90 response", lambda f: _time(f.response_p90)),
        *(
            (METRIC_LABELS[metric], lambda f, m=metric: _rate(f.rates[m]))
            for metric in RATE_METRICS
        ),
        ("Gini of leads per rep", lambda f: _index(f.gini)),
    ]
    lines += _table(
        ["", *(f"{f.arm}{' (control)' if f.control else ''}" for f in report.arms)],
        [[label, *(show(f) for f in report.arms)] for label, show in rows],
    )
    for arm, comparisons in report.comparisons.items():
        lines += ["", f"{arm} against control ({level} interval, p-value):"]
        lines += _table(
            ["", "difference"],
            [
                [
                    METRIC_LABELS.get(c.metric, "Gini of leads per rep"),
                    _difference(c.metric, c.difference),
                ]
                for c in comparisons
            ],
        )
    lines += ["", *(f"Verdict: {verdict.text}" for verdict in report.verdicts)]
    lines += [breach.text for breach in report.breaches]
    return lines


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
