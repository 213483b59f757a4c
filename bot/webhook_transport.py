"""The HTTP transport of outbound webhooks: one signed POST, and what its answer means.

Signed to the Standard Webhooks specification with its reference library
(`standardwebhooks`): `webhook-id` (the same on every retry and replay, so a receiver
drops repeats), `webhook-timestamp` (this attempt's, in seconds) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the endpoint's `whsec_` secret).
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

A 2xx is delivered; 429, 408, 5xx, a timeout or a network error is worth retrying
(429 after its Retry-After); any other answer (400, 401, 404, 410 ...) will not change
by itself, so it goes to the dead letters at once, to be replayed once fixed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from standardwebhooks.webhooks import Webhook

from domain.webhooks import WebhookEndpoint, ping_body

RETRYABLE_STATUSES = frozenset({408, 425, 429})
ANSWER_CHARS = 300  # of the receiver's answer kept for the operator
MAX_RETRY_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Answer:
    """What one attempt came to."""

    delivered: bool
    retryable: bool
    status: int | None
    detail: str
    retry_after: timedelta | None = None


class MissingSecret(Exception):
    """The endpoint's `secret_env` is not set: nothing can be signed."""


def signed_request(
    endpoint: WebhookEndpoint,
    message_id: str,
    body: dict[str, Any],
    now: datetime,
    environ: Mapping[str, str],
) -> tuple[bytes, dict[str, str]]:
    """The exact bytes to post and the headers that sign them."""
    secret = environ.get(endpoint.secret_env)
    if not secret:
        raise MissingSecret(f"set {endpoint.secret_env} to the endpoint's whsec_ secret")
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    signature = Webhook(secret).sign(message_id, now, data)
    headers = {
        "content-type": "application/json",
        "user-agent": "Leadrouter-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return data.encode(), headers


async def deliver(
    session: aiohttp.ClientSession,
    endpoint: WebhookEndpoint,
    message_id: str,
    body: dict[str, Any],
    now: datetime,
    environ: Mapping[str, str],
) -> Answer:
    """Post once; never raises for what the receiver or the network does."""
    try:
        data, headers = signed_request(endpoint, message_id, body, now, environ)
    except MissingSecret as error:
        return Answer(False, True, None, str(error), retry_after=timedelta(minutes=1))
    timeout = aiohttp.ClientTimeout(total=endpoint.timeout.total_seconds())
    try:
        async with session.post(
            endpoint.url, data=data, headers=headers, timeout=timeout, allow_redirects=False
        ) as response:
            text = (await response.text(errors="replace"))[:ANSWER_CHARS]
            return _classified(response.status, text, response.headers.get("retry-after"))
    except TimeoutError:
        return Answer(False, True, None, f"no answer within {endpoint.timeout.total_seconds()}s")
    except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as error:
        return Answer(False, True, None, f"{type(error).__name__}: {error}"[:ANSWER_CHARS])


def _classified(status: int, text: str, retry_after: str | None) -> Answer:
    detail = f"HTTP {status}: {text}".strip()
    if 200 <= status < 300:
        return Answer(True, False, status, detail)
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    wait = _seconds(retry_after) if status == 429 else None
    return Answer(False, retryable, status, detail, wait)


def _seconds(header: str | None) -> timedelta | None:
    """Retry-After in seconds (HTTP dates are rare from webhook receivers: ignored)."""
    if header is None or not header.strip().isdigit():
        return None
    return min(timedelta(seconds=int(header.strip())), MAX_RETRY_AFTER)


async def send_test_event(
    endpoint: WebhookEndpoint, now: datetime, environ: Mapping[str, str]
) -> tuple[str, Answer]:
    """Post a signed `webhook.test` event (no lead in it) now; its id and the answer."""
    message = f"msg_test_{uuid.uuid4().hex}"
    async with aiohttp.ClientSession() as session:
        answer = await deliver(
            session, endpoint, message, ping_body(endpoint.name, now), now, environ
        )
    return message, answer
