"""Requests exactly as Slack sends them to ``POST /slack/events``: slash commands, block
actions, view submissions and Events API deliveries.

Why: the app must parse Slack's real payload shapes. Hand-rolled bodies drift from what
Slack sends; these builders follow Slack's documented payloads (and bolt-python's own test
fixtures) so a listener that works here works against Slack. Every builder returns the raw
body bytes; sign them with :func:`bot.localslack.signing.signed_headers`::

    body = block_action_body("claim_lead", value="42", user_id="U0ALICE")
    headers = signed_headers("signing-secret", body)
    httpx.post(f"{base}/slack/events", content=body, headers=headers)

Ids default to the local workspace's (:mod:`bot.localslack.identity`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from .identity import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

__all__ = [
    "VERIFICATION_TOKEN",
    "app_home_opened_event",
    "block_action_body",
    "checkboxes",
    "event_body",
    "multi_static_select",
    "multi_users_select",
    "new_trigger_id",
    "number_input",
    "slash_command_body",
    "static_select",
    "text_input",
    "url_verification_body",
    "users_select",
    "view_submission_body",
]

VERIFICATION_TOKEN = "legacy-verification-token"  # Slack still sends this deprecated field

_counter = itertools.count(1)


def _unique() -> int:
    """A process-wide increasing number for ids that Slack makes unique."""
    return next(_counter)


def _now_ts() -> str:
    """A Slack-style ``seconds.micros`` timestamp for now."""
    return f"{time.time():.6f}"


def new_trigger_id() -> str:
    """A trigger id shaped as Slack's (``time.n.hex``); one per user action."""
    return f"{int(time.time())}.{_unique()}.{hashlib.sha1(str(_unique()).encode()).hexdigest()}"


def _form(fields: Mapping[str, Any]) -> bytes:
    return urlencode({k: v for k, v in fields.items() if v is not None}).encode()


def _payload_form(payload: Mapping[str, Any]) -> bytes:
    """Interactivity bodies: one form field ``payload`` holding the JSON document."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


# ---------------------------------------------------------------------- slash commands


def slash_command_body(
    command: str,
    text: str = "",
    user_id: str = "U0TEST",
    channel_id: str = "C0TEST",
    response_url: str | None = None,
    trigger_id: str | None = None,
    *,
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    channel_name: str | None = None,
    api_app_id: str = APP_ID,
) -> bytes:
    """A slash command invocation, form-encoded with the fields Slack sends."""
    return _form(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name
            or ("directmessage" if channel_id.startswith("D") else channel_id.lower()),
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command if command.startswith("/") else "/" + command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url
            or f"https://hooks.slack.com/commands/{team_id}/{_unique()}/fake",
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


# ---------------------------------------------------------------------- block actions


def block_action_body(
    action_id: str,
    value: str | None = None,
    user_id: str = "U0TEST",
    team_id: str = TEAM_ID,
    channel_id: str | None = "C0TEST",
    message_ts: str | None = None,
    response_url: str | None = None,
    trigger_id: str | None = None,
    *,
    block_id: str | None = None,
    action_type: str = "button",
    action: Mapping[str, Any] | None = None,
    message: Mapping[str, Any] | None = None,
    view: Mapping[str, Any] | None = None,
    username: str | None = None,
    api_app_id: str = APP_ID,
    is_ephemeral: bool = False,
) -> bytes:
    """A ``block_actions`` interaction (a button press by default), form-encoded.

    From a message by default (``container.type == "message"``): pass the message as the
    fake recorded it (``fake.message(channel, ts)``) in ``message`` to give listeners the
    real blocks. With ``view`` (a Home tab or modal as ``fake.home_view(user)`` returns it)
    the action comes from that view instead, with no channel or message, as on Slack, and
    never a ``response_url`` from a Home tab (ValueError: Slack sends none there).
    ``action`` fields (e.g. ``selected_option`` for a select) are merged into the action.
    """
    ts = message_ts or (message or {}).get("ts") or _now_ts()
    act: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or f"b{_unique()}",
        "type": action_type,
        "action_ts": _now_ts(),
    }
    if action_type == "button":
        act["text"] = {"type": "plain_text", "text": action_id.replace("_", " "), "emoji": True}
    if value is not None:
        act["value"] = value
    act.update(action or {})
    user = {
        "id": user_id,
        "username": username or user_id.lower(),
        "name": username or user_id.lower(),
        "team_id": team_id,
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": user,
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [act],
    }
    if view is not None:
        stored = dict(view)
        payload["container"] = {
            "type": "view",
            "view_id": stored.get("id", f"V{_unique()}"),
        }
        payload["view"] = stored
        payload["state"] = stored.get("state") or {"values": {}}
        if response_url:
            if stored.get("type") == "home":
                raise ValueError("Slack sends no response_url with a click in the App Home")
            payload["response_url"] = response_url
        return _payload_form(payload)
    channel = channel_id or "C0TEST"
    msg = dict(
        message
        or {
            "type": "message",
            "subtype": "bot_message",
            "text": "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "blocks": [],
        }
    )
    msg.setdefault("ts", ts)
    msg.pop("channel", None)
    payload["container"] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": is_ephemeral,
    }
    payload["channel"] = {"id": channel, "name": channel.lower()}
    payload["message"] = msg
    payload["response_url"] = (
        response_url or f"https://hooks.slack.com/actions/{team_id}/{_unique()}/fake"
    )
    return _payload_form(payload)


# ---------------------------------------------------------------------- view submissions


def text_input(value: str | None) -> dict[str, Any]:
    """State of a ``plain_text_input`` element."""
    return {"type": "plain_text_input", "value": value}


def number_input(value: str | float | None) -> dict[str, Any]:
    """State of a ``number_input`` element (Slack sends the number as a string)."""
    return {"type": "number_input", "value": None if value is None else str(value)}


def _option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def static_select(value: str | None, text: str | None = None) -> dict[str, Any]:
    """State of a ``static_select`` element."""
    return {
        "type": "static_select",
        "selected_option": None if value is None else _option(value, text),
    }


def multi_static_select(values: Iterable[str]) -> dict[str, Any]:
    """State of a ``multi_static_select`` element."""
    return {"type": "multi_static_select", "selected_options": [_option(v) for v in values]}


def checkboxes(values: Iterable[str]) -> dict[str, Any]:
    """State of a ``checkboxes`` element."""
    return {"type": "checkboxes", "selected_options": [_option(v) for v in values]}


def users_select(user_id: str | None) -> dict[str, Any]:
    """State of a ``users_select`` element."""
    return {"type": "users_select", "selected_user": user_id}


def multi_users_select(user_ids: Iterable[str]) -> dict[str, Any]:
    """State of a ``multi_users_select`` element."""
    return {"type": "multi_users_select", "selected_users": list(user_ids)}


def view_submission_body(
    callback_id: str,
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
    user_id: str = "U0TEST",
    private_metadata: str = "",
    view_id: str | None = None,
    *,
    team_id: str = TEAM_ID,
    blocks: list[dict[str, Any]] | None = None,
    title: str = "Leadrouter",
    external_id: str = "",
    trigger_id: str | None = None,
    api_app_id: str = APP_ID,
    response_urls: list[dict[str, Any]] | None = None,
) -> bytes:
    """A modal's ``view_submission``, form-encoded.

    ``values`` is ``view.state.values``: ``{block_id: {action_id: element_state}}``; build
    element states with :func:`text_input`, :func:`static_select`, :func:`users_select`...
    """
    vid = view_id or f"V{_unique():08d}"
    username = user_id.lower()
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": username, "name": username, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": vid,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": {b: dict(a) for b, a in values.items()}},
            "hash": f"{int(time.time())}.{_unique():08d}",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Save", "emoji": True},
            "previous_view_id": None,
            "root_view_id": vid,
            "app_id": api_app_id,
            "external_id": external_id,
            "app_installed_team_id": team_id,
            "bot_id": BOT_ID,
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_form(payload)


# ---------------------------------------------------------------------- Events API


def app_home_opened_event(
    user_id: str, tab: str = "home", view: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The inner ``app_home_opened`` event (pass it to :func:`event_body`)."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D" + user_id,
        "tab": tab,
        "event_ts": _now_ts(),
    }
    if view is not None:
        event["view"] = dict(view)
    return event


def event_body(
    event: Mapping[str, Any],
    event_id: str | None = None,
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    event_time: int | None = None,
) -> bytes:
    """An Events API delivery: the ``event_callback`` envelope around ``event``, as JSON.

    Slack retries a delivery with the same ``event_id`` (and ``X-Slack-Retry-Num``), so
    pass the same id to simulate a retry.
    """
    payload = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev{_unique():010d}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-fake-{_unique()}",
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def url_verification_body(challenge: str) -> bytes:
    """The handshake Slack sends when the Events request URL is saved; echo ``challenge``."""
    return json.dumps(
        {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    ).encode()
