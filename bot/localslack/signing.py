"""Slack's request signature: how the app knows a request really came from Slack.

Why in the local workspace: a person acting in it (a click, a slash command) must reach
the app exactly as Slack reaches it, signed with the app's signing secret, so the app's
signature check runs as in production. Follows Slack's "Verifying requests from Slack"
(``v0:{timestamp}:{body}`` HMAC-SHA256 with the signing secret).
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["FORM", "JSON", "content_type_of", "sign", "signature", "signed_headers"]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signature(secret: str, body: bytes | str, timestamp: int | str) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed by the signing secret."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request (``timestamp`` defaults to now)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(secret, body, ts),
    }


def content_type_of(body: bytes) -> str:
    """JSON for Events API bodies, form for commands and interactivity."""
    return JSON if body.lstrip()[:1] == b"{" else FORM


def signed_headers(
    secret: str,
    body: bytes,
    content_type: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Signature headers plus ``Content-Type`` (guessed from the body when omitted)."""
    return {
        "Content-Type": content_type or content_type_of(body),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **sign(secret, body, timestamp),
    }
