"""The routing review on a seeded database: leads through the API, "Wrong routing?"
reports through Slack, a rep deactivated in Slack; `leadrouter review` and
`/leadrouter review` find each planted problem and nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.app_process import REPO_ROOT, AppProcess
from harness.slack_signing import (
    block_action_body,
    slash_command_body,
    text_input,
    view_submission_body,
)
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

TODAY = datetime.now(UTC).date()
CONFIG = f"""
version: 1
admins: [U0ADMIN]
reps:
  - {{user: U0ALICE}}
  - {{user: U0BOB}}
  - {{user: U0GONE}}
  - {{user: U0OFF, active: false}}
  - {{user: U0DAN}}
  - {{user: U0AWAY, pto: [{{from: {TODAY - timedelta(days=80)}, to: {TODAY + timedelta(days=5)}}}]}}
  - {{user: U0OWNER, active: false}}
teams:
  - name: inbound
    channel: C0INBOUND
    members: [{{user: U0ALICE}}, {{user: U0BOB}}, {{user: U0GONE}}, {{user: U0OFF}}]
  - name: healthcare
    channel: C0HEALTH
    members: [{{user: U0DAN}}, {{user: U0AWAY}}]
accounts:
  - {{domain: old.com, owner: U0OWNER}}
rules:
  - name: legacy territory
    when: {{country: ZZ}}
    then: {{team: inbound}}
  - name: healthcare
    when: {{industry: healthcare}}
    then: {{team: healthcare}}
  - name: referrals
    when: {{source: referral}}
    then: {{team: inbound}}
  - name: everyone else
    then: {{team: inbound}}
"""
PLANTED = {
    ("rule_unmatched", "legacy territory"),
    ("misroute_feedback", "referrals"),
    ("rep_gone", "U0GONE"),
    ("rep_inactive", "U0OFF"),
    ("rep_mostly_away", "U0AWAY"),
    ("account_orphaned", "old.com"),
}


@pytest.fixture
def app(fake_slack: FakeSlack, tmp_path: Path) -> Any:
    config = tmp_path / "config.yml"
    config.write_text(CONFIG)
    process = AppProcess(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}",
        config_path=config,
        slack_api_url=fake_slack.url,
        log_dir=tmp_path / "app",
    )
    with process:
        yield process


def seed(app: AppProcess, fake: FakeSlack) -> None:
    fake.add_user("U0GONE", deleted=True)
    leads = [{"email": f"h{i}@x.io", "industry": "healthcare"} for i in range(12)]
    leads += [{"email": f"r{i}@x.io", "source": "referral"} for i in range(12)]
    leads += [{"email": f"o{i}@x.io"} for i in range(8)]
    results = app.post_leads_batch(leads).json()["results"]
    referrals = [r["lead"] for r in results[12:24] if r["lead"]["owner"] == "U0ALICE"]
    for index, lead in enumerate(referrals[:3]):
        values = {
            "reason": {
                "reason": {"type": "radio_buttons", "selected_option": {"value": "territory"}}
            },
            "text": {"text": text_input(None)},
        }
        body = view_submission_body(
            "misroute_report",
            values,
            user_id="U0ALICE",
            private_metadata=json.dumps({"lead": lead["id"]}),
        )
        assert app.post_slack(body).status_code == 200, index


def run_review(app: AppProcess, fake: FakeSlack) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LEADROUTER_DATABASE_URL": app.db_url,
        "PYTHONPATH": str(REPO_ROOT),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake.url,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "review", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_review_finds_each_planted_problem_and_nothing_else(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    seed(app, fake_slack)
    done = run_review(app, fake_slack)
    assert done.returncode == 1, done.stderr  # findings
    review = json.loads(done.stdout)
    found = {(f["kind"], f["subject"]) for f in review["findings"]}
    assert found == PLANTED
    assert review["leads"] == 32
    shares = {line["rule"]: line["leads"] for line in review["rules"]}
    assert shares == {"legacy territory": 0, "healthcare": 12, "referrals": 12, "everyone else": 8}

    body = slash_command_body(
        "/leadrouter", "review", user_id="U0ADMIN", response_url=fake_slack.response_url("review")
    )
    assert app.post_slack(body).status_code == 200
    (reply,) = fake_slack.wait_for(
        "response_url", predicate=lambda c: c.target == "review", timeout=60
    )
    sections = [b for b in reply.params["blocks"] if b.get("block_id", "").startswith("finding:")]
    assert len(sections) == len(PLANTED)
    legacy = next(b for b in sections if "legacy territory" in b["text"]["text"])
    fix = legacy["accessory"]
    assert fix["action_id"] == "review_fix" and json.loads(fix["value"])["modal"] == "rule"

    click = block_action_body("review_fix", fix["value"], user_id="U0ADMIN", trigger_id="T1")
    assert app.post_slack(click).status_code == 200
    (opened,) = fake_slack.wait_for("views.open", timeout=60)
    assert opened.params["view"]["callback_id"] == "admin_rule"

    refused = slash_command_body(
        "/leadrouter", "review", user_id="U0ALICE", response_url=fake_slack.response_url("rep")
    )
    assert app.post_slack(refused).status_code == 200
    (no,) = fake_slack.wait_for("response_url", predicate=lambda c: c.target == "rep", timeout=60)
    assert "admin" in no.params["text"].lower()


def test_leads_why_shows_a_rep_their_rules_teams_and_recent_leads(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    seed(app, fake_slack)
    body = slash_command_body(
        "/leads", "why", user_id="U0DAN", response_url=fake_slack.response_url("why")
    )
    assert app.post_slack(body).status_code == 200
    (reply,) = fake_slack.wait_for(
        "response_url", predicate=lambda c: c.target == "why", timeout=60
    )
    text = "\n".join(block["text"]["text"] for block in reply.params["blocks"])
    assert "2. healthcare (when industry = healthcare) → to team healthcare" in text
    assert "healthcare: round robin, you are" in text
    assert "assigned: rule “healthcare”" in text
    other = slash_command_body(
        "/leads", "why <@U0ALICE|alice>", user_id="U0DAN", response_url=fake_slack.response_url("o")
    )
    assert app.post_slack(other).status_code == 200
    (no,) = fake_slack.wait_for("response_url", predicate=lambda c: c.target == "o", timeout=60)
    assert no.params["text"].startswith("Only admins can see another rep's routing")
