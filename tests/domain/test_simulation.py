"""The dry run: state evolves as in production, summaries, and the diff against live."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.config import Config, validate_config
from domain.simulation import SimulatedLead, simulate
from tests.domain.builders import MONDAY_NOON, lead, team_config


def stream(
    count: int, every: timedelta = timedelta(minutes=10), **fields: object
) -> list[SimulatedLead]:
    return [
        SimulatedLead(row, lead(**fields), MONDAY_NOON + every * (row - 2))
        for row in range(2, count + 2)
    ]


def test_every_lead_gets_a_decision_in_arrival_order() -> None:
    items = stream(5)
    shuffled = [items[3], items[0], items[4], items[2], items[1]]
    result = simulate(shuffled, team_config([1, 1]))
    assert [entry.item.row for entry in result.routed] == [2, 3, 4, 5, 6]
    assert [entry.decision.owner for entry in result.routed] == [
        "U0REP0",
        "U0REP1",
        "U0REP0",
        "U0REP1",
        "U0REP0",
    ]
    assert result.changes is None


def test_same_time_leads_keep_their_row_order() -> None:
    items = [SimulatedLead(row, lead(), MONDAY_NOON) for row in (9, 3, 5)]
    result = simulate(items, team_config([1]))
    assert [entry.item.row for entry in result.routed] == [3, 5, 9]


def test_open_leads_grow_so_capacity_fills_and_the_rest_are_pulled() -> None:
    capped = team_config([1, 1], "round_robin", [{"capacity": 2}, {"capacity": 2}])
    result = simulate(stream(6), capped)
    owners = [entry.decision.owner for entry in result.routed]
    assert owners[:4] == ["U0REP0", "U0REP1", "U0REP0", "U0REP1"]
    assert owners[4:] == [None, None]
    assert result.nobody_eligible == 2
    assert result.routed[-1].decision.skipped[0].reason == "at capacity (2/2 open leads)"
    (team,) = result.teams
    assert (team.leads, team.assigned, team.queued) == (6, 4, 2)


def test_leads_can_be_worked_off_after_a_while() -> None:
    capped = team_config([1], "round_robin", [{"capacity": 1}])
    hourly = stream(4, timedelta(hours=1))
    assert simulate(hourly, capped, open_for=timedelta(minutes=59)).nobody_eligible == 0
    assert simulate(hourly, capped, open_for=timedelta(minutes=61)).nobody_eligible == 2


def test_the_summary_shows_shares_against_weights_and_gini() -> None:
    result = simulate(stream(400), team_config([3, 1]))
    (team,) = result.teams
    assert team.gini == pytest.approx(0.25)
    senior, junior = team.members
    assert (senior.count, junior.count) == (300, 100)
    assert senior.share == pytest.approx(0.75) and senior.weight_share == pytest.approx(0.75)
    assert junior.expected == pytest.approx(100)
    assert [(rep.user, rep.count) for rep in result.reps] == [("U0REP0", 300), ("U0REP1", 100)]
    assert result.gini == pytest.approx(0.25)


def test_reps_with_no_leads_count_in_the_gini_but_inactive_reps_do_not() -> None:
    on_leave = {"pto": [{"from": "2026-03-01", "to": "2026-03-31"}]}
    away = team_config([1, 1, 1, 1], "round_robin", [{}, {}, on_leave, {"active": False}])
    result = simulate(stream(10), away)
    assert [(rep.user, rep.count) for rep in result.reps][2:] == [("U0REP2", 0)]
    assert result.gini == pytest.approx(1 / 3)


def two_team_config(enterprise_rule: str) -> Config:
    return validate_config(
        {
            "reps": [{"user": user} for user in ("U0JANE", "U0KEN", "U0SAM", "U0TEO")],
            "teams": [
                {"name": "enterprise", "members": [{"user": "U0JANE"}, {"user": "U0KEN"}]},
                {"name": "sdr", "members": [{"user": "U0SAM"}, {"user": "U0TEO"}]},
            ],
            "rules": [
                {
                    "name": "enterprise",
                    "when": {"employees": {"gte": enterprise_rule}},
                    "then": {"team": "enterprise"},
                },
                {"name": "rest", "then": {"team": "sdr"}},
            ],
        }
    )


def test_the_diff_lists_leads_whose_team_or_owner_would_change() -> None:
    live, candidate = two_team_config(500), two_team_config(200)
    items = [
        SimulatedLead(2, lead(employees=1000), MONDAY_NOON),
        SimulatedLead(3, lead(employees=300), MONDAY_NOON),
        SimulatedLead(4, lead(employees=10), MONDAY_NOON),
        SimulatedLead(5, lead(employees=2000), MONDAY_NOON),
    ]
    result = simulate(items, candidate, live)
    changes = result.changes
    assert changes is not None
    # Row 3 moves team; rows 4 and 5 change owner because the rotations shift.
    assert [(c.item.row, c.team_changed) for c in changes] == [(3, True), (4, False), (5, False)]
    moved = changes[0]
    assert (moved.live.team, moved.live.owner) == ("sdr", "U0SAM")
    assert (moved.candidate.team, moved.candidate.owner) == ("enterprise", "U0KEN")


def test_the_same_configuration_changes_nothing_and_is_deterministic() -> None:
    mornings = {"working_hours": {"mon-fri": "09:00-12:00"}}
    config = team_config([2, 1, 1], "weighted", [{}, mornings, {}])
    items = stream(50, timedelta(minutes=37))
    result = simulate(items, config, config.model_copy(deep=True))
    assert result.changes == ()
    again = simulate(items, config)
    assert [e.decision for e in again.routed] == [e.decision for e in result.routed]


def test_unrouted_leads_are_counted() -> None:
    result = simulate(stream(3), Config())
    assert result.unrouted == 3 and result.teams == () and result.gini == 0.0


def test_leads_in_the_same_second_still_fill_capacity() -> None:
    """A rep's verdict of a moment was memoised for the whole replay: the second lead of
    the same second went to a rep whose capacity the first had just filled."""
    capped = team_config([1, 1], "round_robin", [{"capacity": 1}, {"capacity": 1}])
    result = simulate([SimulatedLead(row, lead(), MONDAY_NOON) for row in range(2, 6)], capped)
    assert [entry.decision.owner for entry in result.routed] == ["U0REP0", "U0REP1", None, None]
