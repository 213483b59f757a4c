"""Properties of routing over random teams, weights, availability and lead streams."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.availability import unavailable_reason
from domain.config import Config
from domain.lead import Method
from tests.domain.builders import MONDAY_NOON, Router, lead, team_config

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"]
HOURS = [None, {"mon-fri": "09:00-17:30"}, {"mon-sun": "00:00-12:00"}, {"sat,sun": "10:00-14:00"}]

rep_data = st.fixed_dictionaries(
    {
        "timezone": st.sampled_from(ZONES),
        "working_hours": st.sampled_from(HOURS),
        "capacity": st.one_of(st.none(), st.integers(0, 6)),
        "active": st.booleans(),
        "pto": st.lists(
            st.tuples(st.integers(0, 10), st.integers(0, 3)).map(
                lambda span: {
                    "from": (MONDAY_NOON + timedelta(days=span[0])).date().isoformat(),
                    "to": (MONDAY_NOON + timedelta(days=span[0] + span[1])).date().isoformat(),
                }
            ),
            max_size=2,
        ),
    }
).map(lambda data: {key: value for key, value in data.items() if value is not None})

teams = (
    st.integers(1, 7)
    .flatmap(
        lambda size: st.tuples(
            st.lists(st.integers(1, 5), min_size=size, max_size=size),
            st.lists(rep_data, min_size=size, max_size=size),
            st.sampled_from(["round_robin", "weighted", "least_loaded"]),
        )
    )
    .filter(lambda team: any(rep.get("capacity") != 0 for rep in team[1]))
)
"""A team where every capacity is 0 is refused by validation (nobody could ever take a
lead); PTO, shifts and open leads still leave nobody eligible at times."""
streams = st.lists(st.integers(0, 600), min_size=1, max_size=60)
"""Minutes between consecutive leads: a stream over up to a couple of weeks."""


def times(gaps: list[int]) -> list[datetime]:
    moments, now = [], MONDAY_NOON
    for gap in gaps:
        now += timedelta(minutes=gap)
        moments.append(now)
    return moments


def rep_config(config: Config, user: str) -> Any:
    rep = config.rep(user)
    assert rep is not None
    return rep


@settings(max_examples=300, deadline=None)
@given(teams, streams)
def test_no_lead_ever_goes_to_an_unavailable_rep_and_none_is_dropped(
    team: tuple[list[int], list[dict[str, Any]], str], gaps: list[int]
) -> None:
    weights, reps, strategy = team
    config = team_config(weights, strategy, reps)
    router = Router(config)
    for now in times(gaps):
        open_before = dict(router.open_leads)
        decision = router.route(lead(), now)
        assert decision.team == "sales"
        if decision.owner is None:
            assert decision.nobody_eligible and decision.method is Method.PULL
            assert decision.channel == "C0SALES" and decision.manager == "U0BOSS"
            assert not decision.candidates
            continue
        rep = rep_config(config, decision.owner)
        assert unavailable_reason(rep, now, open_before.get(decision.owner, 0)) is None
        assert decision.owner in decision.candidates
        for skip in decision.skipped:
            skipped = rep_config(config, skip.user)
            assert unavailable_reason(skipped, now, open_before.get(skip.user, 0)) == skip.reason


constant_teams = st.lists(st.tuples(st.integers(1, 9), st.booleans()), min_size=1, max_size=9)
"""(weight, active) per rep: some reps may be away, but for the whole stream."""


def constant_stream(
    members: list[tuple[int, bool]], strategy: str
) -> tuple[Router, dict[str, int]]:
    weights = [weight for weight, _ in members]
    reps = [{"active": active} for _, active in members]
    config = team_config(weights, strategy, reps)
    router = Router(config)
    eligible = {f"U0REP{i}": w for i, (w, active) in enumerate(members) if active}
    return router, eligible


@settings(max_examples=200, deadline=None)
@given(constant_teams, st.integers(1, 120))
def test_round_robin_counts_never_differ_by_more_than_one(
    members: list[tuple[int, bool]], leads: int
) -> None:
    router, eligible = constant_stream(members, "round_robin")
    counts: Counter[str] = Counter()
    for _ in range(leads):
        decision = router.route(lead())
        if not eligible:
            assert decision.nobody_eligible
            continue
        counts[decision.owner or ""] += 1
        spread = [counts[user] for user in eligible]
        assert max(spread) - min(spread) <= 1


@settings(max_examples=200, deadline=None)
@given(constant_teams, st.integers(1, 150))
def test_weighted_counts_stay_within_one_lead_of_their_share_at_every_prefix(
    members: list[tuple[int, bool]], leads: int
) -> None:
    router, eligible = constant_stream(members, "weighted")
    total = sum(eligible.values())
    counts: Counter[str] = Counter()
    for n in range(1, leads + 1):
        decision = router.route(lead())
        if not eligible:
            continue
        counts[decision.owner or ""] += 1
        for user, weight in eligible.items():
            assert abs(counts[user] - n * weight / total) < 1


@settings(max_examples=200, deadline=None)
@given(teams, streams, st.lists(st.integers(0, 5), min_size=7, max_size=7))
def test_least_loaded_never_picks_a_rep_with_more_open_leads_than_another_eligible_one(
    team: tuple[list[int], list[dict[str, Any]], str], gaps: list[int], initial: list[int]
) -> None:
    weights, reps, _ = team
    router = Router(team_config(weights, "least_loaded", reps))
    router.open_leads = {f"U0REP{i}": load for i, load in enumerate(initial[: len(weights)])}
    for now in times(gaps):
        load = dict(router.open_leads)
        decision = router.route(lead(), now)
        if decision.owner is not None:
            chosen = load.get(decision.owner, 0)
            assert all(chosen <= load.get(user, 0) for user in decision.candidates)


@settings(max_examples=100, deadline=None)
@given(teams, streams)
def test_decisions_are_deterministic_for_the_same_input(
    team: tuple[list[int], list[dict[str, Any]], str], gaps: list[int]
) -> None:
    weights, reps, strategy = team
    config = team_config(weights, strategy, reps)
    first, second = Router(config), Router(config.model_copy(deep=True))
    for now in times(gaps):
        assert first.route(lead(), now) == second.route(lead(), now)
