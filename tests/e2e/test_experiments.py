"""An experiment end to end: generated leads split between two arms by the running app,
outcomes posted through the API where arm B converts better by construction, and the
report from the CLI, `/leadstats experiment`, `GET /api/stats?experiment=`, then Promote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
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

CONFIG = """
version: 1
admins: [U0ADMIN]
reps:
  - {user: U0ALICE}
  - {user: U0BOB}
  - {user: U0DAN}
  - {user: U0EVE}
teams:
  - {name: inbound, channel: C0INBOUND, members: [{user: U0ALICE}, {user: U0BOB}]}
  - {name: seniors, channel: C0SENIORS, members: [{user: U0DAN}, {user: U0EVE}]}
rules:
  - name: everyone else
    then: {team: inbound}
experiments:
  - name: seniors-midmarket
    segment: {employees: {gte: 50}}
    arms: [{name: A}, {name: B, team: seniors}]
    metric: lead_to_opportunity
    min_effect: 20
    end: 2999-12-31
"""
LEADS = 160  # two batches; B at 50% against A at 15% is still about five standard errors apart


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


def cli(app: AppProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEADROUTER_DATABASE_URL": app.db_url, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("SLACK_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def slash(app: AppProcess, fake: FakeSlack, text: str, user: str, token: str) -> dict[str, Any]:
    body = slash_command_body(
        "/leadstats", text, user_id=user, response_url=fake.response_url(token)
    )
    assert app.post_slack(body).status_code == 200
    (reply,) = fake.wait_for("response_url", predicate=lambda c: c.target == token, timeout=60)
    return reply.params


def test_arm_b_converting_better_is_found_reported_everywhere_and_promoted(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    leads = []
    for start in range(0, LEADS, 80):
        batch = [{"email": f"m{i}@co{i}.io", "employees": 120} for i in range(start, start + 80)]
        response = app.post_leads_batch(batch)
        assert response.status_code == 200, response.text
        leads += [item["lead"] for item in response.json()["results"]]
    outside = app.post_lead({"email": "tiny@small.io", "employees": 5}).json()
    assert "experiment" not in outside["decision"]

    arms = Counter(lead["decision"]["arm"] for lead in leads)
    assert set(arms) == {"A", "B"} and min(arms.values()) > LEADS * 0.35
    for lead in leads:
        team = "seniors" if lead["decision"]["arm"] == "B" else "inbound"
        assert lead["team"] == team
        assert lead["decision"]["reasons"][0].startswith("Experiment “seniors-midmarket”: arm ")

    waiting = cli(app, "experiment", "report", "seniors-midmarket")
    assert waiting.returncode == 0, waiting.stderr
    assert "no lead in either arm has reached lead-to-opportunity yet" in waiting.stdout

    # By construction: half of B's leads become opportunities, 15% of A's.
    for index, lead in enumerate(leads):
        assert app.post_lead_event(lead["id"], {"type": "contacted"}).status_code == 200
        converts = index % 20 < (10 if lead["decision"]["arm"] == "B" else 3)
        if converts:
            assert app.post_lead_event(lead["id"], {"type": "opportunity"}).status_code == 200

    found = cli(app, "experiment", "report", "seniors-midmarket", "--json")
    assert found.returncode == 0, found.stderr
    report = json.loads(found.stdout)
    [verdict] = report["verdicts"]
    assert verdict["outcome"] == "better" and verdict["arm"] == "B"
    assert [arm["leads"] for arm in report["arms"]] == [arms["A"], arms["B"]]
    text = cli(app, "experiment", "report", "seniors-midmarket").stdout
    assert "Verdict: B is better on lead-to-opportunity, 95% CI +" in text

    auth = {"Authorization": "Bearer secret-1"}
    api = app.get("/api/stats?experiment=seniors-midmarket", headers=auth)
    assert api.status_code == 200
    assert api.json()["verdicts"] == report["verdicts"]
    assert app.get("/api/stats?experiment=nope", headers=auth).status_code == 404

    shown = slash(app, fake_slack, "experiment seniors-midmarket", "U0ADMIN", "admin")
    blocks = json.dumps(shown["blocks"])
    assert "B is better on lead-to-opportunity" in blocks
    [actions] = [b for b in shown["blocks"] if b["type"] == "actions"]
    promote = actions["elements"][0]
    assert promote["action_id"] == "experiment_promote"
    rep_view = slash(app, fake_slack, "experiment seniors-midmarket", "U0ALICE", "rep")
    assert not [b for b in rep_view["blocks"] if b["type"] == "actions"]

    click = block_action_body(
        "experiment_promote",
        promote["value"],
        user_id="U0ADMIN",
        response_url=fake_slack.response_url("promoted"),
    )
    assert app.post_slack(click).status_code == 200
    (answer,) = fake_slack.wait_for(
        "response_url", predicate=lambda c: c.target == "promoted", timeout=60
    )
    assert "Promoted arm B of experiment seniors-midmarket" in answer.params["text"]
    after = app.post_lead({"email": "late@co.io", "employees": 300}).json()
    assert after["team"] == "seniors" and "experiment" not in after["decision"]
    assert after["decision"]["rule"] == "seniors-midmarket (promoted)"
    again = cli(app, "experiment", "promote", "seniors-midmarket")
    assert again.returncode == 2 and "already promoted" in again.stderr


def test_an_admin_declares_an_experiment_in_a_modal(app: AppProcess, fake_slack: FakeSlack) -> None:
    body = slash_command_body("/leadrouter", "experiment", user_id="U0ADMIN", trigger_id="T1")
    assert app.post_slack(body).status_code == 200
    (opened,) = fake_slack.wait_for("views.open", timeout=60)
    assert opened.params["view"]["callback_id"] == "experiment_edit"

    def submit(text: str) -> Any:
        values = {"experiment": {"experiment": text_input(text)}}
        return app.post_slack(view_submission_body("experiment_edit", values, user_id="U0ADMIN"))

    bad = submit("name: weights\narms: [{name: A}, {name: B, team: nowhere}]\nend: 2999-01-01")
    assert bad.json()["response_action"] == "errors"
    assert "no team named 'nowhere'" in bad.json()["errors"]["experiment"]
    good = submit(
        "name: weights\narms: [{name: A}, {name: B, weights: {U0ALICE: 3}}]\nend: 2999-01-01"
    )
    assert good.json()["response_action"] == "update", good.text
    lead = app.post_lead({"email": "w@x.io", "employees": 10}).json()
    assert lead["decision"]["experiment"] == "weights"  # no segment: every new lead
    shown = slash(app, fake_slack, "experiment weights", "U0ADMIN", "shown")
    assert "Experiment weights (running" in json.dumps(shown["blocks"])
