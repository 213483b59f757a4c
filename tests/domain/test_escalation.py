"""SLA steps decided purely, and a whole day of timers for hundreds of leads run on an
injected clock: every step is handled exactly once, contact cancels the rest, and
escalation never hands a lead to someone who cannot take it."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.config import Config, SlaConfig, load_config
from domain.escalation import escalation_target, run_step
from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadRecord
from domain.sla import plan

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
CONFIG = load_config(
    """
version: 1
admins: [U0ADMIN]
reps:
  - {user: U0ALICE}
  - {user: U0BOB}
  - {user: U0CARA, pto: [{from: 2026-11-01, to: 2026-12-31}]}
  - {user: U0BACKUP}
teams:
  - {name: inbound, channel: C0INBOUND, manager: U0MANAGER, backup: U0BACKUP,
     members: [{user: U0ALICE}, {user: U0BOB}, {user: U0CARA}]}
  - {name: nobackup, channel: C0NB, members: [{user: U0ALICE}, {user: U0CARA}]}
rules:
  - {name: all, then: {team: inbound}}
"""
)


def lead(owner: str | None = "U0ALICE", team: str = "inbound", **changes: object) -> LeadRecord:
    record = LeadRecord(
        id="L1",
        created_at=NOW - timedelta(minutes=10),
        submitter="webform",
        fields=LeadInput(email="jo@x.io", first_name="Jo", lead_type="demo_request"),
        status=LeadStatus.ASSIGNED if owner else LeadStatus.QUEUED,
        owner=owner,
        team=team,
        method=Method.PUSH,
        decision={},
        sla_due_at=NOW - timedelta(minutes=5),
        assigned_at=NOW,
        contacted_at=None,
        version=1,
    )
    return replace(record, **changes)


def test_reassign_goes_to_the_backup_and_says_who_missed_it():
    outcome = run_step("reassign", lead(), CONFIG, {}, NOW)
    assert outcome.assign_to == "U0BACKUP"
    assert "U0ALICE" in outcome.reason and "team backup" in outcome.reason
    assert [notice.target for notice in outcome.notices] == ["U0BACKUP"]


def test_reassign_without_backup_skips_the_owner_and_the_unavailable():
    outcome = run_step("reassign", lead(team="nobackup"), CONFIG, {}, NOW)
    assert outcome.event == "escalation_failed"  # only U0ALICE (owner) and U0CARA (PTO)
    target, why = escalation_target(
        CONFIG.team("inbound"), CONFIG, {"U0BACKUP": 0}, NOW, "U0BACKUP"
    )
    assert target == "U0ALICE" and "next eligible" in why


def test_backup_at_capacity_is_passed_over():
    config = load_config(
        """
version: 1
reps: [{user: U0A}, {user: U0B, capacity: 1}, {user: U0C}]
teams: [{name: t, backup: U0B, members: [{user: U0A}, {user: U0B}, {user: U0C}]}]
rules: [{name: all, then: {team: t}}]
"""
    )
    target, _ = escalation_target(config.team("t"), config, {"U0B": 1, "U0C": 3}, NOW, "U0A")
    assert target == "U0C"


def test_manager_gets_the_lead_the_culprit_and_the_delay():
    (notice,) = run_step("notify_manager", lead(), CONFIG, {}, NOW).notices
    assert notice.target == "U0MANAGER"
    assert "U0ALICE" in notice.text and "overdue by 5m" in notice.text
    later = run_step("notify_manager", lead(owner="U0BACKUP"), CONFIG, {}, NOW, "U0ALICE")
    (later_notice,) = later.notices
    assert "U0ALICE did not" in later_notice.text
    assert "now with U0BACKUP" in later_notice.text


def test_no_manager_means_the_admins_are_told():
    outcome = run_step("notify_manager", lead(team="nobackup"), CONFIG, {}, NOW)
    assert [n.target for n in outcome.notices] == ["U0ADMIN"]


def test_repost_releases_the_lead_to_the_channel():
    outcome = run_step("repost_to_channel", lead(), CONFIG, {}, NOW)
    assert outcome.release and outcome.repost_channel == "C0INBOUND"
    unowned = run_step("repost_to_channel", lead(owner=None), CONFIG, {}, NOW)
    assert not unowned.release and unowned.repost_channel == "C0INBOUND"


def test_reminder_before_the_deadline_names_the_time_left():
    record = lead(sla_due_at=NOW + timedelta(minutes=2))
    (notice,) = run_step("remind_owner", record, CONFIG, {}, NOW).notices
    assert notice.target == "U0ALICE" and "2m left" in notice.text


@pytest.mark.parametrize(
    "action",
    ["remind_owner", "breach", "reassign", "notify_manager", "repost_to_channel", "notify_owner"],
)
def test_contacted_or_closed_leads_fire_nothing(action: str):
    contacted = lead(status=LeadStatus.CONTACTED, contacted_at=NOW)
    assert not run_step(action, contacted, CONFIG, {}, NOW).fired
    won = lead(status=LeadStatus.WON)
    assert not run_step(action, won, CONFIG, {}, NOW).fired


def test_unknown_actions_are_a_programming_error():
    with pytest.raises(ValueError, match="unknown SLA step"):
        run_step("teleport", lead(), CONFIG, {}, NOW)


def test_a_day_of_timers_for_hundreds_of_leads():
    """300 leads over a day, a third contacted in time, a third late, a third never:
    each planned step is handled exactly once, nothing fires after contact, and every
    uncontacted lead ends with its breach fired and an escalation."""
    rng = random.Random(7)
    policy = SlaConfig(respond_within="5m", remind_at=["50%"])
    leads: dict[str, LeadRecord] = {}
    contact_at: dict[str, datetime] = {}
    queue: list[tuple[datetime, str, str, str]] = []
    for index in range(300):
        created = NOW + timedelta(seconds=rng.randrange(86_400))
        steps = plan(policy, created)
        lead_id = f"L{index}"
        due = next(step.due_at for step in steps if step.step == "breach")
        leads[lead_id] = lead(id=lead_id, created_at=created, sla_due_at=due, owner="U0ALICE")
        kind = index % 3
        if kind < 2:
            contact_at[lead_id] = created + timedelta(minutes=2 if kind == 0 else 7)
        queue.extend((step.due_at, lead_id, step.step, step.action) for step in steps)
    queue.sort()
    handled: dict[tuple[str, str], str] = {}
    fired_after_contact = 0
    open_leads: dict[str, int] = {}
    for due, lead_id, step, action in queue:  # the clock jumps from step to step
        record = leads[lead_id]
        if lead_id in contact_at and contact_at[lead_id] <= due and record.contacted_at is None:
            record = leads[lead_id] = replace(
                record, status=LeadStatus.CONTACTED, contacted_at=contact_at[lead_id]
            )
        outcome = run_step(action, record, CONFIG, open_leads, due)
        assert (lead_id, step) not in handled
        handled[(lead_id, step)] = outcome.event
        if outcome.fired and record.contacted_at is not None:
            fired_after_contact += 1
        if outcome.assign_to:
            assert outcome.assign_to in {"U0BACKUP", "U0BOB"}  # never U0CARA (PTO)
            leads[lead_id] = replace(record, owner=outcome.assign_to)
        if outcome.release:
            leads[lead_id] = replace(record, owner=None, status=LeadStatus.QUEUED)
    assert len(handled) == len(queue) == 300 * 5  # remind, breach, 3 escalations
    assert fired_after_contact == 0
    for index in range(300):
        events = {step: handled[(f"L{index}", step)] for step in ("breach", "escalate:0")}
        if index % 3 == 0:
            assert events == {"breach": "cancelled", "escalate:0": "cancelled"}
        else:  # contacted late or never: the breach fired and the lead was escalated
            assert events == {"breach": "breached", "escalate:0": "reassigned"}


def test_empty_config_still_fires_breaches():
    assert run_step("breach", lead(team="gone"), Config(), {}, NOW).fired


def test_escalation_skips_a_rep_who_is_away_by_their_own_toggle_or_slack() -> None:
    """The SLA's reassign step asks the same availability as routing: the backup's own
    away toggle counts, so the lead goes to the next eligible member."""
    from domain.eligibility import RepFacts
    from domain.signals import AwayToggle, RepSignals

    facts = RepFacts(open_leads={}, signals={"U0BACKUP": RepSignals(away=AwayToggle(since=NOW))})
    outcome = run_step("reassign", lead(), CONFIG, {}, NOW, facts=facts)
    assert outcome.assign_to == "U0BOB"
    assert (
        outcome.reason
        == "SLA missed by U0ALICE; reassigned to next eligible rep U0BOB (0 open leads)"
    )
