"""The local workspace's people drive the real app: a claim click replaces the channel
card, a slash command's answer shows as the person's ephemeral, and the Home tab opens.
The demo relies on these paths (signed requests in, answers back where a person sees)."""

from __future__ import annotations

import pytest

from bot.localslack import LocalSlack, Person
from harness.app_process import AppProcess

pytestmark = pytest.mark.e2e


def _person(slack: LocalSlack, app: AppProcess, user: str) -> Person:
    return slack.person(user, f"{app.base_url}/slack/events", app.signing_secret)


def test_a_claim_click_and_a_slash_command_land_where_a_person_looks(
    app: AppProcess, fake_slack: LocalSlack
) -> None:
    created = app.post_lead(
        {"email": "ana@clinic.example", "industry": "healthcare", "company": "Clinic"}
    )
    assert created.status_code == 201, created.text
    fake_slack.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == "C0HEALTH")
    (card,) = fake_slack.messages("C0HEALTH")

    dan = _person(fake_slack, app, "U0DAN")
    assert dan.click("claim_lead", message=card).status == 200
    fake_slack.wait_for("chat.update", predicate=lambda c: c.params.get("ts") == card["ts"])
    claimed = fake_slack.message("C0HEALTH", card["ts"])
    assert claimed is not None and "U0DAN" in str(claimed["blocks"])
    assert not any(b.get("type") == "actions" and "claim_lead" in str(b) for b in claimed["blocks"])

    assert dan.command("/leads").status == 200
    fake_slack.wait_for("response_url")
    (shown,) = fake_slack.ephemerals(user="U0DAN")
    assert "Clinic" in str(shown)

    assert dan.open_home().status == 200
    fake_slack.wait_for("views.publish")
    home = fake_slack.home_view("U0DAN")
    assert home is not None and "Clinic" in str(home["blocks"])
