"""Stopping and promoting experiments: the segment keeps the arm's routing, nothing else
changes, and the result is a valid configuration."""

from __future__ import annotations

from typing import Any

import pytest

from domain.config import load_config
from domain.experiment_lifecycle import ExperimentError, promote_arm, stop_experiment, winner
from domain.experiment_report import Verdict
from domain.experiments import assign_arm, experiment_for, route_lead
from domain.routing import RoutingState, route
from tests.domain.builders import MONDAY_NOON, lead
from tests.domain.test_experiments import ids, with_experiment


def test_a_stopped_experiment_takes_no_more_leads() -> None:
    stopped = stop_experiment(with_experiment(), "mid-market")
    assert stopped.experiments[0].state == "stopped"
    assert experiment_for(lead(employees=100), stopped, MONDAY_NOON) is None
    with pytest.raises(ExperimentError, match="already stopped"):
        stop_experiment(stopped, "mid-market")
    with pytest.raises(ExperimentError, match="No experiment named 'nope'"):
        stop_experiment(stopped, "nope")


@pytest.mark.parametrize(
    "arm",
    [
        {"name": "B", "team": "senior"},
        {"name": "B", "method": "pull", "strategy": "least_loaded"},
        {
            "name": "B",
            "rules": [
                {"name": "health", "when": {"industry": "health"}, "then": {"team": "senior"}}
            ],
        },
    ],
)
def test_promotion_routes_the_segment_as_the_arm_did_and_the_rest_as_before(
    arm: dict[str, Any],
) -> None:
    config = with_experiment(arms=[{"name": "A"}, arm])
    experiment = config.experiments[0]
    promoted, note = promote_arm(config, "mid-market", "B")
    assert note.startswith("Promoted arm B of experiment mid-market")
    assert promoted.experiments[0].state == "promoted"
    assert load_config(promoted.model_dump_json(by_alias=True, exclude_none=True)) == promoted
    leads = [lead(employees=n, industry=i) for n in (10, 100, 900) for i in ("health", "retail")]
    b_ids = [i for i in ids(200) if assign_arm(experiment, i).name == "B"]
    for item, lead_id in zip(leads, b_ids, strict=False):
        during = route_lead(item, lead_id, config, RoutingState(), MONDAY_NOON)
        after = route(item, promoted, RoutingState(), MONDAY_NOON)
        assert (after.team, after.method, after.strategy) == (
            during.team,
            during.method,
            during.strategy,
        )


def test_a_winner_is_the_one_arm_found_better() -> None:
    assert winner([Verdict("B", "better", ""), Verdict("C", "no_difference_yet", "")]) == "B"
    with pytest.raises(ExperimentError, match="no arm is better"):
        winner([Verdict("B", "no_difference_yet", "")])


def test_a_segment_clashing_with_a_rule_is_refused_not_guessed() -> None:
    rules = [{"name": "x", "when": {"employees": {"prefix": "1"}}, "then": {"team": "senior"}}]
    segment = {"employees": {"prefix": "2"}}
    config = with_experiment(segment=segment, arms=[{"name": "A"}, {"name": "B", "rules": rules}])
    with pytest.raises(ExperimentError, match="both test employees"):
        promote_arm(config, "mid-market", "B")


def test_bounds_merge_to_the_tighter_and_impossible_rules_are_left_out() -> None:
    rules = [
        {"name": "tight", "when": {"employees": {"gte": 100}}, "then": {"team": "senior"}},
        {"name": "never", "when": {"employees": {"gte": 1000}}, "then": {"team": "senior"}},
    ]
    config = with_experiment(arms=[{"name": "A"}, {"name": "B", "rules": rules}])
    promoted, _ = promote_arm(config, "mid-market", "B")
    assert promoted.rules[0].when == {"employees": {"gte": 100, "lt": 500}}
    assert [rule.name for rule in promoted.rules] == ["tight", "big", "everyone else"]
