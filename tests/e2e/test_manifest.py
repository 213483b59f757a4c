"""The Slack app manifests must create a working app in one paste.

Why: a manifest typo (a command pointing elsewhere, a missing scope, a Socket Mode file
that still carries URLs) only shows up when someone installs the app. These checks keep
``manifest.yml`` and ``manifest.socket-mode.yml`` consistent with CONTRACT.md and with
each other.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.localslack import LocalSlack

ROOT = Path(__file__).resolve().parents[2]
REQUEST_URL = "https://YOUR-HOST/slack/events"
COMMANDS = {"/leads", "/leadstats", "/leadrouter"}
LEADSTATS_HINT = "[me|team NAME|rep @user|source NAME] [7d|30d|90d]"
# What the app calls, and the bot scope each needs.
NEEDED_SCOPES = {
    "chat:write",  # chat.postMessage, chat.update, chat.postEphemeral
    "chat:write.public",  # posting to team channels the bot was not invited to
    "im:write",  # conversations.open for DMs
    "users:read",  # users.info (time zones)
    "users:read.email",  # users.lookupByEmail
    "commands",  # the slash commands
}


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{name} is not a YAML mapping"
    return doc


@pytest.fixture(scope="module")
def http() -> dict[str, Any]:
    return load("manifest.yml")


@pytest.fixture(scope="module")
def socket() -> dict[str, Any]:
    return load("manifest.socket-mode.yml")


def urls(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every ``url``/``request_url`` value in the document, with where it is."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key in ("url", "request_url", "message_menu_options_url"):
                found.append((where, value))
            found.extend(urls(value, where))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found.extend(urls(item, f"{path}[{i}]"))
    return found


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.socket-mode.yml"])
def test_both_manifests_describe_the_app(name: str) -> None:
    doc = load(name)
    assert doc["_metadata"]["major_version"] == 1
    info = doc["display_information"]
    assert info["name"] == "Leadrouter"
    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])

    features = doc["features"]
    assert features["bot_user"]["display_name"] == "Leadrouter"
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True

    commands = {c["command"]: c for c in features["slash_commands"]}
    assert set(commands) == COMMANDS and len(features["slash_commands"]) == 3
    assert commands["/leadstats"]["usage_hint"] == LEADSTATS_HINT
    for command in commands.values():
        assert 0 < len(command["description"]) <= 100

    scopes = doc["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    assert set(scopes) >= NEEDED_SCOPES
    assert "user" not in doc["oauth_config"]["scopes"]  # a bot-only app

    settings = doc["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert settings["token_rotation_enabled"] is False


def test_http_manifest_has_one_request_url_everywhere(http: dict[str, Any]) -> None:
    assert http["settings"]["socket_mode_enabled"] is False
    found = urls(http)
    where = {w for w, _ in found}
    assert where == {
        "features.slash_commands[0].url",
        "features.slash_commands[1].url",
        "features.slash_commands[2].url",
        "settings.event_subscriptions.request_url",
        "settings.interactivity.request_url",
        "settings.interactivity.message_menu_options_url",
    }
    assert {u for _, u in found} == {REQUEST_URL}


def test_socket_mode_manifest_has_no_urls(socket: dict[str, Any]) -> None:
    assert socket["settings"]["socket_mode_enabled"] is True
    assert urls(socket) == []


def test_the_two_differ_only_by_the_socket_mode_switch(
    http: dict[str, Any], socket: dict[str, Any]
) -> None:
    stripped = copy.deepcopy(http)
    for command in stripped["features"]["slash_commands"]:
        del command["url"]
    del stripped["settings"]["event_subscriptions"]["request_url"]
    del stripped["settings"]["interactivity"]["request_url"]
    del stripped["settings"]["interactivity"]["message_menu_options_url"]
    stripped["settings"]["socket_mode_enabled"] = True
    assert stripped == socket


def test_fake_slack_grants_the_manifest_scopes(http: dict[str, Any]) -> None:
    """The fake announces (X-OAuth-Scopes) exactly what the manifest asks for."""
    with LocalSlack() as slack:
        answer = httpx.post(slack.url + "auth.test", headers={"Authorization": "Bearer xoxb-t"})
    granted = set(answer.headers["x-oauth-scopes"].split(","))
    assert granted == set(http["oauth_config"]["scopes"]["bot"])
