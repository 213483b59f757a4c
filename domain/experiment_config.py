"""The `experiments` section of the configuration: routing changes tried on real leads.

An experiment takes the leads of a segment (any rule's conditions), splits them between
two or more arms by a hash of the lead id (see domain.experiments), and routes each arm
with its own overrides: a team, a method, a strategy, member weights, or a rule list
tried before the live rules. The first arm is the control; an arm without overrides
routes exactly as the live configuration does.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.conditions import Condition, parse_conditions
from domain.durations import format_duration, parse_duration
from domain.errors import FieldError, format_location
from domain.lead import Method

Metric = Literal[
    "contacted_within_sla",
    "lead_to_contacted",
    "lead_to_qualified",
    "lead_to_opportunity",
    "won",
    "median_response_time",
]
RATE_METRICS: tuple[str, ...] = (
    "contacted_within_sla",
    "lead_to_contacted",
    "lead_to_qualified",
    "lead_to_opportunity",
    "won",
)
METRIC_LABELS = {
    "contacted_within_sla": "contacted within SLA",
    "lead_to_contacted": "lead-to-contacted",
    "lead_to_qualified": "lead-to-qualified",
    "lead_to_opportunity": "lead-to-opportunity",
    "won": "won",
    "median_response_time": "median response time",
}
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"


# domain.config's Duration, which this module cannot import: domain.config imports it.
def _duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


_Duration = Annotated[
    timedelta, BeforeValidator(_duration), PlainSerializer(format_duration, return_type=str)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ArmConfig(_Strict):
    """One way of routing the segment. Every override is optional; none is the control."""

    name: str = Field(pattern=_NAME)
    team: str | None = None
    method: Method | None = None
    strategy: Literal["round_robin", "weighted", "least_loaded"] | None = None
    weights: dict[str, Annotated[int, Field(ge=1, le=100)]] | None = None
    """Member weights by rep, in whichever team routes the lead."""
    rules: list[Any] | None = None
    """Rules tried before the live ones for this arm's leads (RuleConfig items)."""

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: list[Any] | None) -> list[Any] | None:
        # Imported here: domain.config imports this module for its `experiments` field.
        from domain.config import RuleConfig

        if value is None:
            return None
        rules = []
        for index, item in enumerate(value):
            try:
                rules.append(RuleConfig.model_validate(item))
            except ValidationError as error:
                first = error.errors()[0]
                where = format_location((index, *first["loc"]))
                raise ValueError(f"{where}: {first['msg']}") from None
        return rules

    def describe(self) -> str:
        """`team enterprise, weights U0JANE=3` or `the live rules` for a control."""
        parts = [
            f"{label} {value}"
            for label, value in (
                ("team", self.team),
                ("method", self.method),
                ("strategy", self.strategy),
            )
            if value is not None
        ]
        if self.weights:
            parts.append("weights " + ", ".join(f"{user}={w}" for user, w in self.weights.items()))
        if self.rules:
            parts.append("rules " + ", ".join(f"“{rule.name}”" for rule in self.rules))
        return ", ".join(parts) or "the live rules"


class Guardrail(_Strict):
    """A metric an arm must not make worse than control by more than a margin:
    `max_drop` points for a rate, `max_increase` for the median response time."""

    metric: Metric
    max_drop: float | None = Field(default=None, gt=0, le=100)
    max_increase: _Duration | None = None

    @model_validator(mode="after")
    def _one_margin(self) -> Guardrail:
        if self.metric == "median_response_time":
            if self.max_increase is None or self.max_drop is not None:
                raise ValueError("median_response_time takes `max_increase` (e.g. 5m)")
        elif self.max_drop is None or self.max_increase is not None:
            raise ValueError(f"{self.metric} takes `max_drop` in points (e.g. 5)")
        return self

    @property
    def margin(self) -> float:
        """The allowed worsening: points (0-100) or seconds."""
        if self.max_increase is not None:
            return self.max_increase.total_seconds()
        return float(self.max_drop or 0)


class ExperimentConfig(_Strict):
    name: str = Field(pattern=_NAME)
    description: str | None = Field(default=None, max_length=500)
    segment: dict[str, Any] | None = None
    """Rule conditions; absent: every lead."""
    arms: list[ArmConfig] = Field(min_length=2, max_length=10)
    split: list[float] | None = None
    """Percent of the segment per arm, in arm order; absent: equal."""
    metric: Metric = "lead_to_opportunity"
    min_effect: float = Field(default=5.0, gt=0)
    """The smallest effect worth finding: points for a rate, minutes for response time."""
    guardrails: list[Guardrail] = Field(default_factory=list)
    start: date | None = None
    end: date
    """The planned end (inclusive, UTC): later leads route by the live rules."""
    state: Literal["running", "stopped", "promoted"] = "running"
    promoted_arm: str | None = None

    @field_validator("segment")
    @classmethod
    def _segment(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value:
            errors: list[FieldError] = []
            parse_conditions(value, errors=errors, path="")
            if errors:
                raise ValueError("; ".join(str(e) for e in errors))
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentConfig:
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must be unique")
        if self.split is not None:
            if len(self.split) != len(self.arms):
                raise ValueError(f"`split` needs one share per arm ({len(self.arms)})")
            if any(share <= 0 for share in self.split) or not math.isclose(
                sum(self.split), 100, abs_tol=0.01
            ):
                raise ValueError("`split` shares must be positive and add up to 100")
        if self.start and self.end < self.start:
            raise ValueError("`end` is before `start`")
        if self.promoted_arm is not None and self.promoted_arm not in names:
            raise ValueError(f"`promoted_arm`: no arm named {self.promoted_arm!r}")
        return self

    @property
    def control(self) -> ArmConfig:
        return self.arms[0]

    def shares(self) -> list[float]:
        """Percent per arm, in arm order."""
        return list(self.split) if self.split else [100 / len(self.arms)] * len(self.arms)

    def arm(self, name: str) -> ArmConfig | None:
        return next((arm for arm in self.arms if arm.name == name), None)

    def conditions(self) -> list[Condition]:
        return parse_conditions(self.segment or {}, errors=[], path="")

    def runs_on(self, day: date) -> bool:
        """Does a lead received on this (UTC) day take part?"""
        started = self.start is None or day >= self.start
        return self.state == "running" and started and day <= self.end


def experiment_errors(data: dict[str, Any], team_names: set[str]) -> list[FieldError]:
    """References one experiment cannot check alone: teams, members, unique names. Runs
    on the raw data like the configuration's other cross-checks."""
    experiments = data.get("experiments")
    if not isinstance(experiments, list):
        return []
    errors: list[FieldError] = []
    every_member = _members(data)
    seen: set[str] = set()
    for index, experiment in enumerate(experiments):
        if not isinstance(experiment, dict):
            continue
        path = f"experiments[{index}]"
        name = experiment.get("name")
        if isinstance(name, str):
            if name in seen:
                errors.append(FieldError(f"{path}.name", f"duplicate experiment {name!r}"))
            seen.add(name)
        arms = experiment.get("arms")
        for position, arm in enumerate(arms if isinstance(arms, list) else []):
            if not isinstance(arm, dict):
                continue
            here = f"{path}.arms[{position}]"
            team = arm.get("team")
            if team is not None and team not in team_names:
                errors.append(FieldError(f"{here}.team", f"no team named {team!r}"))
            weights = arm.get("weights")
            for user in weights if isinstance(weights, dict) else {}:
                if user not in every_member:
                    errors.append(FieldError(f"{here}.weights.{user}", "not a team member"))
            rules = arm.get("rules")
            for number, rule in enumerate(rules if isinstance(rules, list) else []):
                then = rule.get("then") if isinstance(rule, dict) else None
                when = rule.get("when") if isinstance(rule, dict) else None
                if isinstance(when, dict):
                    parse_conditions(when, errors=errors, path=f"{here}.rules[{number}].when")
                for key in ("team", "fallback_team"):
                    target = then.get(key) if isinstance(then, dict) else None
                    if target is not None and target not in team_names:
                        errors.append(
                            FieldError(
                                f"{here}.rules[{number}].then.{key}", f"no team named {target!r}"
                            )
                        )
    return errors


def _members(data: dict[str, Any]) -> set[str]:
    teams = data.get("teams")
    return {
        member["user"]
        for team in (teams if isinstance(teams, list) else [])
        if isinstance(team, dict) and isinstance(team.get("members"), list)
        for member in team["members"]
        if isinstance(member, dict) and isinstance(member.get("user"), str)
    }
