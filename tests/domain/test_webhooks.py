"""Webhook endpoints as configuration, the timeline -> webhook type table, the bodies a
receiver gets (and what an erased lead's say), and the retry budget."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import dump_config, load_config, validate_config
from domain.errors import InvalidInput
from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadRecord
from domain.webhooks import WEBHOOK_EVENTS, WebhookEndpoint, webhook_body, webhook_type

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LEAD = LeadRecord(
    id="a" * 32,
    created_at=AT,
    submitter="hubspot",
    fields=LeadInput(email="ada@acme.com", first_name="Ada", external_id="3234574"),
    status=LeadStatus.ASSIGNED,
    owner="U0ALICE",
    team="inbound",
    method=Method.PUSH,
    decision={"rule": "everyone else", "reasons": ["..."]},
    sla_due_at=AT + timedelta(minutes=5),
    assigned_at=AT,
    contacted_at=None,
    version=2,
)


def test_every_contract_event_is_known_and_each_timeline_type_maps_to_one() -> None:
    assert len(WEBHOOK_EVENTS) == 15
    assert webhook_type("assigned") == "lead.assigned"
    assert webhook_type("breached") == "lead.sla_breached"
    assert webhook_type("won") == "lead.outcome"
    assert webhook_type("reposted") == "lead.escalated"
    assert webhook_type("nurtured") == "lead.nurtured"
    assert webhook_type("reminded") is None  # the product's own business


def test_a_body_carries_the_owner_email_and_slack_id_and_the_lead_as_it_was() -> None:
    event = {"type": "assigned", "actor": "leadrouter", "reason": "round robin", "data": None}
    body = webhook_body("lead.assigned", AT, LEAD, event, "alice@example.com")
    assert body["type"] == "lead.assigned"
    assert body["timestamp"] == "2026-12-01T10:00:00Z"
    data = body["data"]
    assert data["owner"] == {"slack_id": "U0ALICE", "email": "alice@example.com"}
    assert data["lead"] == {
        "email": "ada@acme.com",
        "first_name": "Ada",
        "external_id": "3234574",
        "lead_type": "mql",
    }
    assert (data["status"], data["method"], data["rule"]) == ("assigned", "push", "everyone else")
    assert data["sla_due_at"] == "2026-12-01T10:05:00Z"
    assert data["event"] == {"type": "assigned", "actor": "leadrouter", "reason": "round robin"}


def test_an_outcome_names_itself() -> None:
    body = webhook_body("lead.outcome", AT, LEAD, {"type": "won", "actor": "crm"}, None)
    assert body["data"]["outcome"] == "won"


@pytest.mark.parametrize("event_type", ["lead.erased", "lead.assigned"])
def test_an_erased_lead_gives_only_its_id(event_type: str) -> None:
    erased = replace(LEAD, erased_at=AT)
    body = webhook_body(event_type, AT, erased, {"type": "assigned"}, "alice@example.com")
    assert body["data"] == {"id": LEAD.id, "erased_at": "2026-12-01T10:00:00Z"}


def test_endpoints_round_trip_through_the_yaml() -> None:
    text = """
webhooks:
  - name: crm
    url: https://crm.example.com/hooks
    secret_env: LEADROUTER_WEBHOOK_CRM_SECRET
    events: [lead.assigned, lead.erased]
    timeout: 5s
"""
    config = load_config(text)
    assert config.webhooks[0].timeout == timedelta(seconds=5)
    assert load_config(dump_config(config)) == config
    assert "timeout: 5s" in dump_config(config)
    assert config.webhooks[0].wants("lead.erased")
    assert not config.webhooks[0].wants("lead.created")


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        ({"name": "x", "url": "ftp://a", "secret_env": "S"}, "webhooks[0].url"),
        ({"name": "x", "url": "https://a", "secret_env": "S", "events": ["lead.won"]},
         "webhooks[0].events"),
        ({"name": "x", "url": "https://a", "secret_env": "lower"}, "webhooks[0].secret_env"),
        ({"name": "x", "url": "https://a", "secret_env": "S", "timeout": "soon"},
         "webhooks[0].timeout"),
    ],
)  # fmt: skip
def test_bad_endpoints_are_refused_with_their_path(endpoint: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_config({"webhooks": [endpoint]})
    assert [error.path for error in raised.value.errors] == [path]


def test_endpoint_names_are_unique() -> None:
    endpoint = {"name": "crm", "url": "https://a", "secret_env": "S"}
    with pytest.raises(InvalidInput, match=r"webhooks\[1\].name: crm is listed twice"):
        validate_config({"webhooks": [endpoint, endpoint]})


@given(
    st.integers(min_value=1, max_value=20),
    st.integers(min_value=1, max_value=600),
    st.integers(min_value=1, max_value=7200),
)
def test_backoff_grows_is_capped_and_the_budget_ends(attempts: int, base: int, cap: int) -> None:
    endpoint = WebhookEndpoint(
        name="crm", url="https://a", secret_env="S", max_attempts=attempts,
        backoff=timedelta(seconds=base), max_backoff=timedelta(seconds=cap),
    )  # fmt: skip
    waits = [endpoint.retry_in(n) for n in range(1, attempts)]
    assert all(wait is not None and wait <= timedelta(seconds=max(cap, 1)) for wait in waits)
    assert waits == sorted(waits)  # type: ignore[type-var]
    assert endpoint.retry_in(attempts) is None


@pytest.mark.parametrize(
    "url",
    ["https://crm.test/hook", "http://127.0.0.1:8000/hook", "http://localhost/x", "http://[::1]/"],
)
def test_https_or_loopback_urls_are_accepted(url: str) -> None:
    assert WebhookEndpoint(name="x", url=url, secret_env="S").url == url  # kept as typed


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://crm.test/hook", "must be https"),
        ("http://10.0.0.5/hook", "must be https"),
        ("https://", "not a valid http(s) URL"),
        ("crm.test/hook", "not a valid http(s) URL"),
        ("https://user:pass@crm.test/", "no user name or password"),
    ],
)
def test_plain_http_off_this_machine_and_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as raised:
        validate_config({"webhooks": [{"name": "x", "url": url, "secret_env": "S"}]})
    assert [error.path for error in raised.value.errors] == ["webhooks[0].url"]


def test_two_endpoints_on_one_url_are_both_named() -> None:
    endpoints = [
        {"name": "crm", "url": "https://CRM.test", "secret_env": "S"},
        {"name": "other", "url": "https://x.test", "secret_env": "S"},
        {"name": "copy", "url": "https://crm.test/", "secret_env": "S"},
    ]
    with pytest.raises(InvalidInput) as raised:
        validate_config({"webhooks": endpoints})
    assert [str(error) for error in raised.value.errors] == [
        "webhooks[0].url: the same URL as endpoint copy",
        "webhooks[2].url: the same URL as endpoint crm",
    ]


def test_a_secret_typed_where_its_variable_name_goes_is_not_repeated() -> None:
    secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="
    with pytest.raises(InvalidInput) as raised:
        validate_config({"webhooks": [{"name": "x", "url": "https://a", "secret_env": secret}]})
    assert "not the secret itself" in str(raised.value)
    assert secret not in str(raised.value)
