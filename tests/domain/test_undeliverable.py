"""A lead whose notification Slack refused for good escalates at once: a rep who never
saw the lead cannot meet its SLA, so waiting for the breach only wastes the window."""

from __future__ import annotations

from datetime import timedelta

from domain.escalation import undeliverable
from domain.lead import LeadStatus
from tests.domain.test_escalation import CONFIG, NOW, lead


def test_a_dead_owner_dm_goes_to_the_backup_and_the_manager_hears_why() -> None:
    outcome = undeliverable(lead(), "U0ALICE", "user_not_found", CONFIG, {}, NOW)
    assert (outcome.fired, outcome.event, outcome.assign_to) == (True, "reassigned", "U0BACKUP")
    assert "U0ALICE" in outcome.reason and "user_not_found" in outcome.reason
    (notice,) = outcome.notices
    assert notice.target == "U0MANAGER" and "user_not_found" in notice.text
    assert outcome.update_card


def test_a_dead_channel_post_of_an_unclaimed_lead_is_assigned_to_the_backup() -> None:
    outcome = undeliverable(lead(owner=None), "C0INBOUND", "not_in_channel", CONFIG, {}, NOW)
    assert (outcome.event, outcome.assign_to) == ("reassigned", "U0BACKUP")


def test_reps_slack_cannot_reach_are_never_chosen() -> None:
    """Backup's DM failed too: the next eligible rep (not Alice, not Cara on PTO) gets it."""
    stranded = lead(owner="U0BACKUP")
    outcome = undeliverable(
        stranded, "U0BACKUP", "account_inactive", CONFIG, {}, NOW, frozenset({"U0ALICE"})
    )
    assert outcome.assign_to == "U0BOB"
    nobody = undeliverable(
        stranded, "U0BACKUP", "user_disabled", CONFIG, {}, NOW, frozenset({"U0ALICE", "U0BOB"})
    )
    assert (nobody.event, nobody.assign_to) == ("escalation_failed", None)
    assert [notice.target for notice in nobody.notices] == ["U0MANAGER"]


def test_without_a_manager_the_admins_are_told() -> None:
    outcome = undeliverable(lead(team="nobackup"), "U0ALICE", "user_not_found", CONFIG, {}, NOW)
    assert outcome.assign_to is None  # Cara is on PTO, Alice is unreachable
    assert [notice.target for notice in outcome.notices] == ["U0ADMIN"]


def test_a_stale_or_finished_notification_changes_nothing() -> None:
    moved_on = undeliverable(lead(owner="U0BOB"), "U0ALICE", "user_not_found", CONFIG, {}, NOW)
    contacted = undeliverable(
        lead(contacted_at=NOW - timedelta(minutes=1), status=LeadStatus.CONTACTED),
        "U0ALICE",
        "user_not_found",
        CONFIG,
        {},
        NOW,
    )
    claimed_since = undeliverable(lead(), "C0INBOUND", "is_archived", CONFIG, {}, NOW)
    for outcome in (moved_on, contacted, claimed_since):
        assert not outcome.fired and outcome.assign_to is None and not outcome.notices
