"""Outbound webhooks end to end: the real app, a receiver on loopback.

- A receiver that fails, times out and answers 429 at random, and the app SIGKILLed
  while deliveries are in flight: every event of every accepted lead arrives, once per
  `webhook-id` (the receiver drops repeats by it), no event under two ids, and each
  lead's events in the order they happened. Once on SQLite (one process killed and
  restarted), once on PostgreSQL with two replicas (one killed, the other takes over).
- A dead endpoint: its deliveries are dead-lettered after the budget, the admin is
  alerted once, and `leadrouter webhooks replay` delivers every one once it is back.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from harness.app_process import REPO_ROOT, AppProcess
from tests.support.fake_slack import FakeSlack
from tests.support.webhook_receiver import SECRET, Chaos, WebhookReceiver

pytestmark = pytest.mark.e2e

LEAD_EVENTS = ["lead.created", "lead.routed", "lead.assigned"]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def config_file(tmp_path: Path, receiver: WebhookReceiver, **endpoint: str) -> Path:
    settings = ", ".join(f"{key}: {value}" for key, value in endpoint.items())
    path = tmp_path / "config.yml"
    path.write_text(f"""
version: 1
admins: [U0ADMIN]
reps: [{{user: U0ALICE, email: alice@example.com}}, {{user: U0BOB, email: bob@example.com}}]
teams: [{{name: inbound, members: [{{user: U0ALICE}}, {{user: U0BOB}}]}}]
rules: [{{name: all, then: {{team: inbound}}}}]
webhooks:
  - {{name: crm, url: "{receiver.url}", secret_env: CRM_SECRET, {settings}}}
""")
    return path


def post_leads(apps: Callable[[int], AppProcess], count: int, kill: AppProcess | None) -> list[str]:
    """POST `count` leads (and a `contacted` for every third); SIGKILL `kill` halfway.
    Returns the ids answered 201; a POST cut by the kill is simply not counted."""
    accepted: list[str] = []

    def one(index: int) -> None:
        app = apps(index)
        try:
            answer = app.post_lead(
                {"email": f"lead{index}@example.com", "external_id": f"x{index}"}
            )
        except httpx.HTTPError:
            return
        if answer.status_code == 201:
            accepted.append(answer.json()["id"])
            if index % 3 == 0:
                with contextlib.suppress(httpx.HTTPError):
                    app.post_lead_event(answer.json()["id"], {"type": "contacted"})

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, range(count // 2)))
        if kill is not None:
            kill.kill()
        list(pool.map(one, range(count // 2, count)))
    return accepted


def by_lead(receiver: WebhookReceiver) -> dict[str, list[str]]:
    events: dict[str, list[str]] = defaultdict(list)
    for item in receiver.accepted():
        if item.lead_id:
            events[item.lead_id].append(item.type)
    return events


def complete(receiver: WebhookReceiver, lead_ids: list[str]) -> bool:
    events = by_lead(receiver)
    return all(events.get(lead, [])[:3] == LEAD_EVENTS for lead in lead_ids)


def assert_exactly_once_in_order(receiver: WebhookReceiver, lead_ids: list[str]) -> None:
    accepted = receiver.accepted()
    assert all(item.verified for item in receiver.received())
    pairs = Counter((item.lead_id, item.type) for item in accepted)
    assert max(pairs.values()) == 1, "an event arrived under two webhook-ids"
    for lead, types in by_lead(receiver).items():
        assert types[:3] == LEAD_EVENTS, (lead, types)
        assert types[3:] in ([], ["lead.contacted"]), (lead, types)
    assert set(lead_ids) <= set(by_lead(receiver))
    owners = {
        item.body["data"]["owner"]["email"] for item in accepted if item.type == "lead.assigned"
    }
    assert owners <= {"alice@example.com", "bob@example.com"}


def test_random_receiver_faults_and_a_sigkill_lose_nothing_and_keep_order(
    start_app: Callable[..., AppProcess], receiver: WebhookReceiver, tmp_path: Path
) -> None:
    config = config_file(
        tmp_path, receiver, timeout="1s", backoff="1s", max_backoff="2s", max_attempts="50"
    )
    receiver.chaos(Chaos(fail=0.15, throttle=0.1, timeout=0.1, slow=1.5, seed=3))
    app = start_app(config_path=config, env={"CRM_SECRET": SECRET})
    lead_ids = post_leads(lambda _index: app, 40, kill=app)
    app.start()
    print(f"{len(lead_ids)} of 40 leads accepted around the kill")
    assert app.runs == 2 and len(lead_ids) >= 15
    assert receiver.wait_for(lambda _items: complete(receiver, lead_ids), timeout=120)
    time.sleep(2)  # anything still to come would be a repeat or a stray: let it show
    assert_exactly_once_in_order(receiver, lead_ids)
    assert len(receiver.received()) > len(receiver.accepted())  # the faults did bite


@pytest.mark.postgres
def test_two_replicas_one_sigkilled_deliver_every_event_once_in_order(
    fake_slack: FakeSlack, receiver: WebhookReceiver, tmp_path: Path, postgres_db: str
) -> None:
    config = config_file(
        tmp_path, receiver, timeout="1s", backoff="1s", max_backoff="2s", max_attempts="50"
    )
    receiver.chaos(Chaos(fail=0.15, throttle=0.1, timeout=0.1, slow=1.5, seed=4))
    replicas = [
        AppProcess(
            {"CRM_SECRET": SECRET},
            postgres_db,
            config,
            slack_api_url=fake_slack.url,
            log_dir=tmp_path / name,
        )
        for name in ("a", "b")
    ]
    with replicas[0], replicas[1]:
        lead_ids = post_leads(lambda index: replicas[index % 2], 40, kill=replicas[1])
        print(f"{len(lead_ids)} of 40 leads accepted around the kill")
        assert not replicas[1].running and len(lead_ids) >= 15
        # The survivor takes the dead replica's leased deliveries once their lease lapses.
        assert receiver.wait_for(lambda _items: complete(receiver, lead_ids), timeout=150)
        time.sleep(2)
        assert_exactly_once_in_order(receiver, lead_ids)


def test_a_dead_endpoint_alerts_once_and_replay_delivers_everything(
    start_app: Callable[..., AppProcess],
    receiver: WebhookReceiver,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> None:
    config = config_file(tmp_path, receiver, timeout="1s", backoff="1s", max_attempts="2")
    receiver.down()
    app = start_app(config_path=config, env={"CRM_SECRET": SECRET})
    lead_ids = [
        app.post_lead({"email": f"d{index}@example.com"}).json()["id"] for index in range(3)
    ]

    def alerts() -> list[str]:
        texts = [call.params.get("text", "") for call in fake_slack.delivered("chat.postMessage")]
        return [text for text in texts if "Webhook endpoint crm is failing" in text]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(receiver.received()) < 3 * len(LEAD_EVENTS) * 2:
        time.sleep(0.2)
    time.sleep(3)  # every delivery has had its two attempts; the alert has had time to go
    assert len(alerts()) == 1
    assert receiver.accepted() == []
    receiver.down(False)
    env = {**os.environ, "LEADROUTER_DATABASE_URL": app.db_url, "PYTHONPATH": str(REPO_ROOT)}
    replay = subprocess.run(
        [sys.executable, "-m", "bot.cli", "webhooks", "replay", "--since", "1h"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.startswith(f"{3 * len(LEAD_EVENTS)} webhook deliveries")
    assert receiver.wait_for(lambda _items: complete(receiver, lead_ids), timeout=30)
    assert_exactly_once_in_order(receiver, lead_ids)
    assert len(alerts()) == 1
