"""Issue 7 end to end: `/leadstats`, the Home tab, the figures under `/leads` and
`GET /api/stats`, against the real `leadrouter serve` and the fake Slack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.app_process import AppProcess
from harness.slack_signing import app_home_opened_event, event_body, slash_command_body
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e


def _leads(app: AppProcess, fake: FakeSlack) -> list[dict[str, Any]]:
    """Three inbound push leads (Alice and Bob take turns) and one healthcare pull lead;
    Alice contacts her first one."""
    made = [
        app.post_lead(
            {"email": f"s{i}@x.io", "company": f"Co {i}", "source": source, "lead_type": "mql"}
        ).json()
        for i, source in enumerate(["web_form", "paid_ads", "web_form"])
    ]
    app.post_lead({"email": "h@x.io", "industry": "healthcare", "source": "event"})
    fake.wait_for("chat.postMessage", count=4)
    alices = [lead for lead in made if lead["owner"] == "U0ALICE"]
    assert app.post_lead_event(alices[0]["id"], {"type": "contacted"}).status_code == 200
    return made


def _slash(
    app: AppProcess, fake: FakeSlack, command: str, text: str, user: str, token: str
) -> dict[str, Any]:
    body = slash_command_body(command, text, user_id=user, response_url=fake.response_url(token))
    assert app.post_slack(body).status_code == 200
    (reply,) = fake.wait_for("response_url", predicate=lambda c: c.target == token)
    assert reply.params["response_type"] == "ephemeral"
    return reply.params


def test_leadstats_for_a_team_a_rep_a_source_and_bad_arguments(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    _leads(app, fake_slack)
    fake_slack.add_user("U0MANAGER", tz="America/Los_Angeles")

    team = _slash(app, fake_slack, "/leadstats", "team inbound 30d", "U0MANAGER", "team")
    blocks = team["blocks"]
    text = json.dumps(blocks)
    assert len(blocks) <= 50
    assert blocks[0]["text"]["text"] == "Lead stats — team inbound, last 30 days"
    summary = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in blocks[2]["fields"]}
    assert summary["*Leads*"] == "3"
    assert summary["*Contacted within SLA*"].endswith("(1 of 1)")  # the others still run
    assert summary["*Gini of leads per rep*"].startswith("0.44")  # [2, 1, 0]: Cara is on PTO
    assert "<@U0ALICE> (weight 1): 2 leads" in text and "<@U0CARA> (weight 1): 0 leads" in text
    assert "Conversion by routing method" in text and "Where leads stall" in text

    mine = _slash(app, fake_slack, "/leadstats", "", "U0ALICE", "me")
    assert mine["blocks"][0]["text"]["text"] == "Lead stats — one rep, last 30 days"
    assert mine["blocks"][1]["elements"][0]["text"].startswith("<@U0ALICE> · ")
    source = _slash(app, fake_slack, "/leadstats", "source web_form 7d", "U0MANAGER", "source")
    assert source["blocks"][2]["fields"][0]["text"] == "*Leads*\n2"
    nothing = _slash(app, fake_slack, "/leadstats", "source billboard", "U0MANAGER", "empty")
    assert "No leads for source billboard" in json.dumps(nothing["blocks"])

    bad = _slash(app, fake_slack, "/leadstats", "everything please", "U0MANAGER", "bad")
    assert "I don't understand" in bad["text"] and "Usage: `/leadstats" in bad["text"]
    unknown = _slash(app, fake_slack, "/leadstats", "team nosuch", "U0MANAGER", "nosuch")
    assert "no team named “nosuch”" in unknown["text"]
    # The manager asked five times; Slack was asked for their timezone once.
    infos = [c for c in fake_slack.calls_to("users.info") if c.params["user"] == "U0MANAGER"]
    assert len(infos) == 1


def test_home_tab_shows_the_reps_leads_most_urgent_first_and_their_figures(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    made = _leads(app, fake_slack)
    app.post_slack(event_body(app_home_opened_event("U0ALICE")))
    fake_slack.wait_for("views.publish", predicate=lambda c: c.params["user_id"] == "U0ALICE")
    home = fake_slack.home_view("U0ALICE")
    assert home is not None and home["type"] == "home" and len(home["blocks"]) <= 100
    text = json.dumps(home["blocks"])
    contacted, waiting = [lead for lead in made if lead["owner"] == "U0ALICE"]
    # The lead still waiting for contact comes first, with its time left and buttons;
    # the contacted one is still being worked and shows its SLA as met.
    assert text.index(f"Co {made.index(waiting)}") < text.index(f"Co {made.index(contacted)}")
    assert f'"block_id": "q:{waiting["id"]}"' in text and "release_lead" in text
    assert "left)" in text and "within SLA" in text
    assert "Your last 30 days:* 2 leads" in text

    app.post_slack(event_body(app_home_opened_event("U0DAN")))
    fake_slack.wait_for("views.publish", predicate=lambda c: c.params["user_id"] == "U0DAN")
    empty = json.dumps(fake_slack.home_view("U0DAN"))
    assert "Nothing waiting for you right now" in empty and "/leads team" in empty

    queue = _slash(app, fake_slack, "/leads", "", "U0ALICE", "queue")
    assert len(queue["blocks"]) <= 50 and "Your last 30 days:* 2 leads" in json.dumps(queue)


def test_api_stats_gives_the_same_figures_as_json(app: AppProcess, fake_slack: FakeSlack) -> None:
    _leads(app, fake_slack)
    auth = {"Authorization": "Bearer secret-1"}
    body = app.get("/api/stats?team=inbound&period=7d&tz=Europe/Paris", headers=auth).json()
    assert body["scope"] == {"kind": "team", "value": "inbound"} and body["period"] == "7d"
    assert body["total"]["leads"] == 3 and body["total"]["sla_rate"] == 1.0
    assert {rep["key"]: rep["leads"] for rep in body["reps"]} == {
        "U0ALICE": 2, "U0BOB": 1, "U0CARA": 0,
    }  # fmt: skip
    assert body["gini"] == pytest.approx(4 / 9)
    assert body["start"].endswith("+00:00")
    pull = app.get("/api/stats?team=healthcare", headers=auth).json()
    assert [(q["method"], q["unclaimed"]) for q in pull["queues"]] == [("pull", 1)]

    assert app.get("/api/stats?team=inbound").status_code == 401
    refused = app.get("/api/stats?team=inbound&source=x&period=1y&tz=Mars/Base", headers=auth)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"team", "period", "tz"}
    assert app.get("/api/stats?team=nosuch", headers=auth).status_code == 404
