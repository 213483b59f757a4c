"""Running an experiment: which leads take part, which arm each gets, how the arm routes.

The arm is a pure function of the experiment's name and the lead's id (a SHA-256 bucket
out of 10,000), so every replica, a retry and a replay agree without storing anything
first. The arm routes through an ordinary configuration derived from the live one
(`arm_config`): routing itself knows nothing of experiments, and the decision names the
experiment and arm in its fields and its first reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.conditions import Condition
from domain.config import Config, RuleAction, RuleConfig, TeamConfig
from domain.experiment_config import ArmConfig, ExperimentConfig
from domain.lead import LeadInput
from domain.routing import Decision, RoutingState, route
from domain.routing_plan import compile_plan

BUCKETS = 10_000


def bucket(experiment: str, lead_id: str) -> int:
    """A lead's place in [0, BUCKETS): uniform, and the same in every process."""
    digest = hashlib.sha256(f"{experiment}\x00{lead_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign_arm(experiment: ExperimentConfig, lead_id: str) -> ArmConfig:
    """The arm whose share of the buckets holds this lead's bucket."""
    point = bucket(experiment.name, lead_id)
    edge = 0.0
    for arm, share in zip(experiment.arms, experiment.shares(), strict=True):
        edge += share * BUCKETS / 100
        if point < edge:
            return arm
    return experiment.arms[-1]


def in_segment(experiment: ExperimentConfig, lead: LeadInput, config: Config) -> bool:
    """Do the segment's conditions hold for this lead (as a rule's `when` would)?"""
    return _matches(_segment(config, experiment), lead, config)


def _matches(conditions: tuple[Condition, ...], lead: LeadInput, config: Config) -> bool:
    if not conditions:
        return True
    facts = lead.facts()
    if any(condition.field == "account_owner" for condition in conditions):
        facts["account_owner"] = compile_plan(config).account_for(lead) is not None
    return all(condition.matches(facts) for condition in conditions)


_SEGMENTS: dict[tuple[int, str], tuple[ExperimentConfig, tuple[Condition, ...]]] = {}


def _segment(config: Config, experiment: ExperimentConfig) -> tuple[Condition, ...]:
    """The segment's conditions, compiled once per experiment object (a configuration
    is not changed once routed: edits build a new one)."""
    key = (id(config), experiment.name)
    cached = _SEGMENTS.get(key)
    if cached is not None and cached[0] is experiment:
        return cached[1]
    if len(_SEGMENTS) >= _MAX_ARM_CONFIGS:
        del _SEGMENTS[next(iter(_SEGMENTS))]
    conditions = tuple(experiment.conditions())
    _SEGMENTS[key] = (experiment, conditions)
    return conditions


def experiment_for(lead: LeadInput, config: Config, now: datetime) -> ExperimentConfig | None:
    """The first running experiment whose segment holds the lead: a lead takes part in
    one experiment at most, so arms of two experiments never mix their effects."""
    if not config.experiments:
        return None
    day = now.date()
    return next(
        (
            experiment
            for experiment in config.experiments
            if experiment.runs_on(day) and _matches(_segment(config, experiment), lead, config)
        ),
        None,
    )


def route_lead(
    lead: LeadInput,
    lead_id: str,
    config: Config,
    state: RoutingState,
    now: datetime,
    config_version: int = 0,
    scores: Mapping[str, Any] | None = None,
) -> Decision:
    """`route`, with the lead's experiment arm applied when it takes part in one.
    `scores` are the scoring model's facts, as `route` takes them."""
    experiment = experiment_for(lead, config, now)
    if experiment is None:
        return route(lead, config, state, now, config_version, scores)
    arm = assign_arm(experiment, lead_id)
    arm_routing = arm_config(config, experiment, arm)
    decision = route(lead, arm_routing, state, now, config_version, scores)
    share = experiment.shares()[experiment.arms.index(arm)]
    role = "control" if arm is experiment.control else arm.describe()
    why = f"Experiment “{experiment.name}”: arm {arm.name} ({share:g}% of the segment; {role})"
    return replace(
        decision, experiment=experiment.name, arm=arm.name, reasons=(why, *decision.reasons)
    )


_ARM_CONFIGS: dict[tuple[int, str, str], tuple[Config, Config]] = {}
_MAX_ARM_CONFIGS = 32


def arm_config(config: Config, experiment: ExperimentConfig, arm: ArmConfig) -> Config:
    """The live configuration with the arm's overrides, built once per (configuration,
    arm) and reused, so the routing plan compiled for it is reused too."""
    key = (id(config), experiment.name, arm.name)
    cached = _ARM_CONFIGS.get(key)
    if cached is not None and cached[0] is config:
        return cached[1]
    derived = apply_arm(config, experiment, arm)
    if len(_ARM_CONFIGS) >= _MAX_ARM_CONFIGS:
        del _ARM_CONFIGS[next(iter(_ARM_CONFIGS))]
    _ARM_CONFIGS[key] = (config, derived)
    return derived


def apply_arm(config: Config, experiment: ExperimentConfig, arm: ArmConfig) -> Config:
    """The arm as a configuration. Its rules go first; a `team` becomes one more rule
    before the live ones (the segment already matched, so it needs no conditions);
    `method` and `strategy` alone change every live rule that routes to a team;
    `weights` change those reps' weights in every team. The derived configuration has no
    experiments, so routing it cannot recurse."""
    rules = list(arm.rules or [])
    if arm.team is not None:
        action = RuleAction(team=arm.team, method=arm.method, strategy=arm.strategy)
        rules.append(RuleConfig(name=f"{experiment.name} · arm {arm.name}", then=action))
        rules.extend(config.rules)
    elif arm.method is not None or arm.strategy is not None:
        rules.extend(_override_action(rule, arm) for rule in config.rules)
    else:
        rules.extend(config.rules)
    teams = [_reweighted(team, arm.weights) for team in config.teams]
    return config.model_copy(update={"rules": rules, "teams": teams, "experiments": None})


def _override_action(rule: RuleConfig, arm: ArmConfig) -> RuleConfig:
    if rule.then.team is None and rule.then.fallback_team is None:
        return rule
    changes = {
        "method": arm.method or rule.then.method,
        "strategy": arm.strategy or rule.then.strategy,
    }
    return rule.model_copy(update={"then": rule.then.model_copy(update=changes)})


def _reweighted(team: TeamConfig, weights: dict[str, int] | None) -> TeamConfig:
    if not weights or not any(member.user in weights for member in team.members):
        return team
    members = [
        member.model_copy(update={"weight": weights.get(member.user, member.weight)})
        for member in team.members
    ]
    return team.model_copy(update={"members": members})
