"""The card of an offered push lead: Accept and Decline and the time to accept by, for
the rep it is offered to only, gone once accepted, declined or passed on."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.slack.views import lead_card
from domain.lead import LeadInput, LeadStatus, Method
from domain.offers import offer_event
from domain.records import LeadEvent, LeadRecord

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def offered(owner: str = "U0ANA", *more: LeadEvent) -> LeadRecord:
    kind, reason, data = offer_event(1, "U0ANA", NOW + timedelta(minutes=5))
    return LeadRecord(
        id="L1",
        created_at=NOW,
        submitter="web",
        fields=LeadInput(email="jo@x.io"),
        status=LeadStatus.ASSIGNED,
        owner=owner,
        team="inbound",
        method=Method.PUSH,
        decision={},
        sla_due_at=NOW + timedelta(hours=2),
        assigned_at=NOW,
        contacted_at=None,
        version=1,
        events=(LeadEvent(NOW, kind, "leadrouter", reason, data), *more),
    )


def actions(lead: LeadRecord) -> list[str]:
    return [
        element["action_id"]
        for block in lead_card(lead, NOW)["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_an_offered_lead_shows_accept_decline_and_the_deadline() -> None:
    card = lead_card(offered(), NOW)
    assert actions(offered())[:2] == ["accept_lead", "decline_lead"]
    text = json.dumps(card["blocks"])
    assert "Offered to <@U0ANA>: accept by <!date^" in text


def test_the_buttons_go_once_accepted_or_passed_on() -> None:
    accepted = offered("U0ANA", LeadEvent(NOW, "accepted", "U0ANA", "accepted after 1m"))
    assert "accept_lead" not in actions(accepted)
    assert "accept_lead" not in actions(offered("U0BEN"))  # the offer was to someone else
    contacted = replace(offered(), status=LeadStatus.CONTACTED, contacted_at=NOW)
    assert "accept_lead" not in actions(contacted)
