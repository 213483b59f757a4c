"""`leadrouter demo` without a browser: the page's own API drives the real app, and a
taken port is one line with exit code 2.

Why: the demo must work after `pip install .` with no Slack and no token, and it runs
the real app, so a lead from the form must be routed, stored and shown where its team
works, and a click must really change ownership. The browser test proves the drawing;
this one proves the chain where Chromium is missing.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from bot.demo.process import DemoProcess

pytestmark = pytest.mark.e2e


def _call(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as answer:
        return json.loads(answer.read())


def _channel(state: dict[str, Any], channel_id: str) -> list[dict[str, Any]]:
    return next(c["messages"] for c in state["channels"] if c["id"] == channel_id)


def _wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_pull_lead_is_posted_claimed_and_redrawn_for_everyone() -> None:
    with DemoProcess() as demo:
        sent = _call(
            demo.url + "demo/lead",
            {"email": "jo@northwind.example", "company": "Northwind", "industry": "biotech"},
        )
        assert sent["status"] == 201
        assert (sent["answer"]["team"], sent["answer"]["method"]) == ("healthcare", "pull")

        def posted() -> list[dict[str, Any]]:
            return _channel(_call(demo.url + "demo/state?as=U0DAN"), "C0HEALTHCARE")

        (card,) = _wait_for(posted)
        claimed = _call(
            demo.url + "demo/click",
            {
                "as": "U0DAN",
                "action_id": "claim_lead",
                "channel": card["channel"],
                "ts": card["ts"],
            },
        )
        assert claimed["status"] == 200

        def redrawn() -> bool:
            (seen_by_cara,) = _channel(_call(demo.url + "demo/state?as=U0CARA"), "C0HEALTHCARE")
            return "Owner: <@U0DAN>" in json.dumps(seen_by_cara["blocks"])

        assert _wait_for(redrawn)


def test_with_no_configuration_the_admin_sets_it_up_from_app_home() -> None:
    """`--empty`: Morgan (a workspace admin) opens the Home tab, clicks Set up Leadrouter,
    submits the New team modal through the page, and leads then reach the team."""
    with DemoProcess("--empty") as demo:
        _call(demo.url + "demo/home", {"as": "U0MORGAN"})
        home = _wait_for(lambda: _call(demo.url + "demo/state?as=U0MORGAN")["home"])
        assert "setup_leadrouter" in json.dumps(home["blocks"])
        _call(
            demo.url + "demo/click",
            {"as": "U0MORGAN", "action_id": "setup_leadrouter", "view_id": home["id"]},
        )
        modal = _wait_for(lambda: _call(demo.url + "demo/state?as=U0MORGAN")["modal"])
        assert modal["callback_id"] == "admin_team"
        values = {
            "name": {"name": {"type": "plain_text_input", "value": "sdr"}},
            "members": {"members": {"type": "multi_users_select", "selected_users": ["U0SAM"]}},
        }
        saved = _call(
            demo.url + "demo/submit", {"as": "U0MORGAN", "view_id": modal["id"], "values": values}
        )
        assert saved["answer"]["response_action"] == "update", saved
        sent = _call(demo.url + "demo/lead", {"email": "first@lead.example"})
        assert sent["answer"]["owner"] == "U0SAM"


def test_a_taken_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "demo", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"leadrouter: cannot listen on 127.0.0.1:{port}")
    )
