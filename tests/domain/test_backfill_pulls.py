"""Backfill hands queued leads to a rep who becomes available, oldest first and within
the SLA left; fair pulls give the oldest claimable lead and cap claims per hour; the
leaderboard ranks by speed and outcomes, never by the number of leads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.availability_config import TeamCaps
from domain.backfill import backfill, waiting_for_backfill
from domain.config import Config, validate_config
from domain.lead import LeadInput, LeadStatus, Method
from domain.leaderboard import RepWeek, leaderboard_lines, rank
from domain.pulls import claim_cap_reason, claimable_teams, next_claimable
from domain.records import LeadRecord
from domain.routing import RoutingState
from domain.routing_memory import RoutingMemory

# Wednesday 2 December 2026, 14:00 UTC = 09:00 in New York.
NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def config(**team: Any) -> Config:
    return validate_config(
        {
            "reps": [
                {
                    "user": "U0EARLY",
                    "timezone": "America/New_York",
                    "working_hours": {"mon-fri": "09:00-17:00"},
                    "caps": {"per_day": 2},
                },
                {
                    "user": "U0LATE",
                    "timezone": "America/Los_Angeles",
                    "working_hours": {"mon-fri": "09:00-17:00"},
                },
            ],
            "teams": [
                {
                    "name": "inbound",
                    "channel": "C0IN",
                    "availability": {"backfill": True},
                    "members": [{"user": "U0EARLY"}, {"user": "U0LATE"}],
                    **team,
                },
                {
                    "name": "pool",
                    "channel": "C0POOL",
                    "method": "pull",
                    "members": [{"user": "U0LATE"}],
                },
            ],
            "rules": [{"name": "all", "then": {"team": "inbound"}}],
        }
    )


def queued(minutes_ago: int, lead_id: str, **changes: Any) -> LeadRecord:
    record = LeadRecord(
        id=lead_id,
        created_at=NOW - timedelta(minutes=minutes_ago),
        submitter="web",
        fields=LeadInput(email="jo@x.io", lead_type="mql"),
        status=LeadStatus.QUEUED,
        owner=None,
        team="inbound",
        method=Method.PULL,
        decision={"nobody_eligible": True},
        sla_due_at=NOW + timedelta(hours=1),
        assigned_at=None,
        contacted_at=None,
        version=1,
    )
    return replace(record, **changes)


def test_a_rep_coming_on_shift_gets_the_queued_leads_oldest_first_up_to_their_cap() -> None:
    night = [queued(30, "L2"), queued(60, "L1"), queued(10, "L3")]
    memory = RoutingMemory(RoutingState())
    handed = backfill(night, config(), memory, NOW)
    assert [(lead.id, decision.owner) for lead, decision in handed] == [
        ("L1", "U0EARLY"),
        ("L2", "U0EARLY"),
    ]
    assert handed[0][1].reasons[0] == (
        "Backfill: queued 1h ago when nobody in inbound could take it"
    )
    assert "Skipped U0LATE: off shift (Wed 06:00 America/Los_Angeles)" in handed[0][1].reasons
    # The cap of 2 a day held back L3; it waits for the next one who can take it.
    assert memory.open_leads == {"U0EARLY": 2}


def test_backfill_leaves_expired_pulled_and_deliberately_posted_leads_alone() -> None:
    cfg = config()
    expired = queued(90, "L1", sla_due_at=NOW - timedelta(minutes=1))
    posted = queued(10, "L2", decision={"nobody_eligible": False})
    other_team = queued(10, "L3", team="pool")
    claimed = queued(10, "L4", owner="U0LATE", status=LeadStatus.ASSIGNED)
    for lead in (expired, posted, other_team, claimed):
        assert not waiting_for_backfill(lead, cfg, NOW), lead.id
    assert not waiting_for_backfill(queued(5, "L5"), config(availability={"backfill": False}), NOW)
    assert waiting_for_backfill(queued(5, "L6"), cfg, NOW)


def test_next_lead_is_the_oldest_unclaimed_one_in_the_reps_teams() -> None:
    cfg = config()
    pool = [
        queued(5, "new", team="pool"),
        queued(50, "old-elsewhere", team="other"),
        queued(20, "oldest-mine", team="pool"),
        queued(40, "taken", team="pool", owner="U0X", status=LeadStatus.ASSIGNED),
    ]
    teams = claimable_teams(cfg, "U0LATE")
    assert teams == ["inbound", "pool"]
    found = next_claimable(pool, teams)
    assert found is not None and found.id == "oldest-mine"
    assert next_claimable(pool, ["nobody"]) is None


def test_claims_per_hour_are_capped_over_a_rolling_hour() -> None:
    caps = TeamCaps(claims_per_hour=2)
    claims = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    assert claim_cap_reason("pool", caps, claims, NOW, "UTC") == (
        "at the claim cap of pool (2 claims in the last hour; free again at 14:10)"
    )
    assert claim_cap_reason("pool", caps, claims, NOW + timedelta(minutes=10), "UTC") is None
    assert claim_cap_reason("pool", None, claims, NOW, "UTC") is None
    assert claim_cap_reason("pool", caps, claims[:1], NOW, "UTC") is None


def test_the_leaderboard_ranks_speed_and_outcomes_not_volume() -> None:
    grabber = RepWeek(
        "U0GRAB",
        leads=40,
        contacted=20,
        within_sla=10,
        median_response_seconds=3600,
        won=2,
        opportunities=2,
    )
    fast = RepWeek(
        "U0FAST",
        leads=5,
        contacted=5,
        within_sla=5,
        median_response_seconds=120,
        won=1,
        opportunities=0,
    )
    steady = RepWeek(
        "U0STEADY",
        leads=8,
        contacted=8,
        within_sla=8,
        median_response_seconds=300,
        won=3,
        opportunities=1,
    )
    idle = RepWeek(
        "U0IDLE",
        leads=0,
        contacted=0,
        within_sla=0,
        median_response_seconds=None,
        won=0,
        opportunities=0,
    )
    assert [week.user for week in rank([grabber, steady, idle, fast])] == [
        "U0FAST",
        "U0STEADY",
        "U0GRAB",
    ]
    assert leaderboard_lines([fast])[0] == (
        "1. U0FAST — 100% within SLA · median 2m · 1 won or opportunity · 5 leads"
    )
