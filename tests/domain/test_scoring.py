"""The scoring model: points add up, caps and decay hold, grades are monotonic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import dump_config, load_config, validate_config
from domain.errors import InvalidInput
from domain.lead import parse_lead
from domain.routing import RoutingState, route
from domain.scoring import Activity, crossings, decay, grade, intake_activity, score_lead
from domain.scoring_config import ScoringConfig
from tests.domain.scoring_model import MODEL, NOW


def model(**overrides: Any) -> ScoringConfig:
    return ScoringConfig.model_validate({**MODEL, **overrides})


def lead_facts(**fields: Any) -> dict[str, Any]:
    return parse_lead({"email": "buyer@gmail.com", **fields}).facts()


def views(count: int, kind: str = "pricing_page", age: timedelta = timedelta(0)) -> list[Activity]:
    return [Activity(kind, NOW - age) for _ in range(count)]


def test_the_card_line_reads_like_the_issue() -> None:
    facts = lead_facts(employees=800, industry="healthcare")
    scoring = score_lead(model(), facts, views(3), NOW)
    assert (
        scoring.summary()
        == "A2 · 58: +30 500+ employees, +20 healthcare, +18 pricing page x3, -10 free email"
    )
    assert scoring.fit == 40 and scoring.engagement == 18
    assert scoring.mql is True and scoring.decided_by == "model"


def test_a_group_cap_holds_and_says_so() -> None:
    scoring = score_lead(model(), lead_facts(), views(10), NOW)
    assert [r.signed() for r in scoring.reasons] == [
        "-10 free email",
        "+24 pricing page x10 (capped)",
    ]
    assert scoring.engagement == 24


def test_engagement_halves_every_half_life() -> None:
    fresh = score_lead(model(), lead_facts(), views(1, "webinar_attended"), NOW)
    aged = score_lead(model(), lead_facts(), views(1, "webinar_attended", timedelta(days=30)), NOW)
    older = score_lead(model(), lead_facts(), views(1, "webinar_attended", timedelta(days=60)), NOW)
    assert (fresh.engagement, aged.engagement, older.engagement) == (10, 5, 2)


def test_the_score_is_held_inside_0_to_100_with_a_reason() -> None:
    low = score_lead(model(), lead_facts(), [], NOW)
    assert low.score == 0 and [r.signed() for r in low.reasons] == [
        "-10 free email",
        "+10 held at 0",
    ]
    high = score_lead(
        model(caps={}),
        lead_facts(employees=900, industry="healthcare", attributes={"seniority": "VP"}),
        views(5, "webinar_attended") + views(2, "demo_request"),
        NOW,
    )
    assert high.score == 100 and sum(r.points for r in high.reasons) == 100
    assert high.reasons[-1].reason == "held at 100"


def test_the_sender_decides_unless_the_model_does() -> None:
    facts = lead_facts()
    by_sender = score_lead(model(decides="sender"), facts, [], NOW, sender_score=90)
    assert by_sender.mql is True and by_sender.decided_by == "sender" and by_sender.score == 0
    without = score_lead(model(decides="sender"), facts, [], NOW, sender_score=None)
    assert without.mql is False and without.decided_by == "model"
    by_model = score_lead(model(), facts, [], NOW, sender_score=90)
    assert by_model.mql is False


def test_sender_points_count_for_kinds_the_model_does_not_know() -> None:
    scoring = score_lead(model(), lead_facts(), [Activity("trade_show_visit", NOW, points=12)], NOW)
    assert scoring.reasons[-1].signed() == "+12 trade show visit"
    assert score_lead(model(), lead_facts(), [Activity("unknown_thing", NOW)], NOW).engagement == 0


def test_the_intake_counts_as_an_activity_of_its_lead_type() -> None:
    scoring = score_lead(model(), lead_facts(), [intake_activity("demo_request", NOW)], NOW)
    assert "+25 demo request" in [r.signed() for r in scoring.reasons]


def test_future_activity_counts_as_new() -> None:
    assert decay(8, timedelta(hours=-3), timedelta(days=1)) == 8


def test_crossings_name_each_threshold_once() -> None:
    scoring_model = model()
    cold = score_lead(scoring_model, lead_facts(employees=800), [], NOW)
    warm = score_lead(scoring_model, lead_facts(employees=800), views(2), NOW)
    hot = score_lead(scoring_model, lead_facts(employees=800), views(3, "webinar_attended"), NOW)
    assert [c.key for c in crossings(scoring_model, cold, warm)] == ["engagement-2"]
    assert [c.key for c in crossings(scoring_model, warm, hot)] == ["mql", "engagement-1"]
    assert crossings(scoring_model, hot, hot) == []
    assert [c.key for c in crossings(scoring_model, cold, hot)] == [
        "mql",
        "engagement-2",
        "engagement-1",
    ]


# --- properties -------------------------------------------------------------------------

criteria_points = st.integers(min_value=-100, max_value=100)


@st.composite
def models_and_inputs(draw: st.DrawFn) -> tuple[ScoringConfig, dict[str, Any], list[Activity]]:
    kinds = ["a", "b", "c", "d"]
    groups = [None, "g1", "g2"]
    fit = [
        {
            "label": f"fit {index}",
            "when": {"employees": {"gte": draw(st.integers(0, 1000))}},
            "points": draw(criteria_points),
            "group": draw(st.sampled_from(groups)),
        }
        for index in range(draw(st.integers(0, 5)))
    ]
    engagement = [
        {
            "label": f"eng {kind}",
            "activity": kind,
            "points": draw(criteria_points),
            "group": draw(st.sampled_from(groups)),
        }
        for kind in draw(st.lists(st.sampled_from(kinds), unique=True))
    ]
    used = {c["group"] for c in fit + engagement} - {None}
    caps = {group: draw(st.integers(0, 100)) for group in used if draw(st.booleans())}
    scoring_model = ScoringConfig.model_validate(
        {
            "decides": "model",
            "fit": fit,
            "engagement": engagement,
            "caps": caps,
            "half_life": draw(st.sampled_from([None, "1h", "7d"])),
        }
    )
    activities = [
        Activity(
            draw(st.sampled_from([*kinds, "other"])),
            NOW - timedelta(minutes=draw(st.integers(-60, 60 * 24 * 30))),
            draw(st.one_of(st.none(), criteria_points)),
        )
        for _ in range(draw(st.integers(0, 12)))
    ]
    facts = lead_facts(employees=draw(st.integers(0, 2000)))
    return scoring_model, facts, activities


@given(models_and_inputs())
def test_the_explanation_adds_up_to_the_score(case: tuple[ScoringConfig, dict, list]) -> None:
    scoring_model, facts, activities = case
    scoring = score_lead(scoring_model, facts, activities, NOW)
    assert sum(reason.points for reason in scoring.reasons) == scoring.score
    assert 0 <= scoring.score <= 100
    assert scoring.fit == sum(r.points for r in scoring.reasons if r.part == "fit")
    assert scoring.engagement == sum(r.points for r in scoring.reasons if r.part == "engagement")
    assert all(reason.points != 0 for reason in scoring.reasons)


@given(models_and_inputs())
def test_caps_hold(case: tuple[ScoringConfig, dict, list]) -> None:
    scoring_model, facts, activities = case
    scoring = score_lead(scoring_model, facts, activities, NOW)
    by_label = {c.label: c.group for c in [*scoring_model.fit, *scoring_model.engagement]}
    for group, cap in scoring_model.caps.items():
        positive = sum(
            r.points
            for r in scoring.reasons
            if r.points > 0
            and by_label.get(r.reason.split(" x")[0].removesuffix(" (capped)")) == group
        )
        assert positive <= cap


@given(
    st.lists(st.integers(1, 100), min_size=1, max_size=8),
    st.integers(0, 24 * 90),
    st.integers(1, 24 * 30),
)
def test_decay_never_grows_and_halves_per_half_life(
    points: list[int], hours: int, more: int
) -> None:
    half_life = timedelta(days=7)
    total_then = sum(decay(p, timedelta(hours=hours), half_life) for p in points)
    total_later = sum(decay(p, timedelta(hours=hours + more), half_life) for p in points)
    assert total_later < total_then
    one_more = sum(decay(p, timedelta(hours=hours) + half_life, half_life) for p in points)
    assert one_more == pytest.approx(total_then / 2)


@given(st.integers(-300, 300), st.integers(-300, 300), st.integers(-300, 300), st.integers(0, 50))
def test_grade_is_monotonic_in_each_score(fit: int, engagement: int, other: int, step: int) -> None:
    scoring_model = model()
    assert (
        grade(scoring_model, fit + step, engagement)[0] <= grade(scoring_model, fit, engagement)[0]
    )
    assert (
        grade(scoring_model, fit, engagement + step)[1] <= grade(scoring_model, fit, engagement)[1]
    )
    assert grade(scoring_model, fit, other)[0] == grade(scoring_model, fit, engagement)[0]


# --- configuration ----------------------------------------------------------------------


def test_a_configuration_without_scoring_scores_nothing() -> None:
    assert validate_config({}).scoring is None


def test_the_model_round_trips_through_export() -> None:
    config = validate_config({"scoring": MODEL})
    again = load_config(dump_config(config))
    assert again == config
    assert again.scoring is not None and again.scoring.engagement_grades.hot == 30


def test_scoring_errors_name_their_paths() -> None:
    bad = {
        **MODEL,
        "fit": [{"label": "x", "when": {"employes": 5, "grade": "A1"}, "points": 5}],
        "caps": {"nowhere": 5},
        "fit_grades": {"A": 10, "B": 20},
        "always_route": ["teleport"],
        "half_life": "0s",
    }
    with pytest.raises(InvalidInput) as caught:
        validate_config({"scoring": bad})
    paths = {error.path for error in caught.value.errors}
    assert {
        "scoring.fit[0].when.employes",
        "scoring.fit[0].when.grade",
        "scoring.caps.nowhere",
        "scoring.fit_grades.A",
        "scoring.always_route[0]",
        "scoring.half_life",
    } <= paths


def test_rules_may_test_scores_only_when_something_scores() -> None:
    teams = [{"name": "sales", "members": [{"user": "U0REP"}]}]
    rules = [
        {
            "name": "hot",
            "when": {"grade": {"in": ["A1", "A2"]}, "mql": True},
            "then": {"team": "sales"},
        },
        {"name": "rest", "then": {"team": "sales"}},
    ]
    reps = [{"user": "U0REP"}]
    validate_config({"reps": reps, "teams": teams, "rules": rules, "scoring": MODEL})
    with pytest.raises(InvalidInput) as caught:
        validate_config({"reps": reps, "teams": teams, "rules": rules})
    assert {e.path for e in caught.value.errors} == {"rules[0].when.grade", "rules[0].when.mql"}


def test_rules_route_on_the_grade() -> None:
    config = validate_config(
        {
            "reps": [{"user": "U0SENIOR"}, {"user": "U0SDR"}],
            "teams": [
                {"name": "senior", "members": [{"user": "U0SENIOR"}]},
                {"name": "sdr", "members": [{"user": "U0SDR"}]},
            ],
            "rules": [
                {"name": "A-grade", "when": {"grade": {"prefix": "A"}}, "then": {"team": "senior"}},
                {"name": "rest", "then": {"team": "sdr"}},
            ],
            "scoring": MODEL,
        }
    )
    assert config.scoring is not None
    lead = parse_lead({"email": "cto@bigcorp.com", "employees": 800, "industry": "healthcare"})
    scoring = score_lead(config.scoring, lead.facts(), [], NOW)
    decision = route(lead, config, RoutingState(), NOW, scores=scoring.facts())
    assert decision.team == "senior" and "grade starts with A" in decision.reasons[0]
    assert route(lead, config, RoutingState(), NOW).team == "sdr"
