"""The experiment report: intervals against known values, verdicts at the sample size the
power calculation predicts, A/A runs, guardrails."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from scipy import stats

from domain.experiment_config import ExperimentConfig
from domain.experiment_document import summary_lines, to_document
from domain.experiment_report import (
    ExperimentLead,
    build_experiment_report,
    experiment_lead,
    guardrail_breaches,
    verdicts,
)
from domain.experiment_stats import (
    difference_in_means,
    gini_estimate,
    leads_per_arm_for_rates,
    proportion,
    quantile,
)

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def experiment(**extra: object) -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {"name": "t", "arms": [{"name": "A"}, {"name": "B"}], "end": "2027-01-01", **extra}
    )


def converting(arm: str, converted: bool, owner: str | None = None) -> ExperimentLead:
    return ExperimentLead(arm, owner, True, None, None, converted, converted, False)


def simulated(seed: int, per_arm: int, rate_a: float, rate_b: float) -> list[ExperimentLead]:
    rng = random.Random(seed)
    return [
        converting(arm, rng.random() < rate)
        for arm, rate in (("A", rate_a), ("B", rate_b))
        for _ in range(per_arm)
    ]


def test_wilson_interval_matches_the_published_value() -> None:
    # 20 of 100: Wilson 95% interval 0.1334..0.2888 (Newcombe 1998, Stat Med 17:857).
    estimate = proportion(20, 100)
    assert (estimate.low, estimate.high) == pytest.approx((0.1334, 0.2888), abs=1e-4)
    assert proportion(0, 0).value is None


def test_median_interval_is_the_order_statistic_interval() -> None:
    # n = 10: the distribution-free 95% interval of the median is (x(2), x(9)).
    median = quantile([float(x) for x in range(1, 11)], 50)
    assert (median.value, median.low, median.high) == (5.5, 2.0, 9.0)


def test_welch_difference_matches_the_textbook_interval() -> None:
    a, b = [1.0] * 30 + [0.0] * 70, [1.0] * 20 + [0.0] * 80
    found = difference_in_means(a, b)
    standard_error = (0.3 * 0.7 / 99 + 0.2 * 0.8 / 99) ** 0.5
    degrees = (0.3 * 0.7 / 99 + 0.2 * 0.8 / 99) ** 2 / (
        (0.3 * 0.7 / 99) ** 2 / 99 + (0.2 * 0.8 / 99) ** 2 / 99
    )
    margin = stats.t.ppf(0.975, degrees) * standard_error
    assert (found.low, found.high) == pytest.approx((0.1 - margin, 0.1 + margin))
    assert found.p_value == pytest.approx(2 * stats.t.sf(0.1 / standard_error, degrees))


def test_sample_size_matches_the_published_tables() -> None:
    # 20% -> 25% at alpha 0.05 two-sided, power 80%: 1,091 per group (unpooled normal
    # approximation, Fleiss eq. 4.14 without continuity correction); 50% -> 60%: 385.
    assert leads_per_arm_for_rates(0.20, 0.05) == 1091
    assert leads_per_arm_for_rates(0.50, 0.10) == 385


def test_gini_interval_brackets_the_estimate() -> None:
    owners = ["U1"] * 60 + ["U2"] * 30 + ["U3"] * 10
    found = gini_estimate(owners, ["U1", "U2", "U3", "U4"])
    assert found.value == pytest.approx(0.5)  # counts 60, 30, 10, 0
    assert found.low is not None and found.high is not None
    assert found.low <= found.value <= found.high


def test_b_better_by_construction_is_found_at_the_predicted_sample_size() -> None:
    """B converts 25% against A's 20%: the power calculation asks 1,091 leads per arm for
    80% power. At that size the verdict finds B better about 80% of the time; at a
    quarter of it, far less often. Never worse."""
    config = experiment(metric="lead_to_opportunity", min_effect=5)
    needed = leads_per_arm_for_rates(0.20, 0.05)
    at_size = Counter(
        verdicts(config, simulated(s, needed, 0.20, 0.25))[0].outcome for s in range(150)
    )
    assert 0.68 <= at_size["better"] / 150 <= 0.92
    assert at_size["worse"] == 0
    early = Counter(
        verdicts(config, simulated(s, needed // 4, 0.20, 0.25))[0].outcome for s in range(150)
    )
    assert early["better"] / 150 < 0.45


def test_an_a_a_run_finds_no_difference_more_than_95_percent_of_the_time() -> None:
    config = experiment(metric="lead_to_opportunity")
    runs = 1000
    found = Counter(verdicts(config, simulated(s, 400, 0.2, 0.2))[0].outcome for s in range(runs))
    false_alarms = found["better"] + found["worse"]
    assert (runs - false_alarms) / runs >= 0.95
    # And the false-alarm rate is not significantly above the 5% the test promises.
    assert stats.binomtest(false_alarms, runs, 0.05, alternative="greater").pvalue > 0.05


def test_verdict_says_how_many_more_leads_are_needed() -> None:
    config = experiment(min_effect=5)
    leads = simulated(1, 100, 0.2, 0.2)
    verdict = verdicts(config, leads)[0]
    control_rate = sum(lead.opportunity for lead in leads if lead.arm == "A") / 100
    more = leads_per_arm_for_rates(control_rate, 0.05) - 100
    assert verdict.outcome == "no_difference_yet"
    assert verdict.more_leads_needed is not None
    assert more <= verdict.more_leads_needed < more + 10  # rounded up to two figures
    assert verdict.text == (
        f"B: no difference yet: about {verdict.more_leads_needed:,} more leads per arm "
        "needed for a 5-point effect"
    )


def test_a_clear_winner_reads_as_a_plain_sentence() -> None:
    config = experiment()
    verdict = verdicts(config, simulated(3, 2000, 0.20, 0.30))[0]
    assert verdict.outcome == "better"
    assert verdict.text.startswith("B is better on lead-to-opportunity, 95% CI +")
    assert verdict.text.endswith("points (p < 0.001)")


def test_too_few_leads_or_no_outcomes_yet_is_not_a_verdict() -> None:
    assert verdicts(experiment(), [converting("A", True)])[0].outcome == "no_data"
    [waiting] = verdicts(experiment(), simulated(1, 500, 0.0, 0.0))
    assert waiting.text == "B: no lead in either arm has reached lead-to-opportunity yet"


def test_the_report_has_every_figure_per_arm_and_flags_a_guardrail_breach() -> None:
    config = experiment(guardrails=[{"metric": "contacted_within_sla", "max_drop": 5}])
    rng = random.Random(5)
    leads = [
        ExperimentLead(
            arm,
            f"U{rng.randrange(4)}",
            True,
            rng.expovariate(1 / 300),
            rng.random() < sla,
            converted := rng.random() < 0.2,
            converted,
            converted and rng.random() < 0.5,
        )
        for arm, sla in (("A", 0.9), ("B", 0.75))
        for _ in range(600)
    ]
    report = build_experiment_report(config, leads)
    control, treated = report.arms
    assert (control.arm, control.control, control.leads) == ("A", True, 600)
    assert control.rates["contacted_within_sla"].value == pytest.approx(0.9, abs=0.04)
    assert (
        control.response_median.low < control.response_median.value < control.response_median.high
    )
    assert treated.gini.value is not None
    metrics = [c.metric for c in report.comparisons["B"]]
    assert "median_response_time" in metrics and "gini" in metrics
    sla = next(c for c in report.comparisons["B"] if c.metric == "contacted_within_sla")
    assert sla.difference.value == pytest.approx(-15, abs=5)
    [breach] = report.breaches
    assert breach.arm == "B" and "worse than control on contacted within SLA" in breach.text
    assert guardrail_breaches(config, leads) == report.breaches


def test_a_small_drop_within_the_margin_is_no_breach() -> None:
    config = experiment(guardrails=[{"metric": "lead_to_opportunity", "max_drop": 5}])
    leads = simulated(2, 3000, 0.22, 0.20)
    assert build_experiment_report(config, leads).breaches == []


def test_three_arms_are_compared_at_a_corrected_level() -> None:
    config = ExperimentConfig.model_validate(
        {"name": "t", "arms": [{"name": "A"}, {"name": "B"}, {"name": "C"}], "end": "2027-01-01"}
    )
    leads = simulated(4, 200, 0.2, 0.2) + [converting("C", i % 5 == 0) for i in range(200)]
    report = build_experiment_report(config, leads)
    assert report.confidence == pytest.approx(0.975)
    assert [v.arm for v in report.verdicts] == ["B", "C"]


def test_stored_columns_become_outcomes() -> None:
    due = T0 + timedelta(minutes=5)
    met = experiment_lead(
        arm="A",
        owner="U1",
        status="won",
        created_at=T0,
        sla_due_at=due,
        contacted_at=T0 + timedelta(minutes=3),
        qualified_at=None,
        opportunity_at=None,
        now=T0 + timedelta(days=1),
    )
    assert (met.contacted, met.qualified, met.opportunity, met.won) == (True, True, True, True)
    assert (met.sla_met, met.response_seconds) == (True, 180.0)
    waiting = experiment_lead(
        arm="A",
        owner=None,
        status="queued",
        created_at=T0,
        sla_due_at=due,
        contacted_at=None,
        qualified_at=None,
        opportunity_at=None,
        now=T0,
    )
    assert waiting.sla_met is None and waiting.outcome("contacted_within_sla") is None
    missed = experiment_lead(
        arm="A",
        owner=None,
        status="queued",
        created_at=T0,
        sla_due_at=due,
        contacted_at=None,
        qualified_at=None,
        opportunity_at=None,
        now=due + timedelta(seconds=1),
    )
    assert missed.sla_met is False


def test_the_report_as_text_and_json_shows_the_same_verdict() -> None:
    report = build_experiment_report(experiment(), simulated(3, 2000, 0.20, 0.30))
    lines = summary_lines(report)
    assert lines[0] == (
        "Experiment t (running, planned end 2027-01-01): primary metric lead-to-opportunity"
    )
    assert f"Verdict: {report.verdicts[0].text}" in lines
    document = json.loads(json.dumps(to_document(report)))
    assert document["verdicts"][0]["outcome"] == "better"
    assert document["arms"][1]["rates"]["lead_to_opportunity"]["n"] == 2000
