"""The scoring model as sales ops write it: the `scoring:` section of the configuration.

Fit criteria test the lead itself (any lead field or `attributes.NAME`, with the same
conditions as routing rules); engagement criteria count behaviour (activity kinds), with
points that fade by a half-life. Groups cap how much one kind of evidence can add, grade
thresholds turn the two scores into A1..C3, and `mql_at` draws the MQL line. A
configuration without this section scores nothing and routes exactly as before.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from domain.conditions import SCORE_FIELDS, Condition, parse_conditions
from domain.durations import Duration
from domain.errors import FieldError
from domain.lead import BUILTIN_LEAD_TYPES

DEFAULT_DISQUALIFY_REASONS = (
    "no budget",
    "wrong fit",
    "student/researcher",
    "competitor",
    "spam",
    "duplicate",
)
DEFAULT_RECYCLE_REASONS = (
    "no timeline yet",
    "not the decision maker",
    "just researching",
    "asked to be contacted later",
)
MAX_REASONS = 100
"""A Slack select offers at most 100 options."""
_TOKEN = re.compile(r"^[a-z0-9_.:-]{1,64}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _token(value: Any) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else value
    if not isinstance(text, str) or not _TOKEN.match(text):
        raise ValueError(f"expected a name like pricing_page, got {value!r}")
    return text


Token = Annotated[str, BeforeValidator(_token)]
Points = Annotated[int, Field(ge=-100, le=100)]


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class FitCriterion(_Strict):
    """Points when the lead matches, e.g. +30 for `employees: {gte: 500}`."""

    label: str = Field(min_length=1, max_length=60)
    when: dict[str, Any] = Field(min_length=1)
    points: Points
    group: Token | None = None

    def conditions(self) -> list[Condition]:
        """Compiled conditions; the configuration was validated, so this cannot fail."""
        return parse_conditions(self.when, errors=[], path="")


class EngagementCriterion(_Strict):
    """Points for each activity of these kinds, e.g. +6 per pricing page view."""

    label: str = Field(min_length=1, max_length=60)
    activity: Annotated[list[Token], BeforeValidator(_listed)] = Field(min_length=1)
    points: Points
    group: Token | None = None


class FitGrades(_Strict):
    """Fit score needed for each letter; below B is C."""

    a: int = Field(alias="A")
    b: int = Field(alias="B")


def _string_keys(value: Any) -> Any:
    """YAML reads `1: 40` with an integer key; the grades are named by digits."""
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else value


class EngagementGrades(_Strict):
    """Engagement score needed for 1 (hot) and 2 (warm); below 2 is 3."""

    hot: int = Field(alias="1")
    warm: int = Field(alias="2")


class ScoringConfig(_Strict):
    decides: Literal["sender", "model"] = "sender"
    """Whose score is the lead's `score` and draws the MQL line: the sender's own (when it
    sent one) or the model's."""
    fit: list[FitCriterion] = Field(default_factory=list)
    engagement: list[EngagementCriterion] = Field(default_factory=list)
    half_life: Duration | None = None
    """Engagement fades: an activity this old counts half. Absent: it never fades."""
    caps: dict[Token, Annotated[int, Field(ge=0, le=100)]] = Field(default_factory=dict)
    """Most a group's positive points may add; negative points always count in full."""
    fit_grades: FitGrades = Field(default_factory=lambda: FitGrades(A=50, B=25))
    engagement_grades: Annotated[EngagementGrades, BeforeValidator(_string_keys)] = Field(
        default_factory=lambda: EngagementGrades(**{"1": 40, "2": 15})
    )
    mql_at: int = Field(default=50, ge=0, le=100)
    always_route: list[Token] = Field(default_factory=list)
    """Lead types routed to a rep even below the MQL line (a demo request is never nurtured)."""
    disqualify_reasons: list[str] = Field(default_factory=lambda: list(DEFAULT_DISQUALIFY_REASONS))
    recycle_reasons: list[str] = Field(default_factory=lambda: list(DEFAULT_RECYCLE_REASONS))

    @field_validator("half_life")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value

    @field_validator("disqualify_reasons", "recycle_reasons")
    @classmethod
    def _reasons(cls, values: list[str]) -> list[str]:
        cleaned = [value.strip() for value in values]
        if not 0 < len(cleaned) <= MAX_REASONS or any(not 0 < len(v) <= 60 for v in cleaned):
            raise ValueError(f"expected 1-{MAX_REASONS} reasons, each 1-60 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("a reason is listed twice")
        return cleaned

    def routes_always(self, lead_type: str) -> bool:
        return lead_type in self.always_route


def scoring_errors(data: dict[str, Any]) -> list[FieldError]:
    """What the schema alone cannot tell: fit conditions, ordered thresholds, caps on
    groups that exist, and rules testing scores when nothing scores. Runs on raw data so
    the errors are reported together with the shape errors."""
    scoring = data.get("scoring")
    rules = data.get("rules") if isinstance(data.get("rules"), list) else []
    errors: list[FieldError] = []
    if not isinstance(scoring, dict):
        for index, rule in enumerate(rules):
            when = rule.get("when") if isinstance(rule, dict) else None
            for name in when if isinstance(when, dict) else ():
                if name in SCORE_FIELDS:
                    errors.append(
                        FieldError(f"rules[{index}].when.{name}", "needs a `scoring` section")
                    )
        return errors
    groups: set[str] = set()
    for part in ("fit", "engagement"):
        criteria = scoring.get(part)
        for index, criterion in enumerate(criteria if isinstance(criteria, list) else []):
            if not isinstance(criterion, dict):
                continue
            if isinstance(criterion.get("group"), str):
                groups.add(criterion["group"].strip().lower())
            when = criterion.get("when")
            if part == "fit" and isinstance(when, dict):
                path = f"scoring.fit[{index}].when"
                for name in when:
                    if name in SCORE_FIELDS:
                        errors.append(FieldError(f"{path}.{name}", "a score cannot test itself"))
                safe = {name: spec for name, spec in when.items() if name not in SCORE_FIELDS}
                parse_conditions(safe, errors=errors, path=path)
    slas = data.get("slas")
    known_types = set(BUILTIN_LEAD_TYPES) | set(slas if isinstance(slas, dict) else ())
    always = scoring.get("always_route")
    for index, lead_type in enumerate(always if isinstance(always, list) else []):
        if isinstance(lead_type, str) and lead_type.strip().lower() not in known_types:
            errors.append(FieldError(f"scoring.always_route[{index}]", "unknown lead type"))
    caps = scoring.get("caps")
    for name in caps if isinstance(caps, dict) else ():
        if str(name).lower() not in groups:
            errors.append(FieldError(f"scoring.caps.{name}", "no criterion is in this group"))
    for key, (high, low) in {
        "fit_grades": ("A", "B"),
        "engagement_grades": ("1", "2"),
    }.items():
        grades = _string_keys(scoring.get(key))
        if isinstance(grades, dict):
            top, below = grades.get(high), grades.get(low)
            if isinstance(top, int) and isinstance(below, int) and top < below:
                errors.append(
                    FieldError(f"scoring.{key}.{high}", f"must not be below {low} ({below})")
                )
    return errors
