"""The running app's logs and error answers: JSON lines with request ids, no secret
and no raw personal data, while requests carry both.

Why end to end: leaks come from wiring (uvicorn's own handlers, a library's warning,
an error page echoing input), which unit tests of the formatter cannot see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.app_process import AppProcess
from harness.slack_signing import slash_command_body
from tests.e2e.conftest import ALWAYS_ON_CONFIG
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

SIGNING = "log-test-signing-secret"
KEYS = "webform:intake-secret-one,crm:intake-secret-two"
LEAD = {
    "email": "joanna.prospect@prospect.io",
    "first_name": "Joanna",
    "phone": "+1 555 867 5367",
    "lead_type": "demo_request",
}


def test_logs_are_json_with_request_ids_and_leak_nothing(
    start_app: Callable[..., AppProcess], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(ALWAYS_ON_CONFIG)
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}"
    app = start_app(
        db_url,
        config,
        env={"LEADROUTER_LOG_FORMAT": "json"},
        signing_secret=SIGNING,
        api_keys=KEYS,
    )
    # Slack refuses the first post: the retry path logs too.
    fake_slack.fail("chat.postMessage", times=1, status=500)

    created = app.post_lead(LEAD, key="intake-secret-one", headers={"X-Request-Id": "crm-77"})
    assert created.status_code == 201, created.text
    assert created.headers["x-request-id"] == "crm-77"
    generated = app.post_lead({"email": "x"}, key="intake-secret-one")
    assert generated.status_code == 422
    assert len(generated.headers["x-request-id"]) == 32
    refused = app.post_lead(LEAD, key="intake-secret-two-but-wrong")
    assert refused.status_code == 401
    assert "intake-secret" not in refused.text
    forged = app.post_slack(slash_command_body("/leads", user_id="U0ALICE"), secret="wrong-secret")
    assert forged.status_code == 401
    fake_slack.wait_for("chat.postMessage")
    app.terminate()

    lines = [line for line in app.logs().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    tagged = [e for e in entries if e.get("request_id") == "crm-77"]
    assert any(e["message"] == "POST /api/leads 201" for e in tagged)
    (received,) = [e for e in tagged if e.get("lead_id") == created.json()["id"]]
    assert received["submitter"] == "webform" and received["duplicate"] is False
    assert received["team"] == "inbound" and received["method"] == "push"
    everything = "\n".join(lines)
    for secret in (SIGNING, "intake-secret-one", "intake-secret-two", "xoxb-test"):
        assert secret not in everything, secret
    for personal in (LEAD["email"], LEAD["phone"], "5558675367"):
        assert personal not in everything, personal
