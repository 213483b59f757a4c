"""Proof of the sender, per intake profile: each vendor's own signature, or our bearer key.

Every check compares in constant time and runs over the raw body exactly as received
(re-serialised JSON would not match). Sources for each scheme:
- HubSpot v3: base64(HMAC-SHA256(client secret, method + URI + body + timestamp)) in
  `X-HubSpot-Signature-v3`, with `X-HubSpot-Request-Timestamp` in milliseconds; requests
  older than 5 minutes are refused. URL-encoded characters in the URI are decoded first.
  https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
- Meta: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`; the
  subscription handshake echoes `hub.challenge` when `hub.verify_token` matches.
  https://developers.facebook.com/docs/graph-api/webhooks/getting-started
- Typeform: `Typeform-Signature: sha256=<base64 HMAC-SHA256(secret, body)>`.
  https://www.typeform.com/developers/webhooks/secure-your-webhooks/
Meta and Typeform sign no timestamp, so a replayed request cannot be told from the
original by its signature; the sender's id (`external_id`) makes a replay a duplicate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import unquote

from bot.api_keys import Scope
from bot.settings import Settings
from domain.intake_profiles import AuthConfig


class Rejected(Exception):
    """The request does not prove its sender; the message says why (never the secret)."""


class NotConfigured(Exception):
    """The profile needs a secret that is not set in the environment."""


def verify_sender(
    auth: AuthConfig,
    *,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    method: str,
    url: str,
    body: bytes,
    now: datetime,
    settings: Settings,
    environ: Mapping[str, str],
) -> str | None:
    """Raise Rejected unless the request proves its sender. Returns the API key's name
    for the bearer scheme (recorded as the submitter), None for a vendor signature."""
    if auth.scheme == "bearer":
        return _bearer(auth, headers, query, settings)
    secret = _secret(auth.secret_env, environ)
    if auth.scheme == "hubspot_v3":
        _hubspot_v3(secret, headers, method, url, body, now, auth.max_age)
    elif auth.scheme == "meta":
        _expect(headers.get("x-hub-signature-256"), "sha256=" + _hex(secret, body), "Meta")
    else:
        _expect(headers.get("typeform-signature"), "sha256=" + _b64(secret, body), "Typeform")
    return None


def meta_handshake(auth: AuthConfig, query: Mapping[str, str], environ: Mapping[str, str]) -> str:
    """The challenge to echo for Meta's subscription check; Rejected on a wrong token."""
    token = _secret(auth.verify_token_env, environ)
    if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        query.get("hub.verify_token", "").encode(), token.encode()
    ):
        raise Rejected("hub.verify_token does not match")
    challenge = query.get("hub.challenge")
    if not challenge:
        raise Rejected("hub.challenge is missing")
    return challenge


def _bearer(
    auth: AuthConfig, headers: Mapping[str, str], query: Mapping[str, str], settings: Settings
) -> str:
    scheme, _, secret = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        secret = query.get("key", "") if auth.key_in_query else ""
    key = settings.key_for(secret.strip()) if secret.strip() else None
    if key is None:
        hint = " or ?key=<secret>" if auth.key_in_query else ""
        raise Rejected(f"missing or invalid API key (Authorization: Bearer <secret>{hint})")
    if not key.allows(Scope.INTAKE):
        raise Rejected(f"API key {key.name} lacks the {Scope.INTAKE} scope")
    return key.name


def _hubspot_v3(
    secret: str,
    headers: Mapping[str, str],
    method: str,
    url: str,
    body: bytes,
    now: datetime,
    max_age: int,
) -> None:
    stamp = headers.get("x-hubspot-request-timestamp", "")
    if not stamp.isdigit():
        raise Rejected("X-HubSpot-Request-Timestamp is missing")
    age_ms = now.timestamp() * 1000 - int(stamp)
    if abs(age_ms) > max_age * 1000:
        raise Rejected(f"HubSpot signature timestamp is {age_ms / 1000:.0f}s old (stale)")
    expected = hubspot_v3_signature(secret, method, url, body, stamp)
    _expect(headers.get("x-hubspot-signature-v3"), expected, "HubSpot v3")


def hubspot_v3_signature(secret: str, method: str, url: str, body: bytes, stamp: str) -> str:
    """What HubSpot sends for this request: the method, the URI with its URL-encoded
    characters decoded, the body and the timestamp, in that order."""
    return _b64(secret, method.upper().encode() + unquote(url).encode() + body + stamp.encode())


def _expect(given: str | None, expected: str, vendor: str) -> None:
    if not given:
        raise Rejected(f"the {vendor} signature header is missing")
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise Rejected(f"the {vendor} signature does not match")


def _secret(env_name: str | None, environ: Mapping[str, str]) -> str:
    value = environ.get(env_name or "")
    if not env_name or not value:
        raise NotConfigured(f"set {env_name or 'the secret_env variable'} in the environment")
    return value


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
