"""Ending an experiment: stop it, or promote an arm into the live configuration.

Both return a new configuration (saved as a new version by the caller, so history and
rollback work as for any edit). Promotion keeps the arm's effect to the segment: its
rules and its team get the segment's conditions added, and a method or strategy change
becomes, before each live rule that routes to a team, a copy of that rule narrowed to the
segment. Weights are per team, so a weights arm changes the team's weights for every lead;
the note says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.config import Config, RuleAction, RuleConfig, validate_config
from domain.errors import DomainError
from domain.experiment_config import ArmConfig, ExperimentConfig
from domain.experiment_report import Verdict


class ExperimentError(DomainError):
    """The experiment cannot be stopped or promoted as asked; the message says why."""


def _find(config: Config, name: str) -> ExperimentConfig:
    experiment = config.experiment(name)
    if experiment is None:
        known = ", ".join(e.name for e in config.experiments or ()) or "none"
        raise ExperimentError(f"No experiment named {name!r} (configured: {known})")
    return experiment


def _with_state(config: Config, name: str, **changes: Any) -> list[ExperimentConfig]:
    return [e.model_copy(update=changes) if e.name == name else e for e in config.experiments or ()]


def stop_experiment(config: Config, name: str) -> Config:
    """The experiment ends now: later leads route by the live rules; its report stays."""
    experiment = _find(config, name)
    if experiment.state != "running":
        raise ExperimentError(f"Experiment {name!r} is already {experiment.state}")
    return _validated(
        config.model_copy(update={"experiments": _with_state(config, name, state="stopped")})
    )


def winner(verdicts: Sequence[Verdict]) -> str:
    """The one arm the report found better than control, or ExperimentError."""
    better = [verdict.arm for verdict in verdicts if verdict.outcome == "better"]
    if len(better) != 1:
        found = "no arm is better than control yet" if not better else "several arms are better"
        raise ExperimentError(f"Nothing to promote: {found}; name the arm to promote it anyway")
    return better[0]


def promote_arm(config: Config, name: str, arm_name: str) -> tuple[Config, str]:
    """The live configuration with the arm built in, the experiment marked promoted, and
    a note for the history."""
    experiment = _find(config, name)
    arm = experiment.arm(arm_name)
    if arm is None:
        raise ExperimentError(f"Experiment {name!r} has no arm {arm_name!r}")
    if experiment.state == "promoted":
        raise ExperimentError(f"Experiment {name!r} was already promoted")
    segment = experiment.segment or {}
    if not segment and (arm.team or arm.method or arm.strategy):
        raise ExperimentError(
            f"Experiment {name!r} covers every lead: change the live rules by hand instead"
        )
    rules = [*_narrowed(arm, experiment.name, segment, config.rules), *config.rules]
    teams = config.teams
    if arm.weights:
        teams = [
            team.model_copy(
                update={
                    "members": [
                        m.model_copy(update={"weight": arm.weights.get(m.user, m.weight)})
                        for m in team.members
                    ]
                }
            )
            for team in config.teams
        ]
    experiments = _with_state(config, name, state="promoted", promoted_arm=arm.name)
    promoted = config.model_copy(
        update={"rules": rules, "teams": teams, "experiments": experiments}
    )
    note = f"Promoted arm {arm.name} of experiment {name} ({arm.describe()})"
    if arm.weights:
        note += "; weights apply to every lead of the team"
    return _validated(promoted), note


def _narrowed(
    arm: ArmConfig, experiment: str, segment: Mapping[str, Any], live: Sequence[RuleConfig]
) -> list[RuleConfig]:
    """The arm's routing as rules that only the segment's leads match."""
    rules = [n for rule in arm.rules or () if (n := _narrow(rule, segment)) is not None]
    if arm.team is not None:
        action = RuleAction(team=arm.team, method=arm.method, strategy=arm.strategy)
        rules.append(RuleConfig(name=f"{experiment} (promoted)", when=dict(segment), then=action))
    elif arm.method is not None or arm.strategy is not None:
        for rule in live:
            if rule.then.team is None:
                continue
            then = rule.then.model_copy(
                update={
                    "method": arm.method or rule.then.method,
                    "strategy": arm.strategy or rule.then.strategy,
                }
            )
            narrowed = _narrow(rule, segment)
            if narrowed is None:
                continue
            rules.append(
                narrowed.model_copy(update={"name": f"{rule.name} ({experiment})", "then": then})
            )
    return rules


_TIGHTER = {"gte": max, "gt": max, "lte": min, "lt": min}


def _narrow(rule: RuleConfig, segment: Mapping[str, Any]) -> RuleConfig | None:
    """The rule with the segment's conditions added to its own (both must hold), or None
    when no lead can satisfy both (`employees >= 500` and `< 500`)."""
    when = dict(rule.when or {})
    for field, condition in segment.items():
        mine = when.get(field)
        if mine is None:
            when[field] = condition
            continue
        if not (isinstance(mine, dict) and isinstance(condition, dict)):
            if mine != condition:
                raise ExperimentError(
                    f"Rule “{rule.name}” and the segment both test {field}; edit it by hand"
                )
            continue
        merged = dict(mine)
        for op, value in condition.items():
            if op not in merged or merged[op] == value:
                merged[op] = value
            elif op in _TIGHTER:
                merged[op] = _TIGHTER[op](merged[op], value)
            elif op == "in":
                merged[op] = [item for item in merged[op] if item in value]
            else:
                raise ExperimentError(
                    f"Rule “{rule.name}” and the segment both test {field}; edit it by hand"
                )
        if _empty(merged):
            return None
        when[field] = merged
    if not when:
        raise ExperimentError(
            f"Rule “{rule.name}” would catch every lead once promoted: give the segment a condition"
        )
    return rule.model_copy(update={"when": when})


def _empty(condition: Mapping[str, Any]) -> bool:
    """Conditions no value meets: an empty `in`, or a lower bound above the upper."""
    if condition.get("in") == []:
        return True
    low = max((condition[op] for op in ("gte", "gt") if op in condition), default=None)
    high = min((condition[op] for op in ("lte", "lt") if op in condition), default=None)
    if low is None or high is None:
        return False
    closed = "gte" in condition and "lte" in condition and condition["gte"] == low
    return low > high or (low == high and not closed)


def _validated(config: Config) -> Config:
    """Through the one validation every saved configuration passes."""
    return validate_config(config.model_dump(mode="json", by_alias=True, exclude_none=True))
