"""Experiments: configuration, deterministic arms, and how an arm's overrides route."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from domain.config import dump_config, load_config, validate_config
from domain.errors import InvalidInput
from domain.experiments import assign_arm, bucket, experiment_for, route_lead
from domain.routing import RoutingState
from domain.simulation import SimulatedLead, only_experiment, simulate
from tests.domain.builders import MONDAY_NOON, lead

BASE: dict[str, Any] = {
    "reps": [{"user": u} for u in ("U0ANN", "U0BEN", "U0CAT", "U0DAN")],
    "teams": [
        {
            "name": "smb",
            "strategy": "weighted",
            "members": [{"user": "U0ANN"}, {"user": "U0BEN"}],
        },
        {"name": "senior", "members": [{"user": "U0CAT"}, {"user": "U0DAN"}]},
    ],
    "rules": [
        {"name": "big", "when": {"employees": {"gte": 500}}, "then": {"team": "senior"}},
        {"name": "everyone else", "then": {"team": "smb"}},
    ],
}


def with_experiment(**experiment: Any) -> Any:
    spec = {
        "name": "mid-market",
        "segment": {"employees": {"gte": 50, "lt": 500}},
        "arms": [{"name": "A"}, {"name": "B", "team": "senior"}],
        "end": "2026-12-31",
        **experiment,
    }
    return validate_config({**BASE, "experiments": [spec]})


def ids(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in range(count)]


def test_a_configuration_without_experiments_exports_as_before() -> None:
    config = validate_config(BASE)
    assert config.experiments is None
    assert "experiments" not in dump_config(config)


def test_an_experiment_round_trips_through_the_file() -> None:
    config = with_experiment(
        split=[70, 30],
        guardrails=[
            {"metric": "contacted_within_sla", "max_drop": 5},
            {"metric": "median_response_time", "max_increase": "10m"},
        ],
    )
    assert load_config(dump_config(config)) == config


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"split": [60, 30]}, "experiments[0]", "add up to 100"),
        ({"arms": [{"name": "A"}]}, "experiments[0].arms", "at least 2"),
        ({"arms": [{"name": "A"}, {"name": "B", "team": "nope"}]}, "arms[1].team", "nope"),
        (
            {"arms": [{"name": "A"}, {"name": "B", "weights": {"U0ZED": 3}}]},
            "arms[1].weights.U0ZED",
            "not a team member",
        ),
        (
            {"guardrails": [{"metric": "won", "max_increase": "5m"}]},
            "guardrails[0]",
            "max_drop",
        ),
        ({"segment": {"colour": "red"}}, "experiments[0].segment", "unknown lead field"),
        ({"end": "2026-01-01", "start": "2026-02-01"}, "experiments[0]", "before"),
    ],
)
def test_invalid_experiments_are_refused_with_their_path(
    change: dict[str, Any], path: str, message: str
) -> None:
    spec = {"name": "x", "arms": [{"name": "A"}, {"name": "B"}], "end": "2026-12-31", **change}
    with pytest.raises(InvalidInput) as refused:
        validate_config({**BASE, "experiments": [spec]})
    assert any(path in e.path and message in e.message for e in refused.value.errors), (
        refused.value.errors
    )


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_the_bucket_depends_only_on_the_experiment_and_the_lead(name: str, lead_id: str) -> None:
    assert bucket(name, lead_id) == bucket(name, lead_id)
    assert 0 <= bucket(name, lead_id) < 10_000


@pytest.mark.parametrize("split", [[50, 50], [70, 30], [20, 30, 50]])
def test_assignment_over_10000_ids_is_near_the_declared_split(split: list[int]) -> None:
    arms = [{"name": f"arm{index}"} for index in range(len(split))]
    experiment = with_experiment(arms=arms, split=split).experiments[0]
    counts = Counter(assign_arm(experiment, lead_id).name for lead_id in ids(10_000))
    observed = [counts[f"arm{index}"] for index in range(len(split))]
    expected = [10_000 * share / 100 for share in split]
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_two_experiments_split_the_same_leads_independently() -> None:
    lead_ids = ids(10_000)
    first = [bucket("one", lead_id) < 5000 for lead_id in lead_ids]
    second = [bucket("two", lead_id) < 5000 for lead_id in lead_ids]
    table = [[0, 0], [0, 0]]
    for a, b in zip(first, second, strict=True):
        table[a][b] += 1
    assert stats.chi2_contingency(table).pvalue > 0.001


def test_leads_outside_the_segment_route_as_today() -> None:
    config = with_experiment()
    decision = route_lead(lead(employees=10), "L1", config, RoutingState(), MONDAY_NOON)
    assert decision.experiment is None and decision.team == "smb"
    assert "experiment" not in decision.to_record()


def test_the_arm_is_part_of_the_decision_and_its_reasons() -> None:
    config = with_experiment()
    experiment = config.experiments[0]
    by_arm = {assign_arm(experiment, lead_id).name: lead_id for lead_id in ids(20)}
    control = route_lead(lead(employees=100), by_arm["A"], config, RoutingState(), MONDAY_NOON)
    treated = route_lead(lead(employees=100), by_arm["B"], config, RoutingState(), MONDAY_NOON)
    assert (control.experiment, control.arm, control.team) == ("mid-market", "A", "smb")
    assert (treated.arm, treated.team, treated.rule) == ("B", "senior", "mid-market · arm B")
    assert treated.reasons[0] == (
        "Experiment “mid-market”: arm B (50% of the segment; team senior)"
    )
    assert control.reasons[0].endswith("(50% of the segment; control)")
    assert treated.to_record()["arm"] == "B"


def test_a_replay_gives_every_lead_the_same_arm() -> None:
    config = with_experiment()
    arms = [
        route_lead(lead(employees=100), lead_id, config, RoutingState(), MONDAY_NOON).arm
        for lead_id in ids(50)
    ]
    again = [
        route_lead(lead(employees=100), lead_id, config, RoutingState(), MONDAY_NOON).arm
        for lead_id in ids(50)
    ]
    assert arms == again and set(arms) == {"A", "B"}


def test_weights_method_and_strategy_arms_change_only_their_leads() -> None:
    config = with_experiment(
        arms=[
            {"name": "A"},
            {"name": "B", "weights": {"U0BEN": 9}},
            {"name": "C", "method": "pull", "strategy": "least_loaded"},
        ],
        split=[1, 98, 1],
    )
    experiment = config.experiments[0]
    lead_id = next(i for i in ids(100) if assign_arm(experiment, i).name == "B")
    weighted = route_lead(lead(employees=100), lead_id, config, RoutingState(), MONDAY_NOON)
    assert "weight 9 of 10" in weighted.reasons[-1]
    lead_id = next(i for i in ids(1000) if assign_arm(experiment, i).name == "C")
    pulled = route_lead(lead(employees=100), lead_id, config, RoutingState(), MONDAY_NOON)
    assert (pulled.method, pulled.strategy, pulled.owner) == ("pull", "least_loaded", None)


def test_a_rule_list_arm_is_tried_before_the_live_rules() -> None:
    rules = [
        {
            "name": "healthcare to seniors",
            "when": {"industry": "health"},
            "then": {"team": "senior"},
        }
    ]
    config = with_experiment(
        arms=[{"name": "A"}, {"name": "B", "rules": rules}], split=[0.01, 99.99]
    )
    experiment = config.experiments[0]
    lead_id = next(i for i in ids(100) if assign_arm(experiment, i).name == "B")
    health = route_lead(
        lead(employees=100, industry="health"), lead_id, config, RoutingState(), MONDAY_NOON
    )
    other = route_lead(lead(employees=100), lead_id, config, RoutingState(), MONDAY_NOON)
    assert (health.rule, health.team) == ("healthcare to seniors", "senior")
    assert (other.rule, other.team, other.arm) == ("everyone else", "smb", "B")


@pytest.mark.parametrize(
    ("state", "start", "now", "runs"),
    [
        ("running", None, datetime(2026, 12, 31, 23, 0, tzinfo=UTC), True),
        ("running", None, datetime(2027, 1, 1, 0, 0, tzinfo=UTC), False),
        ("running", "2026-04-01", MONDAY_NOON, False),
        ("stopped", None, MONDAY_NOON, False),
        ("promoted", None, MONDAY_NOON, False),
    ],
)
def test_only_running_experiments_between_start_and_planned_end_take_leads(
    state: str, start: str | None, now: datetime, runs: bool
) -> None:
    extra: dict[str, Any] = {"state": state} | ({"start": start} if start else {})
    if state == "promoted":
        extra["promoted_arm"] = "B"
    config = with_experiment(**extra)
    assert (experiment_for(lead(employees=100), config, now) is not None) is runs


def test_simulate_previews_the_split_of_a_stopped_or_future_experiment() -> None:
    config = with_experiment(state="stopped", split=[30, 70])
    leads = [
        SimulatedLead(row, lead(employees=100 if row % 2 else 10), MONDAY_NOON)
        for row in range(2000)
    ]
    assert simulate(leads, config).arms[0].leads == 0  # stopped: nobody takes part
    preview = simulate(leads, only_experiment(config, "mid-market"))
    arms = {summary.arm: summary for summary in preview.arms}
    assert arms["A"].leads + arms["B"].leads == 1000
    assert stats.binomtest(arms["A"].leads, 1000, 0.3).pvalue > 0.001
    assert arms["A"].teams == (("smb", arms["A"].leads),)
    assert arms["B"].teams == (("senior", arms["B"].leads),)
    again = simulate(leads, only_experiment(config, "mid-market"))
    assert [e.decision.arm for e in again.routed] == [e.decision.arm for e in preview.routed]
    with pytest.raises(ValueError, match="no experiment named 'nope'"):
        only_experiment(config, "nope")
