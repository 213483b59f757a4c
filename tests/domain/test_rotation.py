"""The rotation itself: quota method exactness, the away policy, least loaded ties."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rotation import (
    PER_LEAD,
    Candidate,
    credit_in_leads,
    least_loaded_pick,
    quota_pick,
)


def candidates(weights: Sequence[int], users: Sequence[str] | None = None) -> list[Candidate]:
    names = users or [f"U0R{index}" for index in range(len(weights))]
    return [Candidate(user, weight, 0, None) for user, weight in zip(names, weights, strict=True)]


TEAM = {f"U0R{index}" for index in range(12)}


def run(
    pool: list[Candidate], leads: int, credits: dict[str, int] | None = None
) -> tuple[list[str], dict[str, int]]:
    """Route `leads` leads to `pool`, the available part of a team of up to 12 reps."""
    roster = TEAM | {candidate.user for candidate in pool}
    state = credits or {}
    chosen = []
    for _ in range(leads):
        user, state = quota_pick(pool, state, roster)
        chosen.append(user)
    return chosen, state


def assert_within_quota(pool: list[Candidate], chosen: list[str]) -> None:
    """After every lead, each rep holds strictly within one lead of N * w / W."""
    total = sum(candidate.weight for candidate in pool)
    counts: Counter[str] = Counter()
    for leads, user in enumerate(chosen, start=1):
        counts[user] += 1
        for candidate in pool:
            off = abs(counts[candidate.user] * total - leads * candidate.weight)
            assert off < total, (leads, candidate, counts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 100), min_size=1, max_size=12), st.integers(1, 300))
def test_quota_method_stays_within_one_lead_at_every_prefix(weights: list[int], n: int) -> None:
    pool = candidates(weights)
    chosen, _ = run(pool, n)
    assert_within_quota(pool, chosen)


def test_where_nginx_smooth_round_robin_drifts_past_one_lead_the_quota_method_does_not() -> None:
    # Nginx's "richest takes it" is 1.02 leads off N*w/W somewhere in the first 100 leads.
    pool = candidates([1, 19, 3, 7, 19, 1])
    chosen, _ = run(pool, 100)
    assert_within_quota(pool, chosen)


def test_equal_weights_rotate_in_member_order() -> None:
    chosen, _ = run(candidates([1, 1, 1]), 7)
    assert chosen == ["U0R0", "U0R1", "U0R2", "U0R0", "U0R1", "U0R2", "U0R0"]


def test_three_to_one_gives_three_leads_for_every_one() -> None:
    chosen, _ = run(candidates([3, 1], ["U0SENIOR", "U0JUNIOR"]), 8)
    assert Counter(chosen[:4]) == {"U0SENIOR": 3, "U0JUNIOR": 1}
    assert Counter(chosen) == {"U0SENIOR": 6, "U0JUNIOR": 2}


def test_credits_are_json_integers_that_survive_a_round_trip() -> None:
    pool = candidates([3, 2, 1])
    _, credits = run(pool, 5)
    assert all(isinstance(value, int) for value in credits.values())
    assert json.loads(json.dumps(credits)) == credits
    first, _ = quota_pick(pool, credits, {c.user for c in pool})
    again, _ = quota_pick(pool, json.loads(json.dumps(credits)), {c.user for c in pool})
    assert first == again


def test_credits_measure_leads_owed_and_sum_to_zero() -> None:
    pool = candidates([1, 1])
    _, credits = run(pool, 1)
    assert credits[PER_LEAD] == 2_000_000
    assert credit_in_leads(credits, "U0R0") == pytest.approx(-0.5)
    assert credit_in_leads(credits, "U0R1") == pytest.approx(0.5)
    assert credit_in_leads({}, "U0R1") == 0.0


def test_an_away_rep_keeps_their_credit_frozen() -> None:
    pool = candidates([1, 1, 1])
    _, credits = run(pool, 1)  # U0R0 took the first lead: R1 and R2 are owed a third each
    owed = credits["U0R1"] / credits[PER_LEAD]
    present = [c for c in pool if c.user != "U0R1"]
    _, credits = run(present, 25, credits)
    assert credits["U0R1"] / credits[PER_LEAD] == pytest.approx(owed, abs=1e-6)


def test_a_rep_back_from_a_long_absence_gets_one_turn_not_a_flood() -> None:
    pool = candidates([1, 1, 1])
    _, credits = run(pool, 2)  # R0 and R1 served: R2 is next
    _, credits = run(pool[:2], 300, credits)  # R2 away for 300 leads
    chosen, _ = run(pool, 6, credits)
    assert chosen[0] == "U0R2"  # their turn was kept: no penalty
    assert Counter(chosen) == {"U0R0": 2, "U0R1": 2, "U0R2": 2}  # and no flood


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.integers(1, 10), min_size=2, max_size=8),
    pattern=st.lists(st.lists(st.booleans(), min_size=8, max_size=8), min_size=1, max_size=60),
    after=st.integers(1, 60),
)
def test_after_any_absences_nobody_is_flooded(
    weights: list[int], pattern: list[list[bool]], after: int
) -> None:
    """Whatever the availability history, once everyone is back, no rep gets more than
    two leads beyond their weighted share of what follows."""
    pool = candidates(weights)
    roster = {c.user for c in pool}
    credits: dict[str, int] = {}
    for present in pattern:
        eligible = [c for c, here in zip(pool, present, strict=False) if here]
        if eligible:
            _, credits = quota_pick(eligible, credits, roster)
    chosen, _ = run(pool, after, credits)
    counts = Counter(chosen)
    total = sum(weights)
    for candidate in pool:
        assert counts[candidate.user] <= after * candidate.weight / total + 2


def test_a_change_of_eligible_weight_rescales_credits_without_losing_them() -> None:
    pool = candidates([2, 1, 1])
    _, credits = run(pool, 3)
    before = {c.user: credit_in_leads(credits, c.user) for c in pool}
    user, after = quota_pick(pool[:2], credits, {c.user for c in pool})
    assert after[PER_LEAD] == 3_000_000
    assert credit_in_leads(after, "U0R2") == pytest.approx(before["U0R2"], abs=1e-6)
    moved = {c.user: credit_in_leads(after, c.user) - before[c.user] for c in pool[:2]}
    assert moved[user] == pytest.approx(2 / 3 - 1 if user == "U0R0" else 1 / 3 - 1, abs=1e-6)


def test_credits_of_reps_no_longer_in_the_team_are_dropped() -> None:
    pool = candidates([1, 1])
    _, credits = run(pool, 3)
    _, credits = quota_pick(pool[:1], credits, {"U0R0"})
    assert set(credits) == {"U0R0", PER_LEAD}


def test_an_unknown_or_empty_state_starts_fresh() -> None:
    pool = candidates([1, 1])
    assert quota_pick(pool, {"U0R1": 5}, {"U0R0", "U0R1"})[0] == "U0R0"
    with pytest.raises(ValueError, match="no candidates"):
        quota_pick([], {}, set())


def at(minutes: int) -> datetime:
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)


def test_least_loaded_takes_the_fewest_open_leads() -> None:
    pool = [Candidate("U0A", 1, 4, at(0)), Candidate("U0B", 1, 2, at(5))]
    assert least_loaded_pick(pool) == "U0B"


def test_least_loaded_ties_go_to_the_longest_wait_and_never_assigned_first() -> None:
    waited = [Candidate("U0A", 1, 2, at(10)), Candidate("U0B", 1, 2, at(1))]
    assert least_loaded_pick(waited) == "U0B"
    never = [*waited, Candidate("U0C", 1, 2, None)]
    assert least_loaded_pick(never) == "U0C"
    same = [Candidate("U0A", 1, 2, None), Candidate("U0B", 1, 2, None)]
    assert least_loaded_pick(same) == "U0A"
    with pytest.raises(ValueError):
        least_loaded_pick([])
