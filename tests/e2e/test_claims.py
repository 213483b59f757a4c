"""Issue 5 end to end: pull and pool leads, exactly-once claims under a storm of clicks
(also as Slack retries and across two replicas), release, reassign and the queues."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.app_process import AppProcess
from harness.slack_signing import (
    block_action_body,
    slash_command_body,
    users_select,
    view_submission_body,
)
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

REPS = [f"U0REP{i:02d}" for i in range(50)]
CONFIG = f"""
version: 1
admins: [U0ADMIN]
reps:
{chr(10).join(f"  - {{user: {rep}}}" for rep in REPS)}
  - {{user: U0AWAY, pto: [{{from: 2000-01-01, to: 2999-12-31}}]}}
teams:
  - name: pullers
    channel: C0PULL
    method: pull
    manager: U0MANAGER
    members: [{", ".join(f"{{user: {rep}}}" for rep in REPS)}, {{user: U0AWAY}}]
  - name: pool
    channel: C0POOL
    method: pool
    members: [{{user: U0REP00}}, {{user: U0REP01}}]
rules:
  - {{name: pool, when: {{source: pool}}, then: {{team: pool}}}}
  - {{name: everyone, then: {{team: pullers}}}}
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "claims.yml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def app(fake_slack: FakeSlack, config_path: Path, tmp_path: Path) -> Iterator[AppProcess]:
    with AppProcess(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}",
        config_path=config_path,
        slack_api_url=fake_slack.url,
        log_dir=tmp_path / "app",
    ) as process:
        yield process


def _posted_card(fake: FakeSlack, channel: str) -> str:
    (post,) = fake.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == channel)
    return post.response["ts"]


def _click(
    app: AppProcess,
    fake: FakeSlack,
    action: str,
    lead_id: str,
    user: str,
    channel: str,
    ts: str,
    retry: int = 0,
) -> int:
    body = block_action_body(
        action,
        lead_id,
        user_id=user,
        channel_id=channel,
        message_ts=ts,
        response_url=fake.response_url(f"{user}-{retry}"),
    )
    headers = (
        {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
    )
    return app.post_slack(body, headers=headers).status_code


def _storm(apps: list[AppProcess], fake: FakeSlack, lead_id: str, ts: str) -> list[int]:
    """50 reps click at once, and every click is delivered a second time as a retry."""
    clicks = [(rep, retry) for rep in REPS for retry in (0, 1)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(
            pool.map(
                lambda item: _click(
                    apps[hash(item) % len(apps)],
                    fake,
                    "claim_lead",
                    lead_id,
                    item[0],
                    "C0PULL",
                    ts,
                    item[1],
                ),
                clicks,
            )
        )


def _assert_one_winner(app: AppProcess, fake: FakeSlack, lead_id: str, statuses: list[int]) -> None:
    assert set(statuses) == {200}  # no 5xx, every click acknowledged
    body = app.get_lead(lead_id).json()
    winner = body["owner"]
    assert winner in REPS and body["status"] == "assigned"
    assert [e["type"] for e in body["timeline"]].count("claimed") == 1
    fake.wait_for("response_url", count=98, timeout=60, failed=None)
    fake.settle(quiet=1.0, timeout=30)
    replies = fake.calls_to("response_url")
    losers = {c.target.rsplit("-", 1)[0] for c in replies if f"<@{winner}>" in c.params["text"]}
    odd = [(c.target, c.params["text"]) for c in replies if f"<@{winner}>" not in c.params["text"]]
    assert losers == set(REPS) - {winner}, odd  # every other rep was told who won
    updates = fake.delivered("chat.update")
    assert len(updates) == 1 and f"<@{winner}>" in json.dumps(updates[0].params["blocks"])


def test_fifty_reps_claim_at_once_and_exactly_one_wins(app: AppProcess, fake_slack: FakeSlack):
    lead = app.post_lead({"email": "storm@x.io"}).json()
    assert lead["method"] == "pull" and lead["owner"] is None
    ts = _posted_card(fake_slack, "C0PULL")
    _assert_one_winner(app, fake_slack, lead["id"], _storm([app], fake_slack, lead["id"], ts))


@pytest.mark.postgres
def test_claim_storm_across_two_replicas_on_postgres(
    fake_slack: FakeSlack, config_path: Path, tmp_path: Path, postgres_db: str
):
    first = AppProcess(
        db_url=postgres_db,
        config_path=config_path,
        slack_api_url=fake_slack.url,
        log_dir=tmp_path / "a",
    )
    second = AppProcess(
        db_url=postgres_db,
        config_path=config_path,
        slack_api_url=fake_slack.url,
        log_dir=tmp_path / "b",
    )
    with first, second:
        lead = first.post_lead({"email": "storm@x.io"}).json()
        ts = _posted_card(fake_slack, "C0PULL")
        statuses = _storm([first, second], fake_slack, lead["id"], ts)
        _assert_one_winner(first, fake_slack, lead["id"], statuses)


def test_release_reopens_the_card_and_claiming_again_works(app: AppProcess, fake_slack: FakeSlack):
    lead = app.post_lead({"email": "r@x.io"}).json()
    ts = _posted_card(fake_slack, "C0PULL")
    assert _click(app, fake_slack, "claim_lead", lead["id"], "U0REP07", "C0PULL", ts) == 200
    fake_slack.wait_for("chat.update")
    assert _click(app, fake_slack, "release_lead", lead["id"], "U0REP08", "C0PULL", ts) == 200
    (refusal,) = fake_slack.wait_for("response_url")
    assert "U0REP07" in refusal.params["text"]  # only the owner or a manager may release
    assert _click(app, fake_slack, "release_lead", lead["id"], "U0REP07", "C0PULL", ts) == 200
    fake_slack.wait_for("chat.update", count=2)
    message = fake_slack.message("C0PULL", ts)
    text = json.dumps(message["blocks"])
    assert "claim_lead" in text and "Released by" in text  # open again, with its history
    body = app.get_lead(lead["id"]).json()
    assert body["owner"] is None and body["status"] == "queued"
    assert _click(app, fake_slack, "claim_lead", lead["id"], "U0REP09", "C0PULL", ts) == 200
    fake_slack.wait_for("chat.update", count=3)
    assert app.get_lead(lead["id"]).json()["owner"] == "U0REP09"


def test_a_rep_on_pto_is_told_why_they_cannot_claim(app: AppProcess, fake_slack: FakeSlack):
    lead = app.post_lead({"email": "pto@x.io"}).json()
    ts = _posted_card(fake_slack, "C0PULL")
    _click(app, fake_slack, "claim_lead", lead["id"], "U0AWAY", "C0PULL", ts)
    (reply,) = fake_slack.wait_for("response_url")
    assert "on PTO" in reply.params["text"]
    assert app.get_lead(lead["id"]).json()["owner"] is None


def test_manager_reassigns_through_the_modal(app: AppProcess, fake_slack: FakeSlack):
    lead = app.post_lead({"email": "m@x.io"}).json()
    ts = _posted_card(fake_slack, "C0PULL")
    _click(app, fake_slack, "reassign_lead", lead["id"], "U0REP03", "C0PULL", ts)
    (refusal,) = fake_slack.wait_for("response_url")
    assert "manager" in refusal.params["text"]
    _click(app, fake_slack, "reassign_lead", lead["id"], "U0MANAGER", "C0PULL", ts)
    (opened,) = fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "reassign_lead" and view["private_metadata"] == lead["id"]
    submit = view_submission_body(
        "reassign_lead",
        {"new_owner": {"new_owner": users_select("U0REP05")}},
        user_id="U0MANAGER",
        private_metadata=lead["id"],
    )
    response = app.post_slack(submit)
    assert response.status_code == 200 and not response.content.strip(b"{} ")
    fake_slack.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == "DU0REP05")
    body = app.get_lead(lead["id"]).json()
    assert body["owner"] == "U0REP05"
    assert (
        body["timeline"][-1]["type"] == "reassigned"
        and body["timeline"][-1]["actor"] == "U0MANAGER"
    )

    forged = view_submission_body(
        "reassign_lead",
        {"new_owner": {"new_owner": users_select("U0REP06")}},
        user_id="U0REP05",
        private_metadata=lead["id"],
    )
    refused = app.post_slack(forged).json()  # checked again on submission, server-side
    assert refused["response_action"] == "errors" and "manager" in refused["errors"]["new_owner"]
    assert app.get_lead(lead["id"]).json()["owner"] == "U0REP05"


def test_pool_queue_and_own_queue(app: AppProcess, fake_slack: FakeSlack):
    first = app.post_lead({"email": "p1@x.io", "source": "pool", "company": "First Co"}).json()
    app.post_lead({"email": "p2@x.io", "source": "pool", "company": "Second Co"})
    assert first["method"] == "pool"
    fake_slack.wait_for("chat.postMessage", count=2)

    def slash(text: str, user: str, token: str) -> dict:
        body = slash_command_body(
            "/leads", text, user_id=user, response_url=fake_slack.response_url(token)
        )
        assert app.post_slack(body).status_code == 200
        (reply,) = fake_slack.wait_for("response_url", predicate=lambda c: c.target == token)
        return reply.params

    pool = slash("team", "U0REP00", "pool")
    text = json.dumps(pool["blocks"])
    assert (
        "First Co" in text
        and "Second Co" in text
        and text.index("First Co") < text.index("Second Co")
    )
    assert "claim_lead" in text
    mine = slash("", "U0REP00", "mine-empty")
    assert "Nothing waiting for you" in json.dumps(mine["blocks"])
    posts = fake_slack.delivered("chat.postMessage")
    _click(app, fake_slack, "claim_lead", first["id"], "U0REP00", "C0POOL", posts[0].response["ts"])
    fake_slack.wait_for("chat.update")
    mine = slash("", "U0REP00", "mine")
    assert "First Co" in json.dumps(mine["blocks"])
    unknown = slash("team nosuch", "U0REP00", "nosuch")
    assert "no team named" in unknown["text"]
    usage = slash("everything please", "U0REP00", "usage")
    assert usage["text"].startswith("Usage")
    assert Counter(c.params["response_type"] for c in fake_slack.calls_to("response_url")) == {
        "ephemeral": 5
    }
