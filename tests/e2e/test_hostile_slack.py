"""The Slack side of a stranger's form, on the running app: a flood into a full team
pages its manager a handful of times, not once per lead; and an erasure leaves the
person in no table, no database file (the -wal included) and no Slack message, be it
the card, the reminder, the escalation or the manager's DM.

Why end to end: the alerts fold in the dispatcher and the erasure spans the database
files, the outbox and the messages Slack already holds.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.app_process import AppProcess
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

FULL_TEAM = """
version: 1
admins: [U0ADMIN]
reps: [{user: U0ALICE, capacity: 1}]
teams:
  - {name: inbound, channel: C0INBOUND, manager: U0MANAGER, members: [{user: U0ALICE}]}
rules:
  - {name: everyone, then: {team: inbound}}
"""
FAST_SLA = """
version: 1
admins: [U0ADMIN]
reps: [{user: U0ALICE}, {user: U0BACKUP}]
teams:
  - {name: inbound, channel: C0INBOUND, manager: U0MANAGER, backup: U0BACKUP,
     members: [{user: U0ALICE}, {user: U0BACKUP}]}
rules:
  - {name: everyone, then: {team: inbound}}
slas:
  demo_request:
    respond_within: 2s
    remind_at: [50%]
    escalation: [{after: 0s, do: notify_manager}, {after: 0s, do: notify_owner},
                 {after: 1s, do: reassign}]
"""
PERSON = {
    "email": "zelda.hyrule@prospect.io",
    "first_name": "Zelda",
    "last_name": "Hyrulia",
    "phone": "+1 555 867 5309",
    "company": "Triforce Holdings",
    "lead_type": "demo_request",
}
TRACES = ("Zelda", "Hyrulia", "zelda.hyrule", "Triforce")


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def test_a_flood_into_a_full_team_is_a_handful_of_dms(
    start_app: Callable[..., AppProcess], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    app = start_app(config_path=_config(tmp_path, FULL_TEAM))
    answers = app.post_leads_batch(
        {"leads": [{"email": f"flood{i}@prospect.io"} for i in range(300)]}
    )
    assert answers.status_code == 200
    assert all(item["status"] == 201 for item in answers.json()["results"])
    fake_slack.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == "DU0MANAGER")
    fake_slack.settle(quiet=3.0, timeout=60)
    to_manager = [
        call
        for call in fake_slack.delivered("chat.postMessage")
        if call.params["channel"] == "DU0MANAGER"
    ]
    assert 1 <= len(to_manager) <= 3, [call.params["text"] for call in to_manager]


def test_erasure_leaves_no_trace_in_tables_files_or_messages(
    start_app: Callable[..., AppProcess], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    database = tmp_path / "lr.db"
    app = start_app(f"sqlite+aiosqlite:///{database}", _config(tmp_path, FAST_SLA))
    lead = app.post_lead(PERSON).json()
    fake_slack.wait_for(  # the manager's DM: the chain has run
        "chat.postMessage", predicate=lambda c: c.params["channel"] == "DU0MANAGER", timeout=30
    )
    crm = app.post_lead_event(
        lead["id"], {"type": "qualified", "by": "Zelda Hyrulia", "note": "Zelda says hi"}
    )
    assert crm.status_code == 200, crm.text
    fake_slack.settle(quiet=2.0, timeout=30)
    posts = fake_slack.delivered("chat.postMessage")
    assert len(posts) >= 3  # the card, then the reminder and notices to the owner and manager
    assert any("Zelda" in json.dumps(call.params) for call in posts)

    erased = app.request(
        "DELETE", f"/api/leads/{lead['id']}", headers={"Authorization": "Bearer secret-1"}
    )
    assert erased.status_code == 200, erased.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = [fake_slack.message(c.response["channel"], c.response["ts"]) for c in posts]
        if not any(word in json.dumps(shown) for word in TRACES):
            break
        time.sleep(0.3)
    for call in posts:
        message = json.dumps(fake_slack.message(call.response["channel"], call.response["ts"]))
        for word in TRACES:
            assert word not in message, (word, message)
        assert not re.search(r"867\D{0,3}5309", message)

    timeline = app.get_lead(lead["id"]).json()["timeline"]
    assert "Zelda" not in json.dumps(timeline)
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    stored = b"".join(path.read_bytes() for path in files if path.exists())  # app still running
    for word in TRACES:
        assert word.encode() not in stored, word
    assert b"8675309" not in stored
