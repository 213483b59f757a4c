"""Who may call an API route: a known key (401), with the route's scope (403), from an
address that has not been guessing keys (429 with Retry-After).

Why slow bad keys per address: an intake URL sits on a public web form, and without
a limit a stranger can try secrets as fast as the server answers. Wrong keys are
counted per client address in this process (each replica counts its own, like the
per-key rate limit); a blocked address is refused before its key is even looked at.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api.rate_limit import RateLimiter
from bot.api_keys import ApiKey, Scope
from bot.settings import RateLimit, Settings

log = logging.getLogger(__name__)

BAD_KEYS = RateLimit(requests=10, per_seconds=60.0)
"""Ten wrong keys at once, then one a minute... six seconds apart on average."""
FORGET_AT = 10_000
"""Addresses remembered before refilled ones are forgotten (memory stays bounded)."""


def _refusal(message: str, status: int, retry_after: float | None = None) -> Response:
    response = JSONResponse({"error": message}, status_code=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def bearer_secret(request: Request) -> str | None:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


class KeyGate:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.failures = RateLimiter(BAD_KEYS, clock)

    def admit(self, request: Request, scope: Scope) -> ApiKey | Response:
        """The caller's key if it may use `scope`, else the response refusing it."""
        address = request.client.host if request.client else "unknown"
        wait = self.failures.wait(address)
        if wait:
            return _refusal(f"too many invalid API keys; retry in {math.ceil(wait)}s", 429, wait)
        secret = bearer_secret(request)
        key = self.settings.key_for(secret) if secret else None
        if key is None:
            self._failed(address)
            return _refusal("missing or invalid API key (Authorization: Bearer <secret>)", 401)
        if not key.allows(scope):
            return _refusal(f"API key {key.name} lacks the {scope} scope", 403)
        return key

    def _failed(self, address: str) -> None:
        if len(self.failures) > FORGET_AT:
            self.failures.forget_full()
        if self.failures.take(address):
            log.warning("invalid API keys from %s: slowed down", address)
