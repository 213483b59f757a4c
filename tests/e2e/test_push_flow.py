"""Issue 3 end to end: a lead posted over HTTP reaches the right rep's DM; the rep
marks it contacted with a signed click; the timeline tells the whole story."""

from __future__ import annotations

import json
import time

import pytest

from harness.app_process import AppProcess
from harness.slack_signing import block_action_body
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

LEAD = {
    "email": "jo@prospect.io",
    "first_name": "Jo",
    "last_name": "Prospect",
    "company": "Prospect Inc",
    "lead_type": "demo_request",
    "source": "web_form",
    "score": 72,
}


def _button(blocks: list[dict], action_id: str) -> dict:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button in {json.dumps(blocks)[:500]}")


def test_lead_reaches_rep_dm_and_contacted_stops_the_clock(app: AppProcess, fake_slack: FakeSlack):
    response = app.post_lead(LEAD)
    assert response.status_code == 201, response.text
    lead = response.json()
    assert lead["owner"] == "U0ALICE"
    assert lead["method"] == "push"
    assert lead["team"] == "inbound"
    assert lead["status"] == "assigned"
    assert lead["decision"]["rule"] == "everyone else"
    assert any("round robin" in reason for reason in lead["decision"]["reasons"])
    assert lead["sla_due_at"].endswith("Z")

    (opened,) = fake_slack.wait_for("conversations.open")
    assert opened.params["users"] == "U0ALICE"
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == "DU0ALICE"
    blocks = posted.params["blocks"]
    text = json.dumps(blocks)
    assert "Jo Prospect" in text and "Prospect Inc" in text
    assert "<!date^" in text  # the SLA due time, in each reader's timezone
    assert "round robin" in text  # why it is theirs
    contacted_button = _button(blocks, "mark_contacted")
    assert contacted_button["value"] == lead["id"]
    _button(blocks, "release_lead")

    ts = posted.response["ts"]
    click = block_action_body(
        "mark_contacted",
        lead["id"],
        user_id="U0ALICE",
        channel_id="DU0ALICE",
        message_ts=ts,
        response_url=fake_slack.response_url("contacted"),
    )
    clicked = app.post_slack(click)
    assert clicked.status_code == 200

    (update,) = fake_slack.wait_for("chat.update")
    assert update.params["ts"] == ts
    assert "Contacted after" in json.dumps(update.params["blocks"])
    assert "mark_contacted" not in json.dumps(update.params["blocks"])

    timeline = app.get_lead(lead["id"]).json()
    assert timeline["status"] == "contacted"
    assert timeline["sla"]["state"] == "met"
    types = [event["type"] for event in timeline["timeline"]]
    assert types == ["created", "routed", "assigned", "contacted"]
    contacted = timeline["timeline"][-1]
    assert contacted["actor"] == "U0ALICE"
    assert contacted["data"]["within_sla"] is True
    assert contacted["data"]["response_seconds"] >= 0


def test_round_robin_skips_pto_and_rotates(app: AppProcess, fake_slack: FakeSlack):
    owners = [app.post_lead({"email": f"p{i}@x.io"}).json()["owner"] for i in range(4)]
    assert owners == ["U0ALICE", "U0BOB", "U0ALICE", "U0BOB"]  # U0CARA is on PTO
    lead = app.get_lead(app.post_lead({"email": "p9@x.io"}).json()["id"]).json()
    assert any("U0CARA" in reason and "PTO" in reason for reason in lead["decision"]["reasons"])
    fake_slack.wait_for("chat.postMessage", count=5)


def test_pull_lead_is_posted_to_channel_and_claimed_once(app: AppProcess, fake_slack: FakeSlack):
    lead = app.post_lead({"email": "doc@clinic.org", "industry": "Healthcare"}).json()
    assert lead["method"] == "pull" and lead["owner"] is None and lead["status"] == "queued"
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == "C0HEALTH"
    assert _button(posted.params["blocks"], "claim_lead")["value"] == lead["id"]
    ts = posted.response["ts"]

    def claim(user: str) -> None:
        body = block_action_body(
            "claim_lead",
            lead["id"],
            user_id=user,
            channel_id="C0HEALTH",
            message_ts=ts,
            response_url=fake_slack.response_url(user),
        )
        assert app.post_slack(body).status_code == 200

    claim("U0ALICE")  # not a member of healthcare
    fake_slack.wait_for("response_url", count=1)
    claim("U0DAN")
    claim("U0BOB")
    fake_slack.wait_for("response_url", count=2)
    assert app.get_lead(lead["id"]).json()["owner"] == "U0DAN"
    replies = {call.target: call.params["text"] for call in fake_slack.calls_to("response_url")}
    assert "U0DAN" in replies["U0BOB"]
    assert "Only members of healthcare" in replies["U0ALICE"]
    (update,) = fake_slack.wait_for("chat.update")
    assert "<@U0DAN>" in json.dumps(update.params["blocks"])


def test_duplicates_are_answered_without_paging_twice(app: AppProcess, fake_slack: FakeSlack):
    first = app.post_lead(LEAD, idempotency_key="form-123")
    again = app.post_lead(LEAD, idempotency_key="form-123")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["id"] == first.json()["id"]
    same_email = app.post_lead({**LEAD, "first_name": "Joanna"})
    assert same_email.status_code == 200 and same_email.json()["id"] == first.json()["id"]
    by_external = app.post_lead({"email": "other@x.io", "external_id": "crm-9"}, key="secret-2")
    by_external_again = app.post_lead(
        {"phone": "+1 555 0100", "external_id": "crm-9"}, key="secret-2"
    )
    assert by_external_again.json()["id"] == by_external.json()["id"]
    fake_slack.wait_for("chat.postMessage", count=2)
    fake_slack.settle(quiet=0.7)
    assert len(fake_slack.delivered("chat.postMessage")) == 2


def test_closed_loop_events_from_the_crm(app: AppProcess, fake_slack: FakeSlack):
    lead = app.post_lead(LEAD).json()
    qualified = app.post_lead_event(lead["id"], {"type": "qualified", "by": "crm-sync"})
    assert qualified.status_code == 200, qualified.text
    body = qualified.json()
    assert body["status"] == "qualified" and body["contacted_at"] is not None
    backwards = app.post_lead_event(lead["id"], {"type": "contacted"})
    assert backwards.status_code == 409 and "backwards" in backwards.json()["error"]
    unknown = app.post_lead_event(lead["id"], {"type": "teleported"})
    assert unknown.status_code == 422
    assert app.post_lead_event("nope", {"type": "won"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "No contact"}, "body"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b.io", "score": 101}, "score"),
        ({"email": "a@b.io", "employees": "many"}, "employees"),
        ({"email": "a@b.io", "favourite_colour": "blue"}, "favourite_colour"),
        ({"email": "a@b.io", "lead_type": "cold_call"}, "lead_type"),
    ],
)
def test_invalid_leads_get_field_errors_and_store_nothing(app: AppProcess, body: dict, field: str):
    response = app.post_lead(body)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert app.post_lead({"email": "later@x.io"}).json()["owner"] == "U0ALICE"  # first stored


def test_refusals_store_nothing(app: AppProcess, fake_slack: FakeSlack):
    assert app.post_lead(LEAD, key=None).status_code == 401
    assert app.post_lead(LEAD, key="wrong-secret").status_code == 401
    big = {**LEAD, "attributes": {"notes": "x" * 70_000}}
    assert app.post_lead(big).status_code == 413
    not_json = app.post(
        "/api/leads", content=b"{nope", headers={"Authorization": "Bearer secret-1"}
    )
    assert not_json.status_code == 422
    stored = app.post_lead(LEAD)
    assert stored.status_code == 201  # not a duplicate: nothing above was stored

    click = block_action_body("mark_contacted", stored.json()["id"], user_id="U0ALICE")
    assert app.post_slack(click, secret="forged-secret").status_code == 401
    assert app.post_slack(click, timestamp=int(time.time()) - 600).status_code == 401
    assert app.post_slack(click, sign=False).status_code == 401
    assert app.get_lead(stored.json()["id"]).json()["status"] == "assigned"


def test_batch_reports_each_item_in_order(app: AppProcess):
    response = app.post_leads_batch(
        {"leads": [{"email": "b1@x.io"}, {"email": "bad"}, {"email": "b1@x.io"}]}
    )
    assert response.status_code == 200
    statuses = [item["status"] for item in response.json()["results"]]
    assert statuses == [201, 422, 200]


def test_health_ready_and_metrics(app: AppProcess):
    assert app.get("/healthz").json() == {"status": "ok"}
    assert app.get("/readyz").json()["status"] == "ready"
    app.post_lead(LEAD)
    metrics = app.get("/metrics").text
    assert 'leadrouter_leads_received_total{submitter="webform"} 1.0' in metrics


def test_a_201_survives_sigkill_and_the_dm_is_sent_once(app: AppProcess, fake_slack: FakeSlack):
    fake_slack.fail("conversations.open", status=500, times=None)  # Slack is down
    response = app.post_lead(LEAD)
    assert response.status_code == 201
    fake_slack.wait_for("conversations.open", failed=True)
    app.kill()
    fake_slack.clear_faults()
    app.start()
    fake_slack.wait_for("chat.postMessage", timeout=30)
    fake_slack.settle(quiet=1.5)
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert app.get_lead(response.json()["id"]).json()["owner"] == "U0ALICE"
