"""Availability end to end against the fake Slack, through the real `leadrouter serve`:
a rep on vacation in Slack gets no push lead and the reason says so; a Slack failing
`users.getPresence` leaves routing to the configured hours; an unanswered push lead is
re-offered exactly once after its window, even through a SIGKILL; a rep coming on
shift receives the lead queued while nobody could take it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.app_process import AppProcess
from harness.slack_signing import (
    app_home_opened_event,
    block_action_body,
    event_body,
    slash_command_body,
)
from tests.support.fake_slack import FakeSlack, SlackCall

pytestmark = pytest.mark.e2e

TEAM_OF_TWO = """
version: 1
{root}
reps:
  - {{user: U0ALICE{alice}}}
  - {{user: U0BOB{bob}}}
teams:
  - name: inbound
    channel: C0INBOUND
    manager: U0MANAGER
    members: [{{user: U0ALICE}}, {{user: U0BOB}}]
{team}
rules:
  - {{name: everyone, then: {{team: inbound}}}}
"""


def start(
    tmp_path: Path,
    fake_slack: FakeSlack,
    team: str,
    alice: str = "",
    bob: str = "",
    root: str = "",
) -> AppProcess:
    config = tmp_path / "config.yml"
    config.write_text(TEAM_OF_TWO.format(team=team, alice=alice, bob=bob, root=root))
    process = AppProcess(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}",
        config_path=config,
        slack_api_url=fake_slack.url,
        log_dir=tmp_path / "app",
    )
    return process.start()


@pytest.fixture
def stop() -> Iterator[list[AppProcess]]:
    started: list[AppProcess] = []
    yield started
    for process in started:
        process.terminate()


def asked_about(fake_slack: FakeSlack, method: str, user: str) -> list[SlackCall]:
    return [call for call in fake_slack.calls_to(method) if call.params.get("user") == user]


def wait_asked(fake_slack: FakeSlack, method: str, user: str, timeout: float = 20) -> None:
    """Wait until the refresher asked Slack about `user` (and stored the answer)."""
    deadline = time.monotonic() + timeout
    while not asked_about(fake_slack, method, user):
        assert time.monotonic() < deadline, f"the refresher never called {method} for {user}"
        time.sleep(0.1)
    time.sleep(1.0)  # its transaction commits right after the answers arrive


def test_a_rep_on_vacation_in_slack_gets_no_push_lead_and_the_reason_says_so(
    tmp_path: Path, fake_slack: FakeSlack, stop: list[AppProcess]
) -> None:
    friday = int((datetime.now(UTC) + timedelta(days=3)).timestamp())
    fake_slack.set_status("U0ALICE", "Vacationing", ":palm_tree:", friday)
    app = start(tmp_path, fake_slack, "    availability: {slack_status: true}")
    stop.append(app)
    wait_asked(fake_slack, "users.profile.get", "U0ALICE")
    for index in range(3):
        lead = app.post_lead({"email": f"v{index}@prospect.io"}).json()
        assert lead["owner"] == "U0BOB", lead["decision"]["reasons"]
    reasons = lead["decision"]["reasons"]
    assert any(
        reason.startswith("Skipped U0ALICE: Slack status 'Vacationing' until ")
        for reason in reasons
    ), reasons
    fake_slack.wait_for("chat.postMessage", count=3)
    assert {call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")} == {
        "DU0BOB"
    }


def test_slack_failing_get_presence_routes_as_the_configured_hours_say(
    tmp_path: Path, fake_slack: FakeSlack, stop: list[AppProcess]
) -> None:
    fake_slack.set_presence("U0BOB", "away")  # would skip Bob, if Slack answered
    fake_slack.fail("users.getPresence", status=500, times=None)
    now = datetime.now(UTC)
    off = f"{(now + timedelta(hours=2)):%H}:00-{(now + timedelta(hours=3)):%H}:00"
    alice = f', working_hours: {{mon-sun: "{off}"}}' if off < "22" else ", active: false"
    app = start(
        tmp_path, fake_slack, "    availability: {presence: true, slack_status: true}", alice
    )
    stop.append(app)
    wait_asked(fake_slack, "users.profile.get", "U0BOB")
    assert asked_about(fake_slack, "users.getPresence", "U0BOB")
    lead = app.post_lead({"email": "p@prospect.io"}).json()
    assert lead["owner"] == "U0BOB", lead["decision"]["reasons"]
    assert lead["decision"]["reasons"][1].startswith("Skipped U0ALICE: "), lead["decision"]


def _offers(app: AppProcess, lead_id: str) -> list[dict]:
    timeline = app.get_lead(lead_id).json()["timeline"]
    return [event for event in timeline if event["type"] in ("offer_made", "offer_timeout")]


def _wait_offers(app: AppProcess, lead_id: str, count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(found := _offers(app, lead_id)) < count:
        assert time.monotonic() < deadline, found
        time.sleep(0.2)
    return found


def test_an_unanswered_push_lead_is_reoffered_exactly_once_even_through_a_sigkill(
    tmp_path: Path, fake_slack: FakeSlack, stop: list[AppProcess]
) -> None:
    app = start(tmp_path, fake_slack, "    accept_within: {within: 3s, max_offers: 2}")
    stop.append(app)
    first = app.post_lead({"email": "a@prospect.io"}).json()
    assert first["owner"] == "U0ALICE"
    (card,) = fake_slack.wait_for("chat.postMessage")
    assert "accept_lead" in json.dumps(card.params["blocks"])
    second = app.post_lead({"email": "b@prospect.io"}).json()
    app.kill()  # SIGKILL before either window ends: the deadline rows must survive it
    time.sleep(4)
    app.start()
    for lead, owner, next_owner in ((first, "U0ALICE", "U0BOB"), (second, "U0BOB", "U0ALICE")):
        events = _wait_offers(app, lead["id"], 3)
        assert [(e["type"], (e["data"] or {}).get("to")) for e in events] == [
            ("offer_made", owner),
            ("offer_timeout", next_owner),
            ("offer_made", next_owner),
        ]
    time.sleep(1)
    again = [e for e in _offers(app, first["id"]) if e["type"] == "offer_made"]
    assert len(again) == 2  # offered twice in all: the timeout fired once


def test_accept_keeps_the_lead_and_ends_the_window(
    tmp_path: Path, fake_slack: FakeSlack, stop: list[AppProcess]
) -> None:
    app = start(tmp_path, fake_slack, "    accept_within: 3s")
    stop.append(app)
    lead = app.post_lead({"email": "a@prospect.io"}).json()
    (card,) = fake_slack.wait_for("chat.postMessage")
    click = block_action_body(
        "accept_lead",
        lead["id"],
        user_id="U0ALICE",
        channel_id="DU0ALICE",
        message_ts=card.response["ts"],
        response_url=fake_slack.response_url("accept"),
    )
    assert app.post_slack(click).status_code == 200
    (update,) = fake_slack.wait_for("chat.update")
    assert "accept_lead" not in json.dumps(update.params["blocks"])
    time.sleep(4)
    timeline = app.get_lead(lead["id"]).json()
    assert timeline["owner"] == "U0ALICE"
    types = [event["type"] for event in timeline["timeline"]]
    assert "accepted" in types and "offer_timeout" not in types


def test_a_rep_coming_on_shift_receives_the_lead_queued_while_nobody_could(
    tmp_path: Path, fake_slack: FakeSlack, stop: list[AppProcess]
) -> None:
    now = datetime.now(UTC)
    if now.hour == 23 and now.minute >= 58:
        pytest.skip("the shift would start tomorrow")
    start_at = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    shift = f'{{mon-sun: "{start_at:%H:%M}-23:59"}}'
    app = start(
        tmp_path,
        fake_slack,
        "    availability: {backfill: true}",
        alice=f", working_hours: {shift}",
        bob=", active: false",
    )
    stop.append(app)
    lead = app.post_lead({"email": "q@prospect.io"}).json()
    assert lead["owner"] is None and lead["status"] == "queued"
    assert "Nobody in inbound can take it now" in lead["decision"]["reasons"][-1]
    wait = (start_at - datetime.now(UTC)).total_seconds() + 30
    fake_slack.wait_for(
        "chat.postMessage",
        timeout=max(wait, 30),
        predicate=lambda call: call.params.get("channel") == "DU0ALICE",
    )
    after = app.get_lead(lead["id"]).json()
    assert after["owner"] == "U0ALICE" and after["status"] == "assigned"
    assigned = [event for event in after["timeline"] if event["type"] == "assigned"]
    assert assigned and assigned[-1]["reason"].startswith("Backfill: queued ")


@pytest.mark.postgres
def test_two_replicas_reoffer_an_unanswered_lead_exactly_once(
    tmp_path: Path, fake_slack: FakeSlack, postgres_db: str
) -> None:
    """Both replicas sweep the same deadline rows (SKIP LOCKED): each window ends once,
    one re-offer each and then the channel, however the two race; the leads arrive
    through both replicas."""
    config = tmp_path / "config.yml"
    config.write_text(
        TEAM_OF_TWO.format(
            team="    accept_within: {within: 2s, max_offers: 2}", alice="", bob="", root=""
        )
    )
    apps = [
        AppProcess(
            db_url=postgres_db,
            config_path=config,
            slack_api_url=fake_slack.url,
            log_dir=tmp_path / name,
        )
        for name in ("a", "b")
    ]
    with apps[0], apps[1]:
        leads = [
            apps[index % 2].post_lead({"email": f"r{index}@x.io"}).json() for index in range(6)
        ]
        time.sleep(4)
        for lead in leads:
            _wait_offers(apps[0], lead["id"], 4)
            events = _offers(apps[1], lead["id"])
            assert [e["type"] for e in events] == [
                "offer_made",
                "offer_timeout",
                "offer_made",
                "offer_timeout",
            ], events
        for lead in leads:  # the re-offer reaches the second rep (the outbox may lag)
            second = "DU0BOB" if lead["owner"] == "U0ALICE" else "DU0ALICE"
            fake_slack.wait_for(
                "chat.postMessage",
                timeout=60,
                predicate=lambda call, lead=lead, second=second: (
                    call.params.get("channel") == second and lead["id"] in json.dumps(call.params)
                ),
            )
        fake_slack.settle()
        posts = [
            (call.params["channel"], lead["id"])
            for call in fake_slack.calls_to("chat.postMessage")
            for lead in leads
            if lead["id"] in json.dumps(call.params)
        ]
        assert len(posts) == len(set(posts)), "a message about a lead was posted twice"


def test_reps_pause_resume_and_pull_through_slack(
    tmp_path: Path, fake_slack: FakeSlack, stop: list[AppProcess]
) -> None:
    """`/leads away`, `/leads back` and the **Next lead** button through the real Bolt
    app: the answers come back privately and routing follows at once."""
    app = start(tmp_path, fake_slack, "    availability: {backfill: true}")
    stop.append(app)

    def command(text: str, token: str) -> str:
        body = slash_command_body(
            "/leads", text, "U0ALICE", "DU0ALICE", fake_slack.response_url(token)
        )
        assert app.post_slack(body).status_code == 200
        (answer,) = fake_slack.wait_for("response_url", predicate=lambda c: c.target == token)
        return str(answer.params["text"])

    assert command("away for 2h", "away").startswith("You are away until ")
    lead = app.post_lead({"email": "x@prospect.io"}).json()
    assert lead["owner"] == "U0BOB"
    assert "Skipped U0ALICE: away until " in " ".join(lead["decision"]["reasons"])
    assert command("back", "back") == "Welcome back: new leads come to you again."
    assert app.post_lead({"email": "y@prospect.io"}).json()["owner"] == "U0ALICE"
    assert command("away until someday", "bad").startswith("'someday' is not a day or a time")

    click = block_action_body(
        "next_lead",
        "next",
        user_id="U0BOB",
        channel_id="DU0BOB",
        response_url=fake_slack.response_url("next"),
    )
    assert app.post_slack(click).status_code == 200
    (answer,) = fake_slack.wait_for("response_url", predicate=lambda c: c.target == "next")
    assert answer.params["text"].startswith("No unclaimed leads in your teams")


def test_a_status_change_event_takes_effect_before_the_next_refresh(
    tmp_path: Path, fake_slack: FakeSlack, stop: list[AppProcess]
) -> None:
    """Slack's `user_status_changed` makes the app ask about that rep at once, though
    the periodic refresh is an hour away."""
    config = "    availability: {slack_status: true}"
    app = start(tmp_path, fake_slack, config, root="availability: {refresh_every: 1h}")
    stop.append(app)
    wait_asked(fake_slack, "users.profile.get", "U0ALICE")  # the refresh at start-up
    fake_slack.set_status("U0ALICE", "Out sick", ":face_with_thermometer:")
    asked_before = len(asked_about(fake_slack, "users.profile.get", "U0ALICE"))
    event = {"type": "user_status_changed", "user": {"id": "U0ALICE", "profile": {}}}
    assert app.post_slack(event_body(event), "application/json").status_code == 200
    deadline = time.monotonic() + 10
    while len(asked_about(fake_slack, "users.profile.get", "U0ALICE")) == asked_before:
        assert time.monotonic() < deadline, "the event did not trigger a refresh"
        time.sleep(0.1)
    time.sleep(1.0)
    lead = app.post_lead({"email": "sick@prospect.io"}).json()
    assert lead["owner"] == "U0BOB"
    assert "Skipped U0ALICE: Slack status 'Out sick'" in lead["decision"]["reasons"]


def test_the_app_home_toggle_pauses_and_resumes_and_redraws_the_tab(
    tmp_path: Path, fake_slack: FakeSlack, stop: list[AppProcess]
) -> None:
    app = start(tmp_path, fake_slack, "    availability: {backfill: true}")
    stop.append(app)
    opened = event_body(app_home_opened_event("U0ALICE"))
    assert app.post_slack(opened, "application/json").status_code == 200
    fake_slack.wait_for("views.publish")
    home = fake_slack.home_view("U0ALICE")
    assert home is not None
    assert "toggle_away" in json.dumps(home["blocks"]) and "next_lead" in json.dumps(home)

    def press(count: int) -> dict:
        click = block_action_body("toggle_away", "toggle", user_id="U0ALICE", view=home)
        assert app.post_slack(click).status_code == 200
        fake_slack.wait_for("views.publish", count=count)
        view = fake_slack.home_view("U0ALICE")
        assert view is not None
        return view

    paused = json.dumps(press(2)["blocks"])
    assert "You are away" in paused and "I'm back" in paused
    assert app.post_lead({"email": "h@prospect.io"}).json()["owner"] == "U0BOB"
    resumed = json.dumps(press(3)["blocks"])
    assert "Welcome back" in resumed and "Pause new leads" in resumed
