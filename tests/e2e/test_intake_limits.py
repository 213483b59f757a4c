"""Limits at the door of the running app: per-key rate limit (429 with Retry-After),
body size limits on the Slack endpoint, and the 5-minute window of Slack signatures.

Why: one runaway CRM loop must not starve the others, and nobody may make the process
buffer an unbounded body before the signature check refuses it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from harness.app_process import AppProcess
from harness.slack_signing import signed_headers, url_verification_body

pytestmark = pytest.mark.e2e


def test_a_key_over_its_rate_gets_429_and_others_go_on(
    start_app: Callable[..., AppProcess],
) -> None:
    app = start_app(env={"LEADROUTER_RATE_LIMIT": "3/min"})
    answers = [app.get_lead("no-such-lead").status_code for _ in range(3)]
    assert answers == [404, 404, 404]
    limited = app.post_lead({"email": "ann@example.com"})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 20
    assert "webform" in limited.json()["error"]
    assert app.get_lead("no-such-lead", key="secret-2").status_code == 404  # the crm key
    assert app.post_lead({"email": "ann@example.com"}, key="wrong-key").status_code == 401


def test_slack_endpoint_refuses_huge_bodies_before_reading_them(
    start_app: Callable[..., AppProcess],
) -> None:
    app = start_app()
    huge = b"payload=" + b"x" * (1024 * 1024 + 1)
    declared = app.post_slack(huge, content_type="application/x-www-form-urlencoded")
    assert declared.status_code == 413

    def chunks() -> object:
        for _ in range(17):
            yield b"y" * 65536

    headers = signed_headers(app.signing_secret, b"", "application/x-www-form-urlencoded")
    with httpx.Client(base_url=app.base_url, timeout=15) as client:
        streamed = client.post("/slack/events", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert app.get("/healthz").status_code == 200


def test_slack_signatures_hold_for_five_minutes_only(
    start_app: Callable[..., AppProcess],
) -> None:
    app = start_app()
    body = url_verification_body("challenge-1")
    now = int(time.time())
    assert app.post_slack(body, timestamp=now - 240).status_code == 200
    assert app.post_slack(body, timestamp=now - 360).status_code == 401
    assert app.post_slack(body, timestamp=now + 360).status_code == 401
    assert app.post_slack(body, secret="not-the-signing-secret").status_code == 401
    assert app.post_slack(body, sign=False).status_code == 401
