"""An experiment's report: per arm figures with 95% intervals, each arm against control,
a plain verdict on the primary metric, and guardrail breaches.

Storage hands over one row per lead in the experiment (`ExperimentLead`, built with
`experiment_lead` from the stored timestamps); everything else is computed here, with
the statistics of domain.experiment_stats. With more than two arms each comparison is
made at a Bonferroni-corrected level (0.05 split over the comparisons), and its
intervals are widened to match, so a three-arm test is not twice as likely to cry wolf.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import stdev

from domain.experiment_config import METRIC_LABELS, RATE_METRICS, ExperimentConfig, Guardrail
from domain.experiment_stats import (
    Difference,
    Estimate,
    difference_in_gini,
    difference_in_means,
    difference_in_medians,
    gini_estimate,
    leads_per_arm_for_means,
    leads_per_arm_for_rates,
    proportion,
    quantile,
)

FAMILY_ALPHA = 0.05
POWER = 0.8
MIN_FOR_GUARDRAIL = 30
"""Leads an arm needs (in the guardrail's metric) before a breach can be called."""
_REACHED_AFTER_CONTACT = ("qualified", "disqualified", "opportunity", "won", "lost")


@dataclass(frozen=True)
class ExperimentLead:
    """One lead of the experiment, reduced to what the report counts."""

    arm: str
    owner: str | None
    contacted: bool
    response_seconds: float | None
    sla_met: bool | None
    """None until known: not contacted and not yet due."""
    qualified: bool
    opportunity: bool
    won: bool

    def outcome(self, metric: str) -> float | None:
        """The lead's 0/1 value for a rate metric, or its response time; None: not counted."""
        if metric == "median_response_time":
            return self.response_seconds
        if metric == "contacted_within_sla":
            return None if self.sla_met is None else float(self.sla_met)
        flag = {
            "lead_to_contacted": self.contacted,
            "lead_to_qualified": self.qualified,
            "lead_to_opportunity": self.opportunity,
            "won": self.won,
        }[metric]
        return float(flag)


def experiment_lead(
    *,
    arm: str,
    owner: str | None,
    status: str,
    created_at: datetime,
    sla_due_at: datetime | None,
    contacted_at: datetime | None,
    qualified_at: datetime | None,
    opportunity_at: datetime | None,
    now: datetime,
) -> ExperimentLead:
    """From stored lead columns. A CRM may report a later stage directly (a won lead was
    evidently an opportunity, an opportunity was qualified), so stages count upwards."""
    won = status == "won"
    opportunity = won or opportunity_at is not None or status in ("opportunity", "lost")
    qualified = opportunity or qualified_at is not None or status == "qualified"
    contacted = contacted_at is not None or status in ("contacted", *_REACHED_AFTER_CONTACT)
    response = (contacted_at - created_at).total_seconds() if contacted_at else None
    if sla_due_at is None:
        sla_met = None
    elif contacted_at is not None:
        sla_met = contacted_at <= sla_due_at
    else:
        sla_met = False if now > sla_due_at else None
    return ExperimentLead(arm, owner, contacted, response, sla_met, qualified, opportunity, won)


@dataclass(frozen=True)
class ArmFigures:
    arm: str
    control: bool
    leads: int
    response_median: Estimate
    response_p90: Estimate
    rates: dict[str, Estimate]
    """Keyed by RATE_METRICS."""
    gini: Estimate


@dataclass(frozen=True)
class Comparison:
    """One metric of one arm against control: points for rates, seconds for times, an
    index for the Gini."""

    metric: str
    difference: Difference


@dataclass(frozen=True)
class Verdict:
    arm: str
    outcome: str
    """`better`, `worse`, `no_difference_yet`, `no_difference` or `no_data`."""
    text: str
    more_leads_needed: int | None = None


@dataclass(frozen=True)
class Breach:
    arm: str
    guardrail: Guardrail
    difference: Difference
    text: str


@dataclass(frozen=True)
class ExperimentReport:
    experiment: ExperimentConfig
    confidence: float
    arms: list[ArmFigures]
    comparisons: dict[str, list[Comparison]]
    verdicts: list[Verdict]
    breaches: list[Breach]


def build_experiment_report(
    experiment: ExperimentConfig, leads: Sequence[ExperimentLead]
) -> ExperimentReport:
    """Everything `/leadstats experiment`, the CLI and `/api/stats` show."""
    by_arm = {arm.name: [lead for lead in leads if lead.arm == arm.name] for arm in experiment.arms}
    roster = sorted({lead.owner for lead in leads if lead.owner is not None})
    comparisons_made = len(experiment.arms) - 1
    alpha = FAMILY_ALPHA / comparisons_made
    confidence = 1 - alpha
    control = experiment.control.name
    arms = [
        _figures(arm.name, arm.name == control, by_arm[arm.name], roster, confidence)
        for arm in experiment.arms
    ]
    comparisons: dict[str, list[Comparison]] = {}
    verdicts: list[Verdict] = []
    breaches: list[Breach] = []
    for arm in experiment.arms[1:]:
        treated, baseline = by_arm[arm.name], by_arm[control]
        comparisons[arm.name] = [
            Comparison(metric, _difference(metric, treated, baseline, confidence))
            for metric in (*RATE_METRICS, "median_response_time")
        ] + [
            Comparison(
                "gini",
                difference_in_gini(_owners(treated), _owners(baseline), roster, confidence),
            )
        ]
        found = {c.metric: c.difference for c in comparisons[arm.name]}
        verdicts.append(
            _verdict(experiment, arm.name, found[experiment.metric], treated, baseline, alpha)
        )
        breaches.extend(_breaches(experiment.guardrails, arm.name, found, treated, baseline, alpha))
    return ExperimentReport(experiment, confidence, arms, comparisons, verdicts, breaches)


def _owners(leads: Sequence[ExperimentLead]) -> list[str]:
    return [lead.owner for lead in leads if lead.owner is not None]


def _values(leads: Sequence[ExperimentLead], metric: str) -> list[float]:
    return [value for lead in leads if (value := lead.outcome(metric)) is not None]


def _figures(
    arm: str,
    control: bool,
    leads: Sequence[ExperimentLead],
    roster: Sequence[str],
    confidence: float,
) -> ArmFigures:
    times = _values(leads, "median_response_time")
    rates = {}
    for metric in RATE_METRICS:
        values = _values(leads, metric)
        rates[metric] = proportion(int(sum(values)), len(values), confidence)
    return ArmFigures(
        arm=arm,
        control=control,
        leads=len(leads),
        response_median=quantile(times, 50, confidence),
        response_p90=quantile(times, 90, confidence),
        rates=rates,
        gini=gini_estimate(_owners(leads), roster, confidence),
    )


def _difference(
    metric: str,
    treated: Sequence[ExperimentLead],
    baseline: Sequence[ExperimentLead],
    confidence: float,
) -> Difference:
    a, b = _values(treated, metric), _values(baseline, metric)
    if metric == "median_response_time":
        return difference_in_medians(a, b, confidence)
    found = difference_in_means(a, b, confidence)
    points = [None if v is None else v * 100 for v in (found.value, found.low, found.high)]
    return Difference(*points, p_value=found.p_value)


def _better(metric: str, value: float) -> bool:
    """Higher rates are better; a shorter response time is better."""
    return value < 0 if metric == "median_response_time" else value > 0


def _amount(metric: str, value: float | None, signed: bool = True) -> str:
    if value is None:
        return "?"
    if metric == "median_response_time":
        return minutes(value, signed)
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def p_text(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def minutes(seconds: float, signed: bool = False) -> str:
    """`+3.5 min`: response-time differences read best in minutes."""
    text = f"{seconds / 60:+.1f}" if signed else f"{seconds / 60:.1f}"
    return f"{text} min"


def verdicts(experiment: ExperimentConfig, leads: Sequence[ExperimentLead]) -> list[Verdict]:
    """The verdict on the primary metric alone, for each arm against control: what the
    report says, without computing its other figures."""
    alpha = FAMILY_ALPHA / (len(experiment.arms) - 1)
    control = [lead for lead in leads if lead.arm == experiment.control.name]
    found = []
    for arm in experiment.arms[1:]:
        treated = [lead for lead in leads if lead.arm == arm.name]
        difference = _difference(experiment.metric, treated, control, 1 - alpha)
        found.append(_verdict(experiment, arm.name, difference, treated, control, alpha))
    return found


def guardrail_breaches(
    experiment: ExperimentConfig, leads: Sequence[ExperimentLead]
) -> list[Breach]:
    """The report's breaches alone, computing only the guardrails' metrics: what the
    watch that alerts the admins runs every few minutes."""
    if not experiment.guardrails:
        return []
    alpha = FAMILY_ALPHA / (len(experiment.arms) - 1)
    control = [lead for lead in leads if lead.arm == experiment.control.name]
    breaches: list[Breach] = []
    for arm in experiment.arms[1:]:
        treated = [lead for lead in leads if lead.arm == arm.name]
        found = {
            guardrail.metric: _difference(guardrail.metric, treated, control, 1 - alpha)
            for guardrail in experiment.guardrails
        }
        breaches += _breaches(experiment.guardrails, arm.name, found, treated, control, alpha)
    return breaches


def _verdict(
    experiment: ExperimentConfig,
    arm: str,
    difference: Difference,
    treated: Sequence[ExperimentLead],
    baseline: Sequence[ExperimentLead],
    alpha: float,
) -> Verdict:
    metric = experiment.metric
    label = METRIC_LABELS[metric]
    level = f"{(1 - alpha) * 100:g}% CI"
    a, b = _values(treated, metric), _values(baseline, metric)
    if len(a) < 2 or len(b) < 2:
        return Verdict(arm, "no_data", f"{arm}: not enough leads with a known {label} yet")
    if metric in RATE_METRICS and not any(a) and not any(b):
        return Verdict(arm, "no_data", f"{arm}: no lead in either arm has reached {label} yet")
    if (
        difference.value is not None
        and difference.p_value is not None
        and difference.p_value < alpha
    ):
        better = _better(metric, difference.value)
        unit = "" if metric == "median_response_time" else " points"
        span = f"{_amount(metric, difference.low)}..{_amount(metric, difference.high)}"
        word = "better" if better else "worse"
        return Verdict(
            arm,
            word,
            f"{arm} is {word} on {label}, {level} {span}{unit} ({p_text(difference.p_value)})",
        )
    needed = _needed(experiment, a, b, alpha)
    effect = (
        f"a {experiment.min_effect:g}-minute effect"
        if metric == "median_response_time"
        else f"a {experiment.min_effect:g}-point effect"
    )
    more = needed - min(len(a), len(b))
    if more > 0:
        rounded = _round_up(more)
        return Verdict(
            arm,
            "no_difference_yet",
            f"{arm}: no difference yet: about {rounded:,} more leads per arm needed for {effect}",
            rounded,
        )
    return Verdict(
        arm,
        "no_difference",
        f"{arm}: no difference on {label} ({min(len(a), len(b)):,} leads per arm "
        f"were enough to find {effect})",
        0,
    )


def _needed(
    experiment: ExperimentConfig, a: Sequence[float], b: Sequence[float], alpha: float
) -> int:
    if experiment.metric == "median_response_time":
        spread = stdev([*a, *b])
        return leads_per_arm_for_means(spread, experiment.min_effect * 60, alpha, POWER)
    baseline = sum(b) / len(b) if b else None
    return leads_per_arm_for_rates(baseline, experiment.min_effect / 100, alpha, POWER)


def _round_up(count: int) -> int:
    """Two significant figures, upwards: "about 340 more", not "about 337 more"."""
    step = 10 ** max(len(str(count)) - 2, 0)
    return -(-count // step) * step


def _breaches(
    guardrails: Sequence[Guardrail],
    arm: str,
    found: dict[str, Difference],
    treated: Sequence[ExperimentLead],
    baseline: Sequence[ExperimentLead],
    alpha: float,
) -> list[Breach]:
    """A guardrail is breached when the arm is worse than control by more than its
    margin and the difference is significant: noise in the first leads alerts nobody."""
    breaches = []
    for guardrail in guardrails:
        metric = guardrail.metric
        difference = found[metric]
        sizes = (len(_values(treated, metric)), len(_values(baseline, metric)))
        if difference.value is None or difference.p_value is None or min(sizes) < MIN_FOR_GUARDRAIL:
            continue
        worse_by = difference.value if metric == "median_response_time" else -difference.value
        if worse_by > guardrail.margin and difference.p_value < alpha:
            label = METRIC_LABELS[metric]
            limit = (
                minutes(guardrail.margin)
                if metric == "median_response_time"
                else f"{guardrail.margin:g} points"
            )
            shown = _amount(metric, worse_by, signed=False)
            unit = "" if metric == "median_response_time" else " points"
            text = (
                f"Guardrail breached: {arm} is {shown}{unit} worse than control on {label} "
                f"(limit {limit}, {p_text(difference.p_value)})"
            )
            breaches.append(Breach(arm, guardrail, difference, text))
    return breaches
