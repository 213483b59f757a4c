"""Caps per day and week in the rep's own timezone (DST days of 23 and 25 hours, ISO weeks
from the local Monday), per rep and per team member, optionally per lead type; a capped
rep is skipped with the reason and keeps their place in the rotation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.availability_config import PeriodCaps
from domain.caps import cap_reason, earliest_day, local_day
from domain.config import Config, validate_config
from domain.lead import parse_lead
from domain.routing import RoutingState, route
from domain.routing_memory import RoutingMemory

NY = "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def config(
    rep_caps: dict[str, Any] | None = None, team_caps: dict[str, Any] | None = None, zone: str = NY
) -> Config:
    return validate_config(
        {
            "reps": [
                {"user": "U0NEW", "timezone": zone, **({"caps": rep_caps} if rep_caps else {})},
                {"user": "U0OLD", "timezone": zone},
            ],
            "teams": [
                {
                    "name": "inbound",
                    "members": [{"user": "U0NEW"}, {"user": "U0OLD"}],
                    **({"caps": team_caps} if team_caps else {}),
                },
                {"name": "events", "members": [{"user": "U0NEW"}]},
            ],
            "rules": [
                {"name": "events", "when": {"lead_type": "event"}, "then": {"team": "events"}},
                {"name": "all", "then": {"team": "inbound"}},
            ],
        }
    )


def lead(lead_type: str = "demo_request") -> Any:
    return parse_lead({"email": "buyer@prospect.io", "lead_type": lead_type})


def new_hire_reason(
    cfg: Config, memory: RoutingMemory, at: datetime, kind: str = "mql"
) -> str | None:
    decision = route(lead(kind), cfg, memory.state, at)
    return next((skip.reason for skip in decision.skipped if skip.user == "U0NEW"), None)


def give(
    memory: RoutingMemory, cfg: Config, at: datetime, team: str = "inbound", kind: str = "mql"
) -> None:
    memory.assign("U0NEW", team, kind, cfg, at)


def test_the_day_is_the_reps_calendar_day_across_the_25_hour_autumn_day() -> None:
    # New York falls back on Sun 1 Nov 2026: that local day lasts 25 hours.
    cfg = config({"per_day": 2})
    memory = RoutingMemory(RoutingState())
    give(memory, cfg, utc("2026-11-01T04:30"))  # 00:30 EDT Sunday
    give(memory, cfg, utc("2026-11-02T04:30"))  # 23:30 EST, still Sunday
    assert new_hire_reason(cfg, memory, utc("2026-11-02T04:59")) == (
        "at daily cap (2/2 leads today)"
    )
    assert new_hire_reason(cfg, memory, utc("2026-11-02T05:00")) is None  # Monday 00:00 EST


def test_the_23_hour_spring_day_ends_at_local_midnight_too() -> None:
    # New York springs forward on Sun 8 Mar 2026.
    cfg = config({"per_day": 1})
    memory = RoutingMemory(RoutingState())
    give(memory, cfg, utc("2026-03-08T05:00"))  # 00:00 EST Sunday
    assert new_hire_reason(cfg, memory, utc("2026-03-09T03:59")) is not None  # 23:59 EDT
    assert new_hire_reason(cfg, memory, utc("2026-03-09T04:00")) is None  # Monday 00:00 EDT


def test_weeks_start_on_the_reps_local_monday() -> None:
    tokyo = config({"per_week": 2}, zone="Asia/Tokyo")
    memory = RoutingMemory(RoutingState())
    give(memory, tokyo, utc("2026-11-30T00:00"))  # Mon 09:00 JST
    give(memory, tokyo, utc("2026-12-06T14:00"))  # Sun 23:00 JST
    assert new_hire_reason(tokyo, memory, utc("2026-12-06T14:59")) == (
        "at weekly cap (2/2 leads this week)"
    )
    # Sunday 15:00 UTC is already Monday in Tokyo: a new week.
    assert new_hire_reason(tokyo, memory, utc("2026-12-06T15:00")) is None


def test_a_team_cap_counts_only_that_teams_leads_and_a_rep_cap_counts_all() -> None:
    at = utc("2026-12-02T15:00")
    team_capped = config(team_caps={"per_day": 1})
    memory = RoutingMemory(RoutingState())
    give(memory, team_capped, at, team="events", kind="event")
    assert new_hire_reason(team_capped, memory, at) is None
    give(memory, team_capped, at)
    assert new_hire_reason(team_capped, memory, at) == "at daily cap in inbound (1/1 leads today)"
    rep_capped = config({"per_day": 1})
    memory = RoutingMemory(RoutingState())
    give(memory, rep_capped, at, team="events", kind="event")
    assert new_hire_reason(rep_capped, memory, at) == "at daily cap (1/1 leads today)"


def test_a_cap_per_lead_type_leaves_other_types_alone() -> None:
    cfg = config({"lead_types": {"demo_request": {"per_day": 1}}})
    at = utc("2026-12-02T15:00")
    memory = RoutingMemory(RoutingState())
    give(memory, cfg, at, kind="demo_request")
    assert new_hire_reason(cfg, memory, at, "demo_request") == (
        "at daily cap for demo_request (1/1 leads today)"
    )
    assert new_hire_reason(cfg, memory, at, "mql") is None


def test_a_capped_rep_keeps_their_place_in_the_rotation() -> None:
    """Round robin between two reps; the new hire is capped at 1 a day. Tomorrow the
    rotation resumes with them owed exactly what they were owed, not a catch-up flood."""
    cfg = config({"per_day": 1})
    memory = RoutingMemory(RoutingState())
    today, tomorrow = utc("2026-12-02T15:00"), utc("2026-12-03T15:00")
    owners_today = []
    for _ in range(5):
        decision = route(lead(), cfg, memory.state, today)
        memory.remember(decision, "mql", cfg, today)
        owners_today.append(decision.owner)
    assert owners_today == ["U0NEW", "U0OLD", "U0OLD", "U0OLD", "U0OLD"]
    owners_tomorrow = []
    for _ in range(4):
        decision = route(lead(), cfg, memory.state, tomorrow)
        memory.remember(decision, "mql", cfg, tomorrow)
        owners_tomorrow.append(decision.owner)
    assert owners_tomorrow == ["U0OLD", "U0NEW", "U0OLD", "U0OLD"]


def test_cap_reason_is_none_without_caps_and_checks_the_day_before_the_week() -> None:
    today = date(2026, 12, 2)
    counts = {("inbound", "mql", today): 3}
    assert cap_reason(counts, today, "mql", None) is None
    caps = PeriodCaps(per_day=3, per_week=3)
    assert cap_reason(counts, today, "mql", caps) == "at daily cap (3/3 leads today)"


@pytest.mark.parametrize("hour", range(0, 24, 5))
def test_earliest_day_covers_every_zones_week(hour: int) -> None:
    now = utc("2026-12-07T00:00") + timedelta(hours=hour)  # a Monday in UTC
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Etc/GMT+12", NY):
        day = local_day(now, zone)
        assert earliest_day(now) <= day - timedelta(days=day.weekday())
