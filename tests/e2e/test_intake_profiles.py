"""Intake profiles through the running app: a Typeform webhook, signed, becomes a lead
(201), its resend a duplicate (200), a forged one nothing (401); Meta's handshake."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.app_process import AppProcess

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent.parent / "fixtures" / "intake"
SECRET = "typeform-e2e-secret"


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"Typeform-Signature": "sha256=" + base64.b64encode(digest).decode(),
            "Content-Type": "application/json"}  # fmt: skip


def test_a_signed_typeform_webhook_takes_the_leads_path(
    start_app: Callable[..., AppProcess],
) -> None:
    app = start_app(
        env={"LEADROUTER_TYPEFORM_SECRET": SECRET, "LEADROUTER_META_VERIFY_TOKEN": "verify-me"}
    )
    body = (FIXTURES / "typeform_form_response.json").read_bytes()
    first = app.post("/api/intake/typeform", content=body, headers=signed(body))
    assert first.status_code == 201, first.text
    assert first.json()["lead"]["lead_type"] == "demo_request"
    again = app.post("/api/intake/typeform", content=body, headers=signed(body))
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    forged = app.post("/api/intake/typeform", content=body, headers=signed(body, "guess"))
    assert forged.status_code == 401
    assert app.get_lead(first.json()["id"]).json()["submitter"] == "typeform"
    query = {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "verify-me"}
    handshake = app.get("/api/intake/meta", params=query)
    assert (handshake.status_code, handshake.text) == (200, "42")
