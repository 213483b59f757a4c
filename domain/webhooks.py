"""Outbound webhooks: which endpoints want which events, and what each delivery says.

Every change a lead goes through is already an event in its timeline; each timeline
event type that means something to a CRM, a dialer or marketing automation has a
webhook type (`lead.assigned`, ...). A delivery's body follows the Standard Webhooks
shape (`{"type", "timestamp", "data"}`, https://www.standardwebhooks.com/) and is built
here, from the lead as the causing transaction left it, so the receiver learns what
was true when it happened. After erasure a lead's deliveries carry only its id.

Signing secrets stay in the environment (`secret_env`), like intake profiles' secrets:
the configuration is exported and shown in Slack. For the same reason a URL may not
carry a user name or password, and no error message repeats what was typed as a secret.
Deliveries carry personal data, so they travel over https; plain http is allowed only to
this machine (a receiver on loopback, as in tests and local setups).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.durations import Duration
from domain.errors import FieldError
from domain.records import LeadRecord

WEBHOOK_EVENTS = (
    "lead.created",
    "lead.routed",
    "lead.assigned",
    "lead.claimed",
    "lead.released",
    "lead.reassigned",
    "lead.contacted",
    "lead.qualified",
    "lead.disqualified",
    "lead.recycled",
    "lead.nurtured",
    "lead.sla_breached",
    "lead.escalated",
    "lead.outcome",
    "lead.erased",
)
TEST_EVENT = "webhook.test"

TIMELINE_TO_WEBHOOK = {
    "created": "lead.created",
    "routed": "lead.routed",
    "assigned": "lead.assigned",
    "claimed": "lead.claimed",
    "released": "lead.released",
    "reassigned": "lead.reassigned",
    "contacted": "lead.contacted",
    "qualified": "lead.qualified",
    "disqualified": "lead.disqualified",
    "recycled": "lead.recycled",
    "nurtured": "lead.nurtured",
    "breached": "lead.sla_breached",
    "manager_notified": "lead.escalated",
    "reposted": "lead.escalated",
    "escalation_failed": "lead.escalated",
    "opportunity": "lead.outcome",
    "won": "lead.outcome",
    "lost": "lead.outcome",
    "erased": "lead.erased",
}
"""Timeline event type -> webhook type. Reminders, offers and Slack delivery failures are
the product's own business and stay inside."""

CONTACT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "company_domain",
    "country",
    "region",
    "state",
    "city",
    "industry",
    "employees",
    "product_interest",
    "score",
    "source",
    "lead_type",
    "attended_by",
    "external_id",
    "attributes",
)
_ENDPOINT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)
LOOPBACK_NAMES = frozenset({"localhost"})


def check_url(value: str) -> str:
    """A receiver's URL: http(s) with a host (pydantic's parser, at most 2,083
    characters), https unless the host is loopback, no credentials in it."""
    try:
        url = _HTTP_URL.validate_python(value)
    except ValidationError as error:
        raise ValueError(f"not a valid http(s) URL ({error.errors()[0]['msg']})") from None
    if url.username or url.password:
        raise ValueError("no user name or password in the URL: the signature authenticates")
    if url.scheme != "https" and not _loopback(url.host or ""):
        raise ValueError("must be https (plain http only to localhost or 127.0.0.1)")
    return value


def _same_url(value: str) -> str:
    """The URL as parsed (`HTTPS://CRM.test` and `https://crm.test/` are one receiver)."""
    try:
        return str(_HTTP_URL.validate_python(value))
    except ValidationError:
        return value


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class WebhookEndpoint(BaseModel):
    """One receiver. `events` absent or empty: every event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    url: str
    secret_env: str
    events: list[str] = Field(default_factory=list)
    active: bool = True
    timeout: Duration = timedelta(seconds=10)
    max_attempts: int = Field(default=10, ge=1, le=50)
    backoff: Duration = timedelta(seconds=5)
    max_backoff: Duration = timedelta(hours=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _ENDPOINT_NAME.match(value):
            raise ValueError("lower-case letters, digits, - and _")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("secret_env")
    @classmethod
    def _env(cls, value: str) -> str:
        if not _ENV_NAME.match(value):  # what was typed may be the secret: not repeated
            raise ValueError(
                "expected the name of the environment variable that holds the secret "
                "(like LEADROUTER_WEBHOOK_CRM_SECRET), not the secret itself"
            )
        return value

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [event for event in value if event not in WEBHOOK_EVENTS]
        if unknown:
            raise ValueError(f"unknown events {unknown}; known: {', '.join(WEBHOOK_EVENTS)}")
        return value

    @model_validator(mode="after")
    def _positive(self) -> WebhookEndpoint:
        if self.timeout <= timedelta(0) or self.backoff <= timedelta(0):
            raise ValueError("timeout and backoff must be positive")
        return self

    def wants(self, event_type: str) -> bool:
        return self.active and (not self.events or event_type in self.events)

    def retry_in(self, attempts: int) -> timedelta | None:
        """How long to wait after the `attempts`-th failure; None when the budget is spent."""
        if attempts >= self.max_attempts:
            return None
        return min(self.backoff * 2 ** (attempts - 1), self.max_backoff)


def webhook_type(timeline_type: str) -> str | None:
    return TIMELINE_TO_WEBHOOK.get(timeline_type)


def webhook_body(
    event_type: str,
    at: datetime,
    lead: LeadRecord,
    event: Mapping[str, Any],
    owner_email: str | None,
) -> dict[str, Any]:
    """A delivery's body: the lead as stored after the change, the timeline event
    (type, actor, reason, data) that caused it, and the owner's Slack id and email so a
    CRM can set its own owner field. An erased lead gives its id and when, nothing else."""
    if lead.erased_at is not None or event_type == "lead.erased":
        erased_at = lead.erased_at or at
        return _envelope(event_type, at, {"id": lead.id, "erased_at": _iso(erased_at)})
    fields = lead.fields.model_dump(mode="json", include=set(CONTACT_FIELDS), exclude_none=True)
    data: dict[str, Any] = {
        "id": lead.id,
        "status": str(lead.status),
        "team": lead.team,
        "method": str(lead.method),
        "owner": {"slack_id": lead.owner, "email": owner_email} if lead.owner else None,
        "sla_due_at": _iso(lead.sla_due_at),
        "created_at": _iso(lead.created_at),
        "submitter": lead.submitter,
        "lead": {key: value for key, value in fields.items() if value not in ({}, [])},
        "rule": lead.decision.get("rule"),
        "event": {
            key: event[key]
            for key in ("type", "actor", "reason", "data")
            if event.get(key) is not None
        },
    }
    if event_type == "lead.outcome":
        data["outcome"] = event.get("type")
    return _envelope(event_type, at, data)


def ping_body(endpoint: str, at: datetime) -> dict[str, Any]:
    """What `webhooks test NAME` sends: the envelope with no lead in it."""
    return _envelope(TEST_EVENT, at, {"endpoint": endpoint, "message": "Leadrouter test event"})


def _envelope(event_type: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "timestamp": _iso(at), "data": data}


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def check_webhooks(data: Any) -> list[FieldError]:
    """Unique endpoint names and URLs in the raw `webhooks` list: the name identifies an
    endpoint's deliveries, and two endpoints on one URL would deliver every event twice
    (each sharer is named, so the one just edited in a modal hears it too)."""
    if not isinstance(data, list):
        return []
    items = [item if isinstance(item, dict) else {} for item in data]
    problems = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        name = item.get("name")
        if name in seen:
            problems.append(FieldError(f"webhooks[{index}].name", f"{name} is listed twice"))
        if isinstance(name, str):
            seen.add(name)
    urls = [_same_url(item["url"]) if isinstance(item.get("url"), str) else None for item in items]
    for index, url in enumerate(urls):
        others = [
            str(items[other].get("name"))
            for other, same in enumerate(urls)
            if url is not None and same == url and other != index
        ]
        if others:
            message = f"the same URL as endpoint {', '.join(others)}"
            problems.append(FieldError(f"webhooks[{index}].url", message))
    return problems
