"""Qualification end to end: a lead below the MQL line pages no one and waits in
nurture; activity carries it over the line and it is routed once; Disqualify with a
reason from the card lands on the timeline and in the stats; Qualified and Disqualify
pressed at once leave exactly one outcome."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.app_process import AppProcess
from harness.slack_signing import (
    block_action_body,
    slash_command_body,
    static_select,
    text_input,
    view_submission_body,
)
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

CONFIG = """
version: 1
admins: [U0ADMIN]
reps: [{user: U0ALICE}, {user: U0BOB}]
teams:
  - name: inbound
    channel: C0INBOUND
    manager: U0MANAGER
    members: [{user: U0ALICE}, {user: U0BOB}]
rules:
  - {name: hot leads, when: {grade: {prefix: A}, mql: true}, then: {team: inbound}}
  - {name: everyone, then: {team: inbound}}
scoring:
  decides: model
  fit: [{label: 500+ employees, when: {employees: {gte: 500}}, points: 30}]
  engagement:
    - {label: pricing page, activity: pricing_page, points: 10, group: web}
    - {label: webinar, activity: webinar_attended, points: 20}
  caps: {web: 30}
  fit_grades: {A: 30, B: 15}
  engagement_grades: {"1": 30, "2": 10}
  mql_at: 50
  always_route: [demo_request]
  disqualify_reasons: [no budget, spam]
"""


@pytest.fixture
def app(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[AppProcess]:
    config = tmp_path / "scoring.yml"
    config.write_text(CONFIG)
    with AppProcess(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}",
        config_path=config,
        slack_api_url=fake_slack.url,
        log_dir=tmp_path / "app",
    ) as process:
        yield process


def _activity(app: AppProcess, lead_id: str, kind: str) -> httpx.Response:
    return app.post(
        f"/api/leads/{lead_id}/activity",
        json={"type": kind},
        headers={"Authorization": "Bearer secret-1"},
    )


def _stats(app: AppProcess, source: str) -> dict[str, Any]:
    answer = app.get(f"/api/stats?source={source}", headers={"Authorization": "Bearer secret-1"})
    assert answer.status_code == 200
    return answer.json()["scoring"]


def _click(app: AppProcess, fake: FakeSlack, action: str, lead_id: str, user: str) -> None:
    body = block_action_body(
        action,
        lead_id,
        user_id=user,
        channel_id=f"D{user}",
        response_url=fake.response_url(f"{action}-{user}"),
    )
    assert app.post_slack(body).status_code == 200


def _submit(app: AppProcess, action: str, lead_id: str, user: str, reason: str) -> dict:
    body = view_submission_body(
        action,
        {"reason": {"reason": static_select(reason)}},
        user_id=user,
        private_metadata=lead_id,
    )
    response = app.post_slack(body)
    assert response.status_code == 200
    return json.loads(response.content or b"{}")


def test_below_the_line_pages_no_one_until_activity_routes_it_once(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    created = app.post_lead({"email": "cto@big.io", "employees": 900, "source": "ads"})
    assert created.status_code == 201
    lead = created.json()
    assert (lead["status"], lead["owner"], lead["grade"], lead["mql"]) == (
        "nurture",
        None,
        "A3",
        False,
    )
    assert lead["score_reasons"] == [{"points": 30, "reason": "500+ employees"}]
    assert _stats(app, "ads")["nurtured"] == 1

    warm = _activity(app, lead["id"], "pricing_page")
    assert warm.status_code == 200
    assert (warm.json()["status"], warm.json()["grade"]) == ("nurture", "A2")
    fake_slack.settle()
    assert fake_slack.calls_to("chat.postMessage") == []  # nobody paged: no card, no alert

    hot = _activity(app, lead["id"], "webinar_attended").json()
    assert hot["status"] == "assigned" and hot["mql"] is True and hot["grade"] == "A1"
    owner = hot["owner"]
    fake_slack.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == f"D{owner}")
    again = _activity(app, lead["id"], "webinar_attended").json()
    assert again["owner"] == owner and again["status"] == "assigned"
    fake_slack.settle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    timeline = app.get_lead(lead["id"]).json()["timeline"]
    assert [event["type"] for event in timeline].count("routed") == 1
    assert any("Rule “hot leads” matched" in event["reason"] for event in timeline)


def test_disqualify_from_the_card_lands_on_the_timeline_and_in_the_stats(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    lead = app.post_lead(
        {"email": "jo@small.io", "lead_type": "demo_request", "source": "webinar"}
    ).json()
    assert lead["status"] == "assigned" and lead["mql"] is False  # demo requests always route
    owner = lead["owner"]
    (card,) = fake_slack.wait_for("chat.postMessage")
    text = json.dumps(card.params["blocks"], ensure_ascii=False)
    assert "*Score:* C3 · 0" in text and "disqualify_lead" in text

    stranger = "U0BOB" if owner == "U0ALICE" else "U0ALICE"
    _click(app, fake_slack, "disqualify_lead", lead["id"], stranger)
    (refusal,) = fake_slack.wait_for("response_url")
    assert "only its owner, the team's manager or an admin" in refusal.params["text"]

    _click(app, fake_slack, "disqualify_lead", lead["id"], owner)
    (opened,) = fake_slack.wait_for("views.open")
    options = opened.params["view"]["blocks"][1]["element"]["options"]
    assert [option["value"] for option in options] == ["no budget", "spam"]
    refused = _submit(app, "disqualify_lead", lead["id"], owner, "teleported")
    assert refused["response_action"] == "errors"
    assert _submit(app, "disqualify_lead", lead["id"], owner, "no budget") == {}

    body = app.get_lead(lead["id"]).json()
    assert body["status"] == "disqualified"
    last = body["timeline"][-1]
    assert (last["type"], last["actor"], last["data"]["reason"]) == (
        "disqualified",
        owner,
        "no budget",
    )
    assert body["sla"]["state"] in ("met", "missed")  # the clock stopped there
    sources = _stats(app, "webinar")["sources"]
    assert sources[0]["disqualified"] == 1
    assert sources[0]["disqualify_reasons"] == {"no budget": 1}


def test_qualified_and_disqualify_at_once_leave_exactly_one_outcome(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    leads = [
        app.post_lead({"email": f"race{i}@x.io", "lead_type": "demo_request"}).json()
        for i in range(4)
    ]

    def qualify(lead: dict) -> None:
        _click(app, fake_slack, "qualify_lead", lead["id"], lead["owner"])

    def disqualify(lead: dict) -> dict:
        return _submit(app, "disqualify_lead", lead["id"], "U0MANAGER", "spam")

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(qualify, lead) for lead in leads]
        futures += [pool.submit(disqualify, lead) for lead in leads]
        for future in futures:
            future.result()
    for lead in leads:
        body = app.get_lead(lead["id"]).json()
        outcomes = [
            e["type"] for e in body["timeline"] if e["type"] in ("qualified", "disqualified")
        ]
        assert len(outcomes) == 1, outcomes
        assert body["status"] == outcomes[0]


def test_an_admin_edits_the_model_in_slack(app: AppProcess, fake_slack: FakeSlack) -> None:
    opened = slash_command_body("/leadrouter", "", user_id="U0ADMIN")
    assert app.post_slack(opened).status_code == 200
    menu = fake_slack.wait_for("views.open")[-1].response["view"]
    click = block_action_body("admin_scoring", user_id="U0ADMIN", view=menu)
    assert app.post_slack(click).status_code == 200
    modal = fake_slack.wait_for("views.push")[-1].response["view"]
    assert "mql_at: 50" in modal["blocks"][1]["element"]["initial_value"]

    def submit(text: str, user: str) -> dict:
        body = view_submission_body(
            "admin_scoring",
            {"scoring_yaml": {"scoring_yaml": text_input(text)}},
            user_id=user,
            private_metadata=modal["private_metadata"],
            view_id=modal["id"],
        )
        response = app.post_slack(body)
        assert response.status_code == 200
        return response.json() if response.content else {}

    assert submit("mql_at: 0", "U0ALICE")["response_action"] == "errors"  # admins only
    invalid = submit("mql_at: 500", "U0ADMIN")
    assert "scoring.mql_at" in invalid["errors"]["scoring_yaml"]
    assert submit("mql_at: 0", "U0ADMIN")["response_action"] == "update"
    lead = app.post_lead({"email": "anyone@gmail.com"}).json()
    assert lead["status"] == "assigned" and lead["mql"] is True  # nobody is nurtured now
