"""At the door of the running app, as a stranger would try it: control characters and
deep JSON get 422 on SQLite and PostgreSQL, unsigned garbage to /slack/events costs one
log line, a captured signed click cannot be replayed, and a form's key cannot read or
erase leads.

Why end to end: Bolt's parsing order, the database's refusal of NUL and the log lines
a refusal writes are properties of the wiring, not of any one function.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from harness.app_process import AppProcess
from harness.slack_signing import block_action_body, signed_headers
from tests.e2e.conftest import ALWAYS_ON_CONFIG
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

KEYS = "webform:form-secret-1:intake,crm:crm-secret-22"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(ALWAYS_ON_CONFIG)
    return path


def test_control_characters_and_deep_json_get_422_on_both_backends(
    start_app: Callable[..., AppProcess], db_url: str, config: Path
) -> None:
    app = start_app(db_url, config, api_keys=KEYS)
    for field in ("email", "source", "external_id", "first_name", "company"):
        lead = {"email": "nul@prospect.io", "first_name": "Ann", field: "x\x00y"}
        if field == "email":
            lead[field] = "nul\x00@prospect.io"
        answer = app.post_lead(lead, key="form-secret-1")
        assert answer.status_code == 422, (field, answer.text)
        assert field in {error["field"] for error in answer.json()["errors"]}
    deep = "[" * 600 + "]" * 600
    answer = app.post(
        "/api/leads",
        content=f'{{"email": "deep@prospect.io", "attributes": {{"x": {deep}}}}}',
        headers={"Authorization": "Bearer form-secret-1", "Content-Type": "application/json"},
    )
    assert answer.status_code == 422 and "levels deep" in answer.text
    too_long = app.post_lead(
        {"email": "ann@prospect.io"}, key="form-secret-1", idempotency_key="k" * 500
    )
    assert (
        too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "Idempotency-Key"
    )
    assert app.post_lead({"email": "ann@prospect.io"}, key="form-secret-1").status_code == 201
    assert "Traceback" not in app.logs()


def test_a_form_key_may_submit_but_not_read_or_erase(
    start_app: Callable[..., AppProcess], config: Path
) -> None:
    app = start_app(config_path=config, api_keys=KEYS)
    created = app.post_lead({"email": "ann@prospect.io"}, key="form-secret-1")
    assert created.status_code == 201
    lead_id = created.json()["id"]
    assert app.get_lead(lead_id, key="form-secret-1").status_code == 403
    erase = app.request(
        "DELETE", f"/api/leads/{lead_id}", headers={"Authorization": "Bearer form-secret-1"}
    )
    assert erase.status_code == 403 and "erase" in erase.json()["error"]
    assert app.get_lead(lead_id, key="crm-secret-22").json()["status"] != "erased"


def test_unsigned_garbage_costs_one_log_line_each(
    start_app: Callable[..., AppProcess], config: Path
) -> None:
    app = start_app(config_path=config)
    bodies = [
        (b"[1]", {"Content-Type": "application/json"}),
        (b"{x", {"Content-Type": "application/json"}),
        (b"payload=%7Bx", {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=1"}),
    ]
    with httpx.Client(base_url=app.base_url, timeout=15) as client:
        for body, headers in bodies:
            answer = client.post("/slack/events", content=body, headers=headers)
            assert answer.status_code == 401
    time.sleep(0.5)  # let the log lines reach the file
    logs = app.logs()
    assert logs.count("refused a request to /slack/events") == len(bodies)
    assert "Traceback" not in logs


def test_a_replayed_click_is_refused_and_claims_nothing(
    start_app: Callable[..., AppProcess], fake_slack: FakeSlack, config: Path
) -> None:
    app = start_app(config_path=config)
    lead = app.post_lead({"email": "pat@clinic.io", "industry": "healthcare"}).json()
    (card,) = fake_slack.wait_for(
        "chat.postMessage", predicate=lambda c: c.params["channel"] == "C0HEALTH"
    )
    ts = card.response["ts"]

    def click(action: str) -> tuple[bytes, dict[str, str]]:
        body = block_action_body(
            action, lead["id"], user_id="U0DAN", channel_id="C0HEALTH", message_ts=ts
        )
        return body, signed_headers(app.signing_secret, body)

    claim = click("claim_lead")
    assert app.post("/slack/events", content=claim[0], headers=claim[1]).status_code == 200
    assert app.get_lead(lead["id"]).json()["owner"] == "U0DAN"
    release = click("release_lead")
    assert app.post("/slack/events", content=release[0], headers=release[1]).status_code == 200
    fake_slack.wait_for("chat.update", count=2)
    assert app.get_lead(lead["id"]).json()["owner"] is None
    replayed = app.post("/slack/events", content=claim[0], headers=claim[1])
    assert replayed.status_code == 401 and "replay" in replayed.text
    assert app.get_lead(lead["id"]).json()["owner"] is None
