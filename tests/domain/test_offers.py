"""The accept window: an unanswered or declined push lead goes to the next rep in the
rotation, at most K offers, then to the team channel; whose turn it used is the
policy's to say."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.config import Config, validate_config
from domain.lead import LeadInput, LeadStatus, Method, parse_lead
from domain.offers import end_offer, offer_step, parse_offer_step, window_for
from domain.records import LeadRecord
from domain.rotation import PER_LEAD, credit_in_leads
from domain.routing import RoutingState, route
from domain.signals import AwayToggle, RepSignals

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def config(channel: str | None = "C0INBOUND", **window: Any) -> Config:
    team: dict[str, Any] = {
        "name": "inbound",
        "members": [{"user": "U0ANA"}, {"user": "U0BEN"}, {"user": "U0CAL"}],
        "manager": "U0BOSS",
        "accept_within": {"within": "5m", **window},
    }
    if channel:
        team["channel"] = channel
    return validate_config(
        {
            "reps": [{"user": "U0ANA"}, {"user": "U0BEN"}, {"user": "U0CAL"}],
            "teams": [team],
            "accounts": [{"domain": "acme.com", "owner": "U0ANA"}],
            "rules": [
                {
                    "name": "acme",
                    "when": {"account_owner": True},
                    "then": {"route_to": "account_owner"},
                },
                {"name": "all", "then": {"team": "inbound"}},
            ],
        }
    )


def offered_lead(owner: str = "U0ANA", **changes: Any) -> LeadRecord:
    record = LeadRecord(
        id="L1",
        created_at=NOW - timedelta(minutes=5),
        submitter="web",
        fields=LeadInput(email="jo@x.io", lead_type="demo_request"),
        status=LeadStatus.ASSIGNED,
        owner=owner,
        team="inbound",
        method=Method.PUSH,
        decision={},
        sla_due_at=NOW + timedelta(minutes=25),
        assigned_at=NOW - timedelta(minutes=5),
        contacted_at=None,
        version=2,
    )
    return replace(record, **changes)


def test_offer_steps_name_the_offer_and_the_rep() -> None:
    step = offer_step(2, "U0BEN", NOW, config().teams[0].accept_within)  # type: ignore[arg-type]
    assert (step.step, step.action, step.due_at) == (
        "offer:2:U0BEN",
        "offer_timeout",
        NOW + timedelta(minutes=5),
    )
    assert parse_offer_step(step.step) == (2, "U0BEN")
    assert parse_offer_step("escalate:0") is None


def test_a_timeout_offers_the_lead_to_the_next_rep_in_rotation() -> None:
    outcome = end_offer(
        offered_lead(), 1, "U0ANA", frozenset({"U0ANA"}), "timeout", config(), RoutingState(), NOW
    )
    assert outcome.fired and outcome.event == "offer_timeout"
    assert outcome.assign_to == "U0BEN"
    assert outcome.reason == ("U0ANA did not accept within 5m; offered to U0BEN (offer 2 of 3)")
    assert outcome.next_step is not None and outcome.next_step.step == "offer:2:U0BEN"


def test_the_next_offer_skips_reps_already_offered_and_those_away() -> None:
    away = RoutingState(signals={"U0CAL": RepSignals(away=AwayToggle(since=NOW))})
    outcome = end_offer(
        offered_lead("U0BEN"), 2, "U0BEN", frozenset({"U0ANA"}), "declined", config(), away, NOW
    )
    assert outcome.event == "declined"
    assert outcome.release and outcome.repost_channel == "C0INBOUND"
    assert outcome.reason == (
        "U0BEN declined; nobody else in the team can take it now: "
        "posted to C0INBOUND for anyone to claim"
    )
    assert outcome.notify == "U0BOSS"


def test_after_k_offers_the_lead_goes_to_the_team_channel() -> None:
    outcome = end_offer(
        offered_lead("U0BEN"),
        2,
        "U0BEN",
        frozenset({"U0ANA"}),
        "timeout",
        config(max_offers=2),
        RoutingState(),
        NOW,
    )
    assert outcome.assign_to is None and outcome.release
    assert outcome.reason.endswith(
        "2 offers went unaccepted: posted to C0INBOUND for anyone to claim"
    )


def test_without_a_channel_the_last_rep_keeps_it_and_the_manager_is_told() -> None:
    outcome = end_offer(
        offered_lead(),
        1,
        "U0ANA",
        frozenset(),
        "timeout",
        config(channel=None, max_offers=1),
        RoutingState(),
        NOW,
    )
    assert not outcome.release and outcome.assign_to is None
    assert outcome.notify == "U0BOSS"
    assert "it stays with U0ANA" in outcome.reason


def test_a_moot_offer_does_nothing() -> None:
    cfg = config()
    contacted = offered_lead(status=LeadStatus.CONTACTED, contacted_at=NOW)
    reassigned = offered_lead("U0CAL")
    for lead in (contacted, reassigned):
        outcome = end_offer(lead, 1, "U0ANA", frozenset(), "timeout", cfg, RoutingState(), NOW)
        assert not outcome.fired


def test_refund_gives_the_unanswered_rep_their_turn_back_charge_does_not() -> None:
    lead = parse_lead({"email": "a@b.io"})
    for policy, owed in (("charge", False), ("refund", True)):
        cfg = config(unanswered=policy)
        first = route(lead, cfg, RoutingState(), NOW)
        assert first.owner == "U0ANA" and first.credits is not None
        state = RoutingState(credits={"inbound": first.credits})
        outcome = end_offer(offered_lead(), 1, "U0ANA", frozenset(), "timeout", cfg, state, NOW)
        assert outcome.credits is not None and outcome.credits[PER_LEAD]
        assert (credit_in_leads(outcome.credits, "U0ANA") > 0) is owed


def test_only_team_pushes_have_an_accept_window() -> None:
    cfg = config()
    pushed = route(parse_lead({"email": "a@b.io"}), cfg, RoutingState(), NOW)
    assert window_for(cfg, pushed) is cfg.teams[0].accept_within
    account = route(parse_lead({"email": "a@acme.com"}), cfg, RoutingState(), NOW)
    assert account.owner == "U0ANA" and window_for(cfg, account) is None
