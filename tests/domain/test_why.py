"""`/leads why`: a rep sees the rules, rotations and recent decisions that concern them."""

from __future__ import annotations

from datetime import timedelta

from domain.config import validate_config
from domain.routing import RoutingState
from domain.why import explain, why_lines
from tests.domain.builders import MONDAY_NOON, Router, lead

CONFIG = validate_config(
    {
        "reps": [
            {
                "user": "U0ANN",
                "timezone": "America/New_York",
                "working_hours": {"mon-fri": "09:00-17:30"},
                "capacity": 20,
                "pto": [
                    {"from": "2026-01-01", "to": "2026-01-02"},
                    {"from": "2026-12-24", "to": "2026-12-31"},
                ],
            },
            {"user": "U0BEN"},
            {"user": "U0CAT"},
        ],
        "teams": [
            {
                "name": "enterprise",
                "strategy": "weighted",
                "members": [{"user": "U0ANN", "weight": 3}, {"user": "U0BEN", "weight": 1}],
            },
            {"name": "sdr", "method": "pull", "channel": "C0SDR", "members": [{"user": "U0BEN"}]},
        ],
        "accounts": [{"domain": "acme.com", "owner": "U0ANN"}],
        "rules": [
            {
                "name": "accounts",
                "when": {"account_owner": True},
                "then": {"route_to": "account_owner"},
            },
            {"name": "big", "when": {"employees": {"gte": 500}}, "then": {"team": "enterprise"}},
            {"name": "others", "then": {"team": "sdr"}},
        ],
    }
)


def test_a_rep_sees_the_rules_that_can_route_to_them_in_order() -> None:
    mine = explain(CONFIG, "U0ANN", RoutingState(), MONDAY_NOON)
    assert [(r.position, r.rule, r.when, r.how) for r in mine.routes] == [
        (1, "accounts", "known account", "to you, as owner of acme.com"),
        (2, "big", "employees >= 500", "to team enterprise"),
    ]
    ben = explain(CONFIG, "U0BEN", RoutingState(), MONDAY_NOON)
    assert [r.rule for r in ben.routes] == ["big", "others"]


def test_weight_place_capacity_hours_and_upcoming_pto() -> None:
    mine = explain(CONFIG, "U0ANN", RoutingState(open_leads={"U0ANN": 4}), MONDAY_NOON)
    [team] = mine.teams
    assert (team.team, team.weight, team.total_weight, team.members) == ("enterprise", 3, 4, 2)
    assert team.place == 1
    assert (mine.open_leads, mine.capacity, mine.hours) == (4, 20, "mon-fri 09:00-17:30")
    assert mine.pto == ["2026-12-24 to 2026-12-31"]
    assert mine.available_now is None


def test_first_in_line_is_who_routing_picks_next() -> None:
    router = Router(CONFIG)
    for _ in range(12):
        state = RoutingState(credits=router.credits)
        first = [
            user
            for user in ("U0ANN", "U0BEN")
            if explain(CONFIG, user, state, MONDAY_NOON).teams[0].place == 1
        ]
        assert first == [router.route(lead(employees=900)).owner]


def test_pull_teams_have_no_place_in_line() -> None:
    ben = explain(CONFIG, "U0BEN", RoutingState(), MONDAY_NOON)
    assert [(t.team, t.place) for t in ben.teams] == [("enterprise", 2), ("sdr", None)]


def test_recent_leads_say_why_the_rep_got_them_or_was_skipped() -> None:
    router = Router(CONFIG)
    got = router.route(lead(employees=900)).to_record()
    off_shift = MONDAY_NOON + timedelta(hours=8)  # 20:00 in New York
    skipped = Router(CONFIG).route(lead(employees=900), off_shift).to_record()
    recent = [("L2", off_shift, skipped), ("L1", MONDAY_NOON, got)]
    mine = explain(CONFIG, "U0ANN", RoutingState(), off_shift, recent)
    assert [(r.lead_id, r.outcome) for r in mine.recent] == [("L2", "skipped"), ("L1", "assigned")]
    assert mine.recent[0].reason == ("rule “big”: you were off shift (Mon 20:00 America/New_York)")
    assert mine.recent[1].reason.startswith("rule “big”: Assigned to U0ANN: weighted rotation")
    assert mine.available_now == "off shift (Mon 20:00 America/New_York)"


def test_someone_not_configured_is_told_so() -> None:
    stranger = explain(CONFIG, "U0ZED", RoutingState(), MONDAY_NOON)
    assert (stranger.configured, stranger.routes, stranger.teams) == (False, [], [])
    assert stranger.available_now == "not a configured rep"


def test_the_explanation_reads_as_lines() -> None:
    lines = why_lines(explain(CONFIG, "U0BEN", RoutingState(open_leads={"U0BEN": 2}), MONDAY_NOON))
    assert lines[:3] == [
        "Rules that can route to you, in the order they are tried:",
        "  2. big (when employees >= 500) → to team enterprise",
        "  3. others (when every other lead) → to team sdr",
    ]
    assert "  enterprise: weighted, weight 1 of 4, you are 2nd of 2 in line" in lines
    assert "  sdr: round robin, pull: you claim leads from the team's channel" in lines
    assert "Open leads: 2 (no cap). Hours: always on shift (UTC)." in lines
