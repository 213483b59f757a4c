"""The door of `/slack/events` in HTTP mode: verify Slack's signature on the raw body
before anything parses it, and refuse a signed request seen before.

Why before Bolt: Bolt parses the body (form, JSON) before it verifies the signature,
so unsigned garbage such as `[1]`, `{x` or a timestamp of `abc` became a 500 and a
traceback per request. Here such a request costs one log line and a 401.

Why replays: a signature is valid for five minutes, and anyone who captured a signed
click (a proxy log, a browser extension) could send it again within that window and
re-claim a lead. Slack re-signs its own retries (a fresh timestamp), so the same
signature twice is never Slack's. The first use of each signature is recorded (as a
SHA-256 digest) in the table every replica shares, slack_deliveries, where keys are
forgotten after an hour, long after the signature itself has expired.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from slack_sdk.signature import Clock, SignatureVerifier
from starlette.responses import JSONResponse, Response

from storage.uow import Database

log = logging.getLogger(__name__)


class _AppClock(Clock):
    """slack_sdk's clock reading the application's (tests move it)."""

    def __init__(self, now: Callable[[], datetime]):
        self._now = now

    def now(self) -> float:
        return self._now().timestamp()


def replay_key(signature: str) -> str:
    return "sig:" + hashlib.sha256(signature.encode()).hexdigest()


class SlackRequestGate:
    def __init__(self, signing_secret: str, db: Database, now: Callable[[], datetime]):
        self.verifier = SignatureVerifier(signing_secret, _AppClock(now))
        self.db = db
        self.now = now

    async def refusal(self, headers: Mapping[str, str], body: bytes) -> Response | None:
        """None when the request is Slack's and new; else the 401 to answer with."""
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
            return self._refuse("missing signature or timestamp")
        if not self.verifier.is_valid(body, timestamp, signature):
            return self._refuse("bad or expired signature")
        async with self.db.transaction() as uow:
            first = await uow.deliveries.first_time(replay_key(signature), self.now())
        if not first:
            return self._refuse("replay of a request already handled")
        return None

    def _refuse(self, reason: str) -> Response:
        log.warning("refused a request to /slack/events: %s", reason)
        return JSONResponse({"error": f"refused: {reason}"}, status_code=401)
