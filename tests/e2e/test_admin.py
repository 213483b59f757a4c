"""Issue 8 end to end: admins change routing from Slack with signed slash commands,
block_actions and view_submissions against the running app; the next lead routes by
the change; refusals, inline errors, stale saves and rollbacks change nothing else."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.app_process import AppProcess
from harness.slack_signing import (
    block_action_body,
    checkboxes,
    multi_static_select,
    multi_users_select,
    number_input,
    slash_command_body,
    static_select,
    text_input,
    users_select,
    view_submission_body,
)
from tests.support.fake_slack import FakeSlack
from tests.support.webhook_receiver import SECRET, WebhookReceiver

pytestmark = pytest.mark.e2e
BIG = {"email": "cto@bigcorp.com", "company": "Bigcorp", "employees": 1000}
_tokens = itertools.count()


def shown(value: Any) -> str:
    """Blocks as text, arrows (→) in diffs kept as they are."""
    return json.dumps(value, ensure_ascii=False)


def command(app: AppProcess, fake: FakeSlack, text: str, user: str = "U0ADMIN") -> str:
    """Run `/leadrouter TEXT`; returns the response_url token its answer goes to."""
    token = f"cmd-{next(_tokens)}"
    body = slash_command_body(
        "/leadrouter", text, user_id=user, response_url=fake.response_url(token)
    )
    assert app.post_slack(body).status_code == 200
    return token


def reply(fake: FakeSlack, token: str) -> dict[str, Any]:
    (call,) = fake.wait_for("response_url", predicate=lambda c: c.target == token)
    return call.params


def open_menu(app: AppProcess, fake: FakeSlack, user: str = "U0ADMIN") -> dict[str, Any]:
    before = len(fake.calls_to("views.open"))
    command(app, fake, "", user)
    opened = fake.wait_for("views.open", count=before + 1)[-1]
    return opened.response["view"]


def click_in_view(
    app: AppProcess,
    fake: FakeSlack,
    view: dict[str, Any],
    action_id: str,
    user: str = "U0ADMIN",
    **action: Any,
) -> dict[str, Any]:
    """A block action inside a modal; returns the modal it pushed."""
    before = len(fake.calls_to("views.push"))
    body = block_action_body(action_id, user_id=user, view=view, action=action or None)
    assert app.post_slack(body).status_code == 200
    return fake.wait_for("views.push", count=before + 1)[-1].response["view"]


def submit(
    app: AppProcess,
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    user: str = "U0ADMIN",
) -> dict[str, Any]:
    """Submit a modal as Slack does; returns the app's ack (response_action...)."""
    body = view_submission_body(
        view["callback_id"],
        values,
        user_id=user,
        private_metadata=view["private_metadata"],
        view_id=view["id"],
    )
    response = app.post_slack(body)
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def team_values(name: str, members: list[str], **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": {"name": text_input(name)},
        "method": {"method": static_select(extra.get("method", "push"))},
        "strategy": {"strategy": static_select(extra.get("strategy", "round_robin"))},
        "members": {"members": multi_users_select(members)},
        "channel": {
            "channel": {
                "type": "conversations_select",
                "selected_conversation": extra.get("channel"),
            }
        },
        "manager": {"manager": users_select(extra.get("manager"))},
        "backup": {"backup": users_select(None)},
    }
    for user, weight in extra.get("weights", {}).items():
        values[f"weight:{user}"] = {f"weight:{user}": number_input(weight)}
    return values


def rule_values(name: str, when: str, team: str, position: int | None) -> dict[str, Any]:
    return {
        "name": {"name": text_input(name)},
        "when": {"when": text_input(when)},
        "team": {"team": static_select(team)},
        "route_to": {"route_to": static_select(None)},
        "method": {"method": static_select(None)},
        "position": {"position": number_input(position)},
    }


def create_enterprise_team_and_rule(app: AppProcess, fake: FakeSlack) -> None:
    menu = open_menu(app, fake)
    team_modal = click_in_view(app, fake, menu, "admin_new_team")
    ack = submit(app, team_modal, team_values("enterprise", ["U0ERIN"], strategy="weighted"))
    assert ack["response_action"] == "update", ack
    saved = shown(ack["view"]["blocks"])
    assert "configuration version 2" in saved and "+ teams[enterprise]" in saved
    rules = click_in_view(app, fake, menu, "admin_rules")
    rule_modal = click_in_view(app, fake, rules, "admin_add_rule")
    ack = submit(
        app, rule_modal, rule_values("enterprise", "{employees: {gte: 500}}", "enterprise", 1)
    )
    assert ack["response_action"] == "update", ack
    assert "+ rules[enterprise]" in shown(ack["view"]["blocks"])


def test_an_admin_creates_a_team_and_rule_and_the_next_lead_routes_by_them(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    before = app.post_lead({**BIG, "email": "first@bigcorp.com"}).json()
    assert before["team"] == "inbound"
    create_enterprise_team_and_rule(app, fake_slack)
    lead = app.post_lead(BIG).json()
    assert lead["decision"]["config_version"] == 3  # the decision names its version
    assert (lead["team"], lead["owner"], lead["decision"]["rule"]) == (
        "enterprise",
        "U0ERIN",
        "enterprise",
    )
    small = app.post_lead({"email": "a@small.io", "employees": 5}).json()
    assert small["team"] == "inbound"


def test_a_rollback_restores_routing(app: AppProcess, fake_slack: FakeSlack) -> None:
    create_enterprise_team_and_rule(app, fake_slack)
    history = reply(fake_slack, command(app, fake_slack, "history"))
    text = shown(history["blocks"])
    assert "Version 3" in text and "+ rules[enterprise]" in text and "<@U0ADMIN>" in text
    (button,) = [
        block["accessory"]
        for block in history["blocks"]
        if block.get("accessory", {}).get("value") == "1"
    ]
    token = "rollback"
    body = block_action_body(
        "admin_rollback", "1", user_id="U0ADMIN", response_url=fake_slack.response_url(token)
    )
    assert button["action_id"] == "admin_rollback"
    assert app.post_slack(body).status_code == 200
    assert "saved as configuration version 4" in reply(fake_slack, token)["text"]
    restored = app.post_lead(BIG).json()
    assert (restored["team"], restored["decision"]["config_version"]) == ("inbound", 4)


def test_a_non_admin_is_refused_and_changes_nothing(app: AppProcess, fake_slack: FakeSlack) -> None:
    refusal = reply(fake_slack, command(app, fake_slack, "", user="U0BOB"))
    assert "Only Leadrouter admins" in refusal["text"]
    assert refusal["response_type"] == "ephemeral"
    assert not fake_slack.calls_to("views.open")
    # A forged submission of the admin's modal: checked server-side, refused inline.
    menu = open_menu(app, fake_slack)
    team_modal = click_in_view(app, fake_slack, menu, "admin_new_team")
    ack = submit(app, team_modal, team_values("enterprise", ["U0BOB"]), user="U0BOB")
    assert ack["response_action"] == "errors"
    assert "Only Leadrouter admins" in ack["errors"]["name"]
    rollback = block_action_body(
        "admin_rollback", "1", user_id="U0BOB", response_url=fake_slack.response_url("rb")
    )
    app.post_slack(rollback)
    assert "Only Leadrouter admins" in reply(fake_slack, "rb")["text"]
    history = reply(fake_slack, command(app, fake_slack, "history"))
    assert "Version 2" not in shown(history["blocks"])


def test_invalid_input_comes_back_inline_on_its_field(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    menu = open_menu(app, fake_slack)
    team_modal = click_in_view(app, fake_slack, menu, "admin_new_team")
    ack = submit(app, team_modal, team_values("claims", ["U0BOB"], method="pull"))
    assert ack == {
        "response_action": "errors",
        "errors": {"channel": "a pull team needs a channel"},
    }
    ack = submit(app, team_modal, team_values("inbound", ["U0BOB"]))
    assert (
        ack["response_action"] == "errors" and "duplicate team 'inbound'" in ack["errors"]["name"]
    )
    rules = click_in_view(app, fake_slack, menu, "admin_rules")
    rule_modal = click_in_view(app, fake_slack, rules, "admin_add_rule")
    ack = submit(app, rule_modal, rule_values("big", "{employees: {gte: many}}", "inbound", 1))
    assert ack["response_action"] == "errors" and "expected a number" in ack["errors"]["when"]
    ack = submit(app, rule_modal, rule_values("big", "{employees: &a {gte: 5}}", "inbound", 1))
    assert "anchors" in ack["errors"]["when"]
    history = reply(fake_slack, command(app, fake_slack, "history"))
    assert "Version 2" not in shown(history["blocks"])


def test_the_second_of_two_admins_saving_the_same_team_is_told_to_reopen(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    modals = []
    for _ in range(2):
        menu = open_menu(app, fake_slack)
        modals.append(
            click_in_view(
                app, fake_slack, menu, "admin_edit_team", selected_option={"value": "inbound"}
            )
        )
    first = submit(
        app, modals[0], team_values("inbound", ["U0ALICE", "U0BOB"], manager="U0MANAGER")
    )
    assert first["response_action"] == "update"
    second = submit(
        app,
        modals[1],
        team_values("inbound", ["U0ALICE"], manager="U0MANAGER", strategy="weighted"),
    )
    assert second["response_action"] == "errors"
    assert (
        "changed by @U0ADMIN" in second["errors"]["name"] and "Reopen" in second["errors"]["name"]
    )


def test_pto_by_command_for_oneself_and_refused_for_others(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    own = reply(fake_slack, command(app, fake_slack, "pto 2000-01-01 2999-12-31", user="U0ALICE"))
    assert "saved as configuration version 2" in own["text"]
    other = reply(
        fake_slack,
        command(app, fake_slack, "pto 2026-12-01 2026-12-05 <@U0BOB|bob>", user="U0ALICE"),
    )
    assert "only your own PTO" in other["text"]
    usage = reply(fake_slack, command(app, fake_slack, "pto tomorrow", user="U0ALICE"))
    assert "Usage" in usage["text"]
    # Alice is away: the next inbound lead skips her.
    assert app.post_lead({"email": "x@y.io"}).json()["owner"] == "U0BOB"


def test_export_to_dm_then_import_from_an_uploaded_file(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    assert "in your DMs" in reply(fake_slack, command(app, fake_slack, "export"))["text"]
    (upload,) = fake_slack.wait_for("file_upload")
    exported = upload.body.decode()
    assert "name: inbound" in exported and "admins:" in exported
    (done,) = fake_slack.wait_for("files.completeUploadExternal")
    assert done.params["channel_id"] == "DU0ADMIN"

    command(app, fake_slack, "import")
    (opened,) = fake_slack.wait_for("views.open")
    modal = opened.response["view"]

    def import_file(name: str, content: str, size: int | None = None) -> str:
        info = fake_slack.add_file(name, content.encode(), size=size)
        before = len(fake_slack.calls_to("views.update"))
        ack = submit(app, modal, {"file": {"file": {"type": "file_input", "files": [info]}}})
        assert ack["response_action"] == "update"
        updated = fake_slack.wait_for("views.update", count=before + 1)[-1]
        return shown(updated.params["view"]["blocks"])

    broken = exported.replace("name: healthcare\n", "name: healthcare\n  colour: blue\n", 1)
    result = import_file("broken.yml", broken.replace("team: healthcare", "team: nowhere"))
    assert "nothing changed" in result and "unknown key" in result and "no team named" in result
    assert "file larger than" in import_file("huge.yml", "x", size=10_000_000)
    # Slack's `size` is not trusted: the download itself stops past the limit.
    assert "file larger than" in import_file("liar.yml", "#" * 1_000_010, size=10)
    same = import_file("same.yml", exported)
    assert "nothing changed" in same
    moved = exported.replace("then:\n    team: inbound", "then:\n    team: healthcare")
    assert "saved as configuration version 2" in import_file("moved.yml", moved)
    assert app.post_lead({"email": "z@y.io"}).json()["team"] == "healthcare"


def test_a_manager_edits_only_their_own_teams_members(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    menu = open_menu(app, fake_slack, user="U0MANAGER")
    text = shown(menu["blocks"])
    assert "admin_new_team" not in text and "admin_rules" not in text
    (picker,) = [b["accessory"] for b in menu["blocks"] if b.get("block_id") == "edit_team"]
    assert [option["value"] for option in picker["options"]] == ["inbound"]
    modal = click_in_view(
        app, fake_slack, menu, "admin_edit_team", "U0MANAGER", selected_option={"value": "inbound"}
    )
    refused = submit(
        app,
        modal,
        team_values(
            "inbound", ["U0ALICE", "U0BOB", "U0CARA"], manager="U0MANAGER", strategy="weighted"
        ),
        user="U0MANAGER",
    )
    assert refused["response_action"] == "errors"
    assert "Only Leadrouter admins" in refused["errors"]["name"]
    only_members = team_values("inbound", ["U0BOB"], manager="U0MANAGER", channel="C0INBOUND")
    saved = submit(app, modal, only_members, user="U0MANAGER")
    assert saved["response_action"] == "update"
    assert "~ teams[inbound].members" in shown(saved["view"]["blocks"])
    assert app.post_lead({"email": "m@y.io"}).json()["owner"] == "U0BOB"
    healthcare = click_in_view(
        app,
        fake_slack,
        menu,
        "admin_edit_team",
        "U0MANAGER",
        selected_option={"value": "healthcare"},
    )
    assert "Only Leadrouter admins" in shown(healthcare["blocks"])  # refused, in a modal


def test_rules_are_reordered_and_deleted_from_the_list(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    menu = open_menu(app, fake_slack)
    rules = click_in_view(app, fake_slack, menu, "admin_rules")
    assert "1. healthcare" in shown(rules["blocks"])

    def choose(view: dict[str, Any], value: str) -> dict[str, Any]:
        before = len(fake_slack.calls_to("views.update"))
        body = block_action_body(
            "admin_rule_menu",
            user_id="U0ADMIN",
            view=view,
            action_type="overflow",
            action={"selected_option": {"value": value}},
        )
        assert app.post_slack(body).status_code == 200
        return fake_slack.wait_for("views.update", count=before + 1)[-1].response["view"]

    # Below the catch-all the healthcare rule could never match: refused, nothing saved.
    refused = choose(rules, "down:0")
    assert "the last rule catches the rest" in shown(refused["blocks"])
    deleted = choose(refused, "delete:0")
    assert "- rules[healthcare]" in shown(deleted["blocks"])
    assert "1. everyone else" in shown(deleted["blocks"])
    assert app.post_lead({"email": "h@y.io", "industry": "healthcare"}).json()["team"] == "inbound"
    # A click on a list showing an older version is refused and the list refreshed.
    stale = choose(rules, "delete:0")
    assert "changed since this list was opened" in shown(stale["blocks"])
    history = reply(fake_slack, command(app, fake_slack, "history"))
    assert "Version 3" not in shown(history["blocks"])


def test_reps_and_slas_are_edited_in_their_modals(app: AppProcess, fake_slack: FakeSlack) -> None:
    menu = open_menu(app, fake_slack)
    rep = click_in_view(app, fake_slack, menu, "admin_edit_rep", selected_user="U0ALICE")
    values = {
        "email": {"email": text_input("alice@example.com")},
        "timezone": {"timezone": text_input("Europe/Paris")},
        "hours": {"hours": text_input(None)},
        "capacity": {"capacity": number_input(0)},
        "pto": {"pto": text_input(None)},
        "active": {"active": {"type": "checkboxes", "selected_options": [{"value": "active"}]}},
    }
    ack = submit(app, rep, {**values, "timezone": {"timezone": text_input("Mars/Olympus")}})
    assert ack == {
        "response_action": "errors",
        "errors": {"timezone": "unknown timezone 'Mars/Olympus'"},
    }
    ack = submit(app, rep, values)
    assert "~ reps[U0ALICE].timezone: UTC → Europe/Paris" in shown(ack["view"]["blocks"])
    # Capacity 0: Alice is full, so the next inbound lead goes to Bob.
    assert app.post_lead({"email": "c@y.io"}).json()["owner"] == "U0BOB"

    fake_slack.add_user("U0GRETA", tz="Europe/Berlin")
    new_rep = click_in_view(app, fake_slack, menu, "admin_edit_rep", selected_user="U0GRETA")
    assert "Europe/Berlin" in shown(new_rep["blocks"])

    sla = click_in_view(app, fake_slack, menu, "admin_edit_sla", selected_option={"value": "mql"})
    sla_values = {
        "respond_within": {"respond_within": text_input("1h")},
        "remind_at": {"remind_at": text_input("50%")},
        "escalation": {"escalation": text_input("0m notify_manager")},
    }
    bad = submit(app, sla, {**sla_values, "respond_within": {"respond_within": text_input("soon")}})
    assert bad["response_action"] == "errors" and "respond_within" in bad["errors"]
    ack = submit(app, sla, sla_values)
    diff = ack["view"]["blocks"][0]["text"]["text"]
    assert "~ slas.mql.respond_within: 2h → 1h" in diff
    assert '+ slas.mql.escalation: [{"after": "0s", "do": "notify_manager"}]' in diff


def test_reps_set_time_off_in_the_pto_modal(app: AppProcess, fake_slack: FakeSlack) -> None:
    body = block_action_body("open_pto", user_id="U0ALICE")
    assert app.post_slack(body).status_code == 200
    (opened,) = fake_slack.wait_for("views.open")
    modal = opened.response["view"]

    def dates(start: str, end: str, user: str) -> dict[str, Any]:
        return {
            "start": {"start": {"type": "datepicker", "selected_date": start}},
            "end": {"end": {"type": "datepicker", "selected_date": end}},
            "user": {"user": users_select(user)},
        }

    backwards = submit(app, modal, dates("2026-12-05", "2026-12-01", "U0ALICE"), user="U0ALICE")
    assert backwards == {
        "response_action": "errors",
        "errors": {"end": "must not be before `from`"},
    }
    for_bob = submit(app, modal, dates("2026-12-01", "2026-12-05", "U0BOB"), user="U0ALICE")
    assert "only your own PTO, not @U0BOB" in for_bob["errors"]["user"]
    own = submit(app, modal, dates("2000-01-01", "2999-12-31", "U0ALICE"), user="U0ALICE")
    assert own["response_action"] == "update"
    assert app.post_lead({"email": "p@y.io"}).json()["owner"] == "U0BOB"


def test_a_workspace_admin_sets_up_an_empty_install(
    start_app: Any, fake_slack: FakeSlack, tmp_path: Any
) -> None:
    """First run, no configuration: the workspace's admins (whoever installed the app)
    may administer; the first save names them in `admins`, which ends the bootstrap."""
    app = start_app(db_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    fake_slack.add_user("U0OWNER", is_admin=True)
    assert (
        "Only Leadrouter admins" in reply(fake_slack, command(app, fake_slack, "", "U0BOB"))["text"]
    )
    menu = open_menu(app, fake_slack, user="U0OWNER")
    assert "no configuration yet" in shown(menu["blocks"])
    team = click_in_view(app, fake_slack, menu, "admin_new_team", "U0OWNER")
    ack = submit(app, team, team_values("sales", ["U0ERIN"]), user="U0OWNER")
    assert ack["response_action"] == "update", ack
    diff = ack["view"]["blocks"][0]["text"]["text"]
    assert '+ admins: ["U0OWNER"]' in diff and "+ rules[everyone else]" in diff
    assert app.post_lead({"email": "first@lead.io"}).json()["owner"] == "U0ERIN"
    fake_slack.add_user("U0OTHERADMIN", is_admin=True)
    refusal = reply(fake_slack, command(app, fake_slack, "", "U0OTHERADMIN"))
    assert "Only Leadrouter admins" in refusal["text"]


def test_weights_appear_as_members_are_picked(app: AppProcess, fake_slack: FakeSlack) -> None:
    menu = open_menu(app, fake_slack)
    modal = click_in_view(app, fake_slack, menu, "admin_new_team")
    picked = team_values("closers", ["U0ERIN", "U0FAY"], strategy="weighted")
    body = block_action_body(
        "members",
        user_id="U0ADMIN",
        view={**modal, "state": {"values": picked}},
        block_id="members",
        action_type="multi_users_select",
        action={"selected_users": ["U0ERIN", "U0FAY"]},
    )
    assert app.post_slack(body).status_code == 200
    (update,) = fake_slack.wait_for("views.update")
    redrawn = update.params["view"]
    assert [b["block_id"] for b in redrawn["blocks"] if b["block_id"].startswith("weight:")] == [
        "weight:U0ERIN",
        "weight:U0FAY",
    ]
    assert redrawn["private_metadata"] == modal["private_metadata"]
    picked["weight:U0ERIN"] = {"weight:U0ERIN": number_input(3)}
    ack = submit(app, modal, picked)
    diff = ack["view"]["blocks"][0]["text"]["text"]
    assert '{"user": "U0ERIN", "weight": 3}, {"user": "U0FAY", "weight": 1}' in diff


def test_a_slack_failure_during_export_gets_a_clear_answer(
    app: AppProcess, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("files.getUploadURLExternal", status=200, error="fatal_error")
    answer = reply(fake_slack, command(app, fake_slack, "export"))
    assert answer["text"] == "Something went wrong on our side; nothing was changed. Try again."
    assert "/leadrouter export failed" in app.logs()


def test_history_and_rollback_from_the_menu(app: AppProcess, fake_slack: FakeSlack) -> None:
    reply(fake_slack, command(app, fake_slack, "pto 2026-12-01 2026-12-05", user="U0ALICE"))
    menu = open_menu(app, fake_slack)
    history = click_in_view(app, fake_slack, menu, "admin_history")
    text = shown(history["blocks"])
    assert "Version 2" in text and "<@U0ALICE>" in text and "reps[U0ALICE].pto" in text
    body = block_action_body("admin_rollback", "1", user_id="U0ADMIN", view=history)
    assert app.post_slack(body).status_code == 200
    (update,) = fake_slack.wait_for("views.update")
    refreshed = update.params["view"]["blocks"][0]["text"]["text"]
    assert "Rolled back to version 1: saved as configuration version 3" in refreshed
    assert '~ reps[U0ALICE].pto: [{"from": "2026-12-01", "to": "2026-12-05"}] → []' in refreshed


def test_an_sla_for_a_new_lead_type(app: AppProcess, fake_slack: FakeSlack) -> None:
    webinar = {"email": "w@y.io", "lead_type": "webinar"}
    assert app.post_lead(webinar).status_code == 422
    menu = open_menu(app, fake_slack)
    modal = click_in_view(
        app, fake_slack, menu, "admin_edit_sla", selected_option={"value": "+new"}
    )
    values = {
        "lead_type": {"lead_type": text_input("Webinar Signups")},
        "respond_within": {"respond_within": text_input("3h")},
        "remind_at": {"remind_at": text_input(None)},
        "escalation": {"escalation": text_input(None)},
    }
    bad = submit(app, modal, values)
    assert bad["response_action"] == "errors" and "lead_type" in bad["errors"]
    values["lead_type"] = {"lead_type": text_input("webinar")}
    assert submit(app, modal, values)["response_action"] == "update"
    lead = app.post_lead(webinar).json()
    created = datetime.fromisoformat(lead["created_at"])
    assert datetime.fromisoformat(lead["sla_due_at"]) - created == timedelta(hours=3)


def webhook_values(
    name: str | None, url: str, events: list[str], *, secret_env: str = "CRM_SECRET"
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "url": {"url": text_input(url)},
        "events": {"events": multi_static_select(events)},
        "secret_env": {"secret_env": text_input(secret_env)},
        "active": {"active": checkboxes([])},
    }
    if name is not None:  # the name is an input only when adding
        values["name"] = {"name": text_input(name)}
    return values


def test_an_admin_adds_edits_and_removes_a_webhook_endpoint(
    fake_slack: FakeSlack, always_on_config: Path, tmp_path: Path
) -> None:
    """Every view on the way is checked by the local Slack's Block Kit validation (it
    refuses a views.push or views.update real Slack would refuse)."""
    with (
        WebhookReceiver() as receiver,
        AppProcess(
            {"CRM_SECRET": SECRET},
            f"sqlite+aiosqlite:///{tmp_path / 'lr.db'}",
            always_on_config,
            slack_api_url=fake_slack.url,
            log_dir=tmp_path / "app",
        ) as app,
    ):
        menu = open_menu(app, fake_slack)
        webhooks = click_in_view(app, fake_slack, menu, "admin_webhooks")
        assert "None configured yet" in shown(webhooks["blocks"])
        form = click_in_view(app, fake_slack, webhooks, "admin_add_webhook", value="add")
        forged = submit(app, form, webhook_values("crm", receiver.url, []), user="U0BOB")
        assert "Only Leadrouter admins" in forged["errors"]["url"]
        plain = webhook_values("crm", "http://crm.example.com/hook", ["lead.created"])
        refused = submit(app, form, plain)
        assert refused["response_action"] == "errors"
        assert "must be https" in refused["errors"]["url"]

        updates = len(fake_slack.calls_to("views.update"))
        ack = submit(app, form, webhook_values("crm", receiver.url, ["lead.created"]))
        assert ack["response_action"] == "update", ack
        assert "configuration version 2" in shown(ack["view"])
        assert "+ webhooks[crm]" in shown(ack["view"])
        listed = fake_slack.wait_for("views.update", count=updates + 1)[-1].response["view"]
        assert receiver.url in shown(listed["blocks"])  # the list under the form, refreshed

        lead = app.post_lead({"email": "ada@acme.com"}).json()
        assert receiver.wait_for(lambda got: any(i.lead_id == lead["id"] for i in got), 20)
        [delivery] = [item for item in receiver.received() if item.lead_id == lead["id"]]
        assert (delivery.type, delivery.verified) == ("lead.created", True)

        edit = click_in_view(app, fake_slack, listed, "admin_edit_webhook", value="crm")
        assert edit["blocks"][1]["element"]["initial_value"] == receiver.url
        updates = len(fake_slack.calls_to("views.update"))
        ack = submit(app, edit, webhook_values(None, receiver.url, ["lead.contacted"]))
        assert "webhooks[crm]" in shown(ack["view"]) and "lead.contacted" in shown(ack["view"])
        refreshed = fake_slack.wait_for("views.update", count=updates + 1)[-1].response["view"]
        assert "lead.contacted" in shown(refreshed["blocks"])

        def remove(view: dict[str, Any]) -> dict[str, Any]:
            updates = len(fake_slack.calls_to("views.update"))
            click = block_action_body("admin_remove_webhook", "crm", user_id="U0ADMIN", view=view)
            assert app.post_slack(click).status_code == 200
            return fake_slack.wait_for("views.update", count=updates + 1)[-1].response["view"]

        # A list as it was before the edit (another admin's, say): refused, and refreshed.
        stale = remove(listed)
        assert "was changed by @U0ADMIN after you opened it" in shown(stale["blocks"])
        assert "lead.contacted" in shown(stale["blocks"])
        removed = remove(stale)
        assert "- webhooks[crm]" in shown(removed["blocks"])
        assert "None configured yet" in shown(removed["blocks"])
        history = reply(fake_slack, command(app, fake_slack, "history"))
        assert "Version 4" in shown(history["blocks"])
