"""Scoring: the configured model, a lead and its activities at a time -> fit, engagement,
grade, MQL and the reasons, whose points add up to the score.

Sales trusts a score it can read, so every point is a reason: a criterion's points after
decay and caps, rounded per criterion, and an explicit line when the total is held
inside 0-100. Pure: `now` is a parameter, so a test can age engagement by a year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from domain.identity_cache import IdentityCache
from domain.scoring_config import EngagementCriterion, ScoringConfig

MAX_SCORE = 100
CARD_REASONS = 4
"""Reasons shown on the card's one line; the lead's page lists them all."""

Part = Literal["fit", "engagement", "bounds"]


@dataclass(frozen=True)
class Activity:
    """Behaviour after (or at) intake: a page view, an email click, a webinar attended.
    `points`, when the sender gives them, replace the matching criterion's points."""

    kind: str
    at: datetime
    points: int | None = None


@dataclass(frozen=True)
class ScoreReason:
    points: int
    reason: str
    part: Part

    def signed(self) -> str:
        return f"{self.points:+d} {self.reason}"


@dataclass(frozen=True)
class Scoring:
    """A lead's score, grade and MQL verdict, and why."""

    fit: int
    engagement: int
    score: int
    """The model's score, 0-100: exactly the sum of the reasons' points."""
    grade: str
    mql: bool
    decided_by: Literal["model", "sender"]
    reasons: tuple[ScoreReason, ...]

    def facts(self) -> dict[str, Any]:
        """What routing rules may test (see domain.conditions.SCORE_FIELDS)."""
        return {
            "grade": self.grade,
            "fit_score": self.fit,
            "engagement_score": self.engagement,
            "mql": self.mql,
        }

    def top_reasons(self, count: int = CARD_REASONS) -> list[ScoreReason]:
        """The reasons that moved the score most, biggest first (ties in model order)."""
        ranked = sorted(self.reasons, key=lambda reason: -abs(reason.points))
        return ranked[:count]

    def summary(self, count: int = CARD_REASONS) -> str:
        """`A2 · 78: +30 500+ employees, +20 healthcare, +18 pricing page x3, -10 free email`.
        Reason labels are configuration text, but the caller still escapes the line."""
        shown = ", ".join(reason.signed() for reason in self.top_reasons(count))
        head = f"{self.grade} · {self.score}"
        return f"{head}: {shown}" if shown else head

    def to_record(self) -> dict[str, Any]:
        """JSON-ready form for storage and the API."""
        return {
            "fit_score": self.fit,
            "engagement_score": self.engagement,
            "model_score": self.score,
            "grade": self.grade,
            "mql": self.mql,
            "decided_by": self.decided_by,
            "score_reasons": [
                {"points": r.points, "reason": r.reason, "part": r.part} for r in self.reasons
            ],
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Scoring:
        return cls(
            fit=record["fit_score"],
            engagement=record["engagement_score"],
            score=record["model_score"],
            grade=record["grade"],
            mql=record["mql"],
            decided_by=record["decided_by"],
            reasons=tuple(
                ScoreReason(item["points"], item["reason"], item["part"])
                for item in record["score_reasons"]
            ),
        )


def score_lead(
    model: ScoringConfig,
    facts: Mapping[str, Any],
    activities: Sequence[Activity],
    now: datetime,
    sender_score: int | None = None,
) -> Scoring:
    """Score one lead. `facts` are the lead's rule facts (`LeadInput.facts()`, plus
    `account_owner` when known); `sender_score` is the `score` the sender typed."""
    plan = _plan(model)
    get = facts.get
    fit_parts = []
    for criterion, tests in plan.fit:  # plain loops: this runs for every lead at intake
        for name, test in tests:
            if not test(get(name)):
                break
        else:
            fit_parts.append((criterion.group, criterion.points, criterion.label))
    engagement_parts = list(_engagement_parts(model, plan, activities, now))
    remaining = dict(model.caps)
    fit_reasons = _capped(fit_parts, remaining, "fit")
    engagement_reasons = _capped(engagement_parts, remaining, "engagement")
    fit = sum(reason.points for reason in fit_reasons)
    engagement = sum(reason.points for reason in engagement_reasons)
    reasons = fit_reasons + engagement_reasons
    total = fit + engagement
    if total > MAX_SCORE:
        reasons.append(ScoreReason(MAX_SCORE - total, f"held at {MAX_SCORE}", "bounds"))
    elif total < 0:
        reasons.append(ScoreReason(-total, "held at 0", "bounds"))
    score = min(max(total, 0), MAX_SCORE)
    use_sender = model.decides == "sender" and sender_score is not None
    deciding = sender_score if use_sender and sender_score is not None else score
    return Scoring(
        fit=fit,
        engagement=engagement,
        score=score,
        grade=grade(model, fit, engagement),
        mql=deciding >= model.mql_at,
        decided_by="sender" if use_sender else "model",
        reasons=tuple(reasons),
    )


def grade(model: ScoringConfig, fit: int, engagement: int) -> str:
    """A/B/C for fit, 1/2/3 for engagement (A1 best): `A2`."""
    letter = "A" if fit >= model.fit_grades.a else "B" if fit >= model.fit_grades.b else "C"
    heat = engagement_level(model, engagement)
    return f"{letter}{heat}"


def engagement_level(model: ScoringConfig, engagement: int) -> int:
    """1 (hot), 2 (warm) or 3 (cold)."""
    thresholds = model.engagement_grades
    return 1 if engagement >= thresholds.hot else 2 if engagement >= thresholds.warm else 3


def decay(points: float, age: timedelta, half_life: timedelta | None) -> float:
    """Points an activity of this age still counts; activity stamped in the future counts
    as new (a sender's clock may run ahead)."""
    if half_life is None or age <= timedelta(0):
        return points
    return points * 0.5 ** (age / half_life)


def _engagement_parts(
    model: ScoringConfig, plan: _Plan, activities: Iterable[Activity], now: datetime
) -> Iterable[tuple[str | None, int, str]]:
    """(group, points, label) per engagement criterion with any activity, then one per
    unmatched kind whose sender gave points. Decay is summed per criterion and rounded
    once, so `pricing page x3` is one reason."""
    sums: dict[int, tuple[float, int]] = {}
    unmatched: dict[str, tuple[float, int]] = {}
    for activity in activities:
        criterion = plan.by_kind.get(activity.kind)
        if activity.points is not None:
            base = activity.points
        elif criterion is not None:
            base = criterion.points
        else:
            continue
        points = decay(base, now - activity.at, model.half_life)
        if criterion is None:
            total, count = unmatched.get(activity.kind, (0.0, 0))
            unmatched[activity.kind] = (total + points, count + 1)
        else:
            total, count = sums.get(id(criterion), (0.0, 0))
            sums[id(criterion)] = (total + points, count + 1)
    for criterion in model.engagement:
        if id(criterion) in sums:
            total, count = sums[id(criterion)]
            yield criterion.group, round(total), _counted(criterion.label, count)
    for kind, (total, count) in unmatched.items():
        yield None, round(total), _counted(kind.replace("_", " "), count)


class _Plan:
    """A model compiled once: fit conditions as (field, test) pairs and criteria by
    activity kind. Intake scores every lead, so nothing is parsed per lead."""

    def __init__(self, model: ScoringConfig):
        self.fit = tuple(
            (
                criterion,
                tuple((condition.field, condition.test) for condition in criterion.conditions()),
            )
            for criterion in model.fit
        )
        self.by_kind: dict[str, EngagementCriterion] = {}
        for criterion in model.engagement:
            for kind in criterion.activity:
                self.by_kind.setdefault(kind, criterion)


_plan: Callable[[ScoringConfig], _Plan] = IdentityCache(_Plan)
"""The plan for this model object (treated as immutable once scored, like routing's)."""


def intake_activity(lead_type: str, at: datetime) -> Activity:
    """The intake itself is behaviour: a demo request or a content download counts as one
    activity whose kind is the lead type, so engagement criteria can give it points."""
    return Activity(lead_type, at)


def _counted(label: str, count: int) -> str:
    return f"{label} x{count}" if count > 1 else label


def _capped(
    parts: Iterable[tuple[str | None, int, str]], remaining: dict[str, int], part: Part
) -> list[ScoreReason]:
    """Reasons with each group's positive points held to what is left of its cap, in
    model order; `remaining` carries across fit and engagement. Zero-point lines (fully
    capped, or decayed to nothing) are left out: they explain nothing."""
    reasons = []
    for group, points, label in parts:
        if points > 0 and group is not None and group in remaining:
            allowed = min(points, remaining[group])
            remaining[group] -= allowed
            if allowed < points:
                label = f"{label} (capped)"
            points = allowed
        if points:
            reasons.append(ScoreReason(points, label, part))
    return reasons


@dataclass(frozen=True)
class Crossing:
    """A threshold a re-scored lead has just risen past: worth one notice to its owner."""

    key: str
    """Stable per threshold (`mql`, `engagement-2`, `engagement-1`): the notice's dedup key."""
    text: str


def crossings(model: ScoringConfig, before: Scoring | None, after: Scoring) -> list[Crossing]:
    """Thresholds `after` is above and `before` was not: the MQL line and each engagement
    level (warm, hot)."""
    found = []
    if after.mql and not (before is not None and before.mql):
        found.append(Crossing("mql", f"crossed the MQL line ({model.mql_at})"))
    old_level = engagement_level(model, before.engagement) if before is not None else 3
    new_level = engagement_level(model, after.engagement)
    for level, name in ((2, "warm"), (1, "hot")):
        if new_level <= level < old_level:
            found.append(Crossing(f"engagement-{level}", f"engagement is {name} ({after.grade})"))
    return found
