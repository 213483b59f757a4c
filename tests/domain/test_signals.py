"""Availability from Slack and from the rep's own toggle, combined with hours, PTO and
capacity in routing: each source skips a rep with its exact reason, only where the team
opted in, and stale Slack facts fall back to the configured hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.availability_config import AvailabilitySettings, TeamSignals
from domain.config import Config, validate_config
from domain.lead import parse_lead
from domain.routing import RoutingState, route
from domain.signals import AwayToggle, RepSignals, SlackSnapshot, signal_reason, until_text

# Wednesday 2 December 2026, 15:00 UTC = 10:00 in New York.
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
ZONE = "America/New_York"
EVERY_SIGNAL = TeamSignals(slack_status=True, dnd=True, presence=True)
SETTINGS = AvailabilitySettings()


def snapshot(**fields: Any) -> SlackSnapshot:
    return SlackSnapshot(fetched_at=NOW - timedelta(seconds=30), **fields)


def reason(
    signals: RepSignals,
    team: TeamSignals | None = EVERY_SIGNAL,
    push: bool = True,
    settings: AvailabilitySettings = SETTINGS,
) -> str | None:
    return signal_reason(signals, team, settings, NOW, ZONE, push)


FRIDAY_5PM = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)  # Fri 17:00 in New York


def test_a_vacation_status_is_away_until_it_expires_shown_in_the_reps_zone() -> None:
    vacation = snapshot(
        status_text="Vacationing", status_emoji=":palm_tree:", status_expires_at=FRIDAY_5PM
    )
    assert reason(RepSignals(slack=vacation)) == "Slack status 'Vacationing' until Fri 17:00"
    expired = snapshot(status_text="Vacationing", status_expires_at=NOW - timedelta(minutes=1))
    assert reason(RepSignals(slack=expired)) is None


@pytest.mark.parametrize(
    ("text", "emoji", "away"),
    [
        ("", ":face_with_thermometer:", True),  # Slack's "Out sick", emoji alone
        ("OOO till Monday", ":wave:", True),  # a listed phrase, any case
        ("In a meeting", ":spiral_calendar_pad:", False),  # not listed by default
        ("Working remotely", ":house_with_garden:", False),
        ("", "", False),
    ],
)
def test_only_listed_statuses_count_as_away(text: str, emoji: str, away: bool) -> None:
    found = reason(RepSignals(slack=snapshot(status_text=text, status_emoji=emoji)))
    assert (found is not None) == away, found


def test_the_list_of_away_statuses_is_configurable() -> None:
    meetings = AvailabilitySettings.model_validate(
        {"away_statuses": {"emoji": ["spiral_calendar_pad"], "text": []}}
    )
    in_meeting = snapshot(status_text="In a meeting", status_emoji=":spiral_calendar_pad:")
    assert reason(RepSignals(slack=in_meeting), settings=meetings) == "Slack status 'In a meeting'"
    vacation = snapshot(status_text="Vacationing")
    assert reason(RepSignals(slack=vacation), settings=meetings) is None


def test_do_not_disturb_is_off_shift_until_it_ends() -> None:
    scheduled = snapshot(dnd_start=NOW - timedelta(hours=1), dnd_end=NOW + timedelta(hours=2))
    assert reason(RepSignals(slack=scheduled)) == (
        "off shift (do not disturb in Slack until 12:00)"
    )
    snoozed = snapshot(snooze_until=NOW + timedelta(minutes=45))
    assert reason(RepSignals(slack=snoozed)) == "off shift (do not disturb in Slack until 10:45)"
    later = snapshot(dnd_start=NOW + timedelta(hours=8), dnd_end=NOW + timedelta(hours=20))
    assert reason(RepSignals(slack=later)) is None


def test_presence_away_only_matters_for_push() -> None:
    away = RepSignals(slack=snapshot(presence="away"))
    assert reason(away, push=True) == "away in Slack"
    assert reason(away, push=False) is None
    assert reason(RepSignals(slack=snapshot(presence="active"))) is None


def test_each_signal_counts_only_where_the_team_opted_in() -> None:
    everything = RepSignals(
        slack=snapshot(
            status_text="Vacationing",
            snooze_until=NOW + timedelta(hours=1),
            presence="away",
        )
    )
    assert reason(everything, team=None) is None
    assert reason(everything, team=TeamSignals()) is None
    assert reason(everything, team=TeamSignals(dnd=True)) == (
        "off shift (do not disturb in Slack until 11:00)"
    )
    assert reason(everything, team=TeamSignals(presence=True)) == "away in Slack"


def test_stale_slack_facts_are_ignored_so_configured_hours_decide() -> None:
    old = SlackSnapshot(
        fetched_at=NOW - SETTINGS.stale_after - timedelta(seconds=1), status_text="Vacationing"
    )
    assert reason(RepSignals(slack=old)) is None


def test_the_reps_own_away_toggle_needs_no_opt_in_and_ends_on_time() -> None:
    until_tomorrow = AwayToggle(since=NOW, until=NOW + timedelta(hours=23))
    assert reason(RepSignals(away=until_tomorrow), team=None) == (
        "away until Thu 09:00 (their own toggle)"
    )
    assert reason(RepSignals(away=AwayToggle(since=NOW)), team=None) == ("away (their own toggle)")
    over = AwayToggle(since=NOW - timedelta(hours=2), until=NOW)
    assert reason(RepSignals(away=over), team=None) is None


def test_until_text_names_today_this_week_or_the_date() -> None:
    assert until_text(NOW + timedelta(hours=3), NOW, ZONE) == " until 13:00"
    assert until_text(NOW + timedelta(days=2), NOW, ZONE) == " until Fri 10:00"
    assert until_text(NOW + timedelta(days=9), NOW, ZONE) == " until 2026-12-11"
    assert until_text(None, NOW, ZONE) == ""


def test_slack_answers_are_read_as_slack_documents_them() -> None:
    fetched = SlackSnapshot.from_slack(
        NOW,
        profile={
            "status_text": "Vacationing",
            "status_emoji": ":palm_tree:",
            "status_expiration": 0,
        },
        dnd={
            "dnd_enabled": True,
            "next_dnd_start_ts": NOW.timestamp() - 60,
            "next_dnd_end_ts": NOW.timestamp() + 3600,
            "snooze_enabled": False,
        },
        presence={"ok": True, "presence": "away"},
    )
    assert fetched.status_expires_at is None  # 0: the status never expires
    assert fetched.dnd_end == NOW + timedelta(hours=1)
    assert fetched.snooze_until is None
    assert fetched.presence == "away"
    assert SlackSnapshot.from_slack(NOW).presence is None


def config(**team: Any) -> Config:
    return validate_config(
        {
            "reps": [
                {"user": "U0JANE", "timezone": ZONE, "working_hours": {"mon-fri": "09:00-17:00"}},
                {"user": "U0BOB", "timezone": ZONE},
            ],
            "teams": [
                {
                    "name": "inbound",
                    "channel": "C0INBOUND",
                    "members": [{"user": "U0JANE"}, {"user": "U0BOB"}],
                    **team,
                }
            ],
            "rules": [{"name": "all", "then": {"team": "inbound"}}],
        }
    )


LEAD = parse_lead({"email": "buyer@prospect.io", "lead_type": "demo_request"})


def test_routing_skips_a_vacationing_rep_with_the_reason_and_pushes_to_the_next() -> None:
    vacation = snapshot(status_text="Vacationing", status_expires_at=FRIDAY_5PM)
    state = RoutingState(signals={"U0JANE": RepSignals(slack=vacation)})
    decision = route(LEAD, config(availability={"slack_status": True}), state, NOW)
    assert decision.owner == "U0BOB"
    assert "Skipped U0JANE: Slack status 'Vacationing' until Fri 17:00" in decision.reasons


def test_configured_hours_come_first_and_slack_cannot_make_an_off_shift_rep_available() -> None:
    night = NOW + timedelta(hours=10)  # 20:00 in New York: Jane is off shift
    state = RoutingState(signals={"U0JANE": RepSignals(slack=snapshot(presence="active"))})
    decision = route(LEAD, config(availability={"presence": True}), state, night)
    assert decision.skipped[0].reason == "off shift (Wed 20:00 America/New_York)"


def test_nobody_available_by_slack_queues_the_lead_with_every_reason() -> None:
    signals = {
        "U0JANE": RepSignals(slack=snapshot(presence="away")),
        "U0BOB": RepSignals(away=AwayToggle(since=NOW)),
    }
    decision = route(
        LEAD, config(availability={"presence": True}), RoutingState(signals=signals), NOW
    )
    assert decision.nobody_eligible and decision.owner is None
    assert [(skip.user, skip.reason) for skip in decision.skipped] == [
        ("U0JANE", "away in Slack"),
        ("U0BOB", "away (their own toggle)"),
    ]


def test_pull_teams_ignore_presence_but_not_status() -> None:
    signals = {"U0JANE": RepSignals(slack=snapshot(presence="away", status_text="OOO"))}
    pull = config(method="pull", availability={"presence": True})
    assert route(LEAD, pull, RoutingState(signals=signals), NOW).skipped == ()
    both = config(method="pull", availability={"presence": True, "slack_status": True})
    skipped = route(LEAD, both, RoutingState(signals=signals), NOW).skipped
    assert [skip.reason for skip in skipped] == ["Slack status 'OOO'"]
