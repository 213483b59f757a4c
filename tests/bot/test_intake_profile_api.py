"""`POST /api/intake/{profile}` in process, over a real database: each sender's proof
(good, bad and stale signatures; our key), Meta's handshake, and the path after mapping
being exactly `POST /api/leads`'s (201, dedup by the sender's id, 422 with every problem).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from starlette.applications import Starlette

from bot.api.intake_profile_routes import IntakeProfileApi
from bot.api.intake_signatures import hubspot_v3_signature
from bot.api.routes import IntakeApi
from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.intake_profiles import IntakeProfileService
from bot.settings import Settings
from domain.config import load_config
from harness.storage import migrated

FIXTURES = Path(__file__).parent.parent / "fixtures" / "intake"
ENVIRON = {
    "LEADROUTER_HUBSPOT_CLIENT_SECRET": "hubspot-client-secret",
    "LEADROUTER_META_APP_SECRET": "meta-app-secret",
    "LEADROUTER_META_VERIFY_TOKEN": "meta-verify-token",
    "LEADROUTER_TYPEFORM_SECRET": "typeform-secret",
    "LEADROUTER_META_PAGE_TOKEN": "meta-page-token",
    "LEADROUTER_HUBSPOT_TOKEN": "hubspot-private-app-token",
}
KEYS = "zapier:zapier-secret-1,salesforce:salesforce-secret-1"


@dataclass
class Api:
    client: httpx.AsyncClient
    clock: list[datetime]
    leads: IntakeApi
    profiles: IntakeProfileService

    async def post(self, profile: str, body: bytes, **headers: str) -> httpx.Response:
        return await self.client.post(f"/api/intake/{profile}", content=body, headers=headers)


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[Api]:
    clock = [datetime.now(UTC)]
    async with migrated(db_url) as db:
        configs = ConfigService()
        custom = load_config("intake_profiles: [{name: webinar, fields: {email: mail}}]")
        async with db.transaction() as uow:
            await configs.save(uow, custom, "test", clock[0], "test")
        intake = IntakeService(db, configs, lambda: clock[0], lambda: None)
        leads = IntakeApi(Settings(LEADROUTER_API_KEYS=KEYS), intake, None, None, None)  # type: ignore[arg-type]
        profiles = IntakeProfileService(db, configs, lambda: clock[0], lambda: None)
        async with client_for(IntakeProfileApi(leads, profiles, ENVIRON)) as client:
            yield Api(client, clock, leads, profiles)


def client_for(routes: IntakeProfileApi) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=Starlette(routes=routes.routes()))
    return httpx.AsyncClient(transport=transport, base_url="https://lr.test")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def hubspot_headers(
    body: bytes, stamp_ms: int, secret: str = "hubspot-client-secret"
) -> dict[str, str]:
    url = "https://lr.test/api/intake/hubspot"
    return {
        "X-HubSpot-Signature-v3": hubspot_v3_signature(secret, "POST", url, body, str(stamp_ms)),
        "X-HubSpot-Request-Timestamp": str(stamp_ms),
        "Content-Type": "application/json",
    }


def now_ms(api: Api, ago: timedelta = timedelta(0)) -> int:
    return int((api.clock[0] - ago).timestamp() * 1000)


async def test_hubspot_good_signature_is_routed_and_a_resend_is_a_duplicate(api: Api) -> None:
    body = fixture("hubspot_workflow_contact.json")
    first = await api.post("hubspot", body, **hubspot_headers(body, now_ms(api)))
    assert first.status_code == 201, first.text
    lead = first.json()
    assert lead["submitter"] == "hubspot"
    assert lead["lead"]["external_id"] == "3234574"
    again = await api.post("hubspot", body, **hubspot_headers(body, now_ms(api)))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == lead["id"]


@pytest.mark.parametrize(
    ("ago", "secret", "reason"),
    [
        (timedelta(minutes=6), "hubspot-client-secret", "stale"),
        (timedelta(0), "someone-elses-secret", "does not match"),
    ],
)
async def test_hubspot_stale_or_forged_signature_is_refused(
    api: Api, ago: timedelta, secret: str, reason: str
) -> None:
    body = fixture("hubspot_workflow_contact.json")
    answer = await api.post("hubspot", body, **hubspot_headers(body, now_ms(api, ago), secret))
    assert answer.status_code == 401
    assert reason in answer.json()["error"]


async def test_hubspot_signature_covers_the_body(api: Api) -> None:
    body = fixture("hubspot_workflow_contact.json")
    headers = hubspot_headers(body, now_ms(api))
    tampered = body.replace(b"ada@acme.com", b"eve@evil.example")
    assert (await api.post("hubspot", tampered, **headers)).status_code == 401


def meta_signature(body: bytes, secret: str = "meta-app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_meta_good_bad_and_missing_signature(api: Api) -> None:
    body = fixture("meta_lead.json")
    good = await api.post("meta", body, **{"X-Hub-Signature-256": meta_signature(body)})
    assert good.status_code == 201, good.text
    assert good.json()["lead"]["email"] == "katherine@nasa.example"
    bad = await api.post("meta", body, **{"X-Hub-Signature-256": meta_signature(body, "x")})
    assert bad.status_code == 401
    assert (await api.post("meta", body)).status_code == 401


@pytest.fixture
async def graph_api() -> AsyncIterator[tuple[TestServer, list[Any]]]:
    """Stand-ins for Meta's Graph API (GET /{leadgen_id}: the lead's field_data) and
    HubSpot's CRM API (GET /crm/v3/objects/contacts/{id}: the contact's properties)."""
    lead = json.loads(fixture("meta_lead.json"))
    contact = json.loads(fixture("hubspot_crm_object.json"))
    calls: list[Any] = []
    answers: list[int] = []

    async def get(request: web.Request) -> web.Response:
        calls.append((request.match_info["id"], request.headers.get("Authorization")))
        status = answers.pop(0) if answers else 200
        found = contact if request.path.startswith("/crm/") else lead
        return web.json_response(found, status=status)

    app = web.Application()
    app.router.add_get("/v21.0/{id}", get)
    app.router.add_get("/crm/v3/objects/contacts/{id}", get)
    async with TestServer(app) as server:
        yield server, [calls, answers]


async def use_graph_api(api: Api, server: TestServer) -> None:
    root = f"http://{server.host}:{server.port}"
    config = load_config(f"""
intake_profiles:
  - name: meta
    extends: meta
    retrieve: {{url: "{root}/v21.0/{{leadgen_id}}",
               token_env: LEADROUTER_META_PAGE_TOKEN, unless: field_data}}
  - name: hubspot
    extends: hubspot
    retrieve: {{url: "{root}/crm/v3/objects/contacts/{{objectId}}?properties=email",
               token_env: LEADROUTER_HUBSPOT_TOKEN, unless: properties}}
""")  # fmt: skip
    async with api.leads.intake.db.transaction() as uow:
        await ConfigService().save(uow, config, "test", api.clock[0], "test")
    api.clock[0] += timedelta(seconds=5)  # past the profile cache


async def test_meta_notification_fetches_the_lead_from_the_graph_api(
    api: Api, graph_api: tuple[TestServer, list[Any]]
) -> None:
    server, (calls, answers) = graph_api
    await use_graph_api(api, server)
    body = fixture("meta_leadgen_webhook.json")
    signed = {"X-Hub-Signature-256": meta_signature(body)}
    answers.append(500)
    failed = await api.post("meta", body, **signed)
    assert failed.status_code == 502, failed.text  # Meta retries its webhook; nothing stored
    answer = await api.post("meta", body, **signed)
    assert answer.status_code == 201, answer.text
    assert answer.json()["lead"]["email"] == "katherine@nasa.example"
    assert answer.json()["lead"]["external_id"] == "1034590872219921"
    assert calls == [("1034590872219921", "Bearer meta-page-token")] * 2
    again = await api.post("meta", body, **signed)
    assert again.json()["duplicate"] is True


async def test_hubspot_webhook_events_fetch_the_contact_from_the_crm_api(
    api: Api, graph_api: tuple[TestServer, list[Any]]
) -> None:
    server, (calls, _answers) = graph_api
    await use_graph_api(api, server)
    body = fixture("hubspot_webhook_events.json")
    answer = await api.post("hubspot", body, **hubspot_headers(body, now_ms(api)))
    assert answer.status_code == 201, answer.text
    assert answer.json()["lead"]["email"] == "grace@example.org"
    assert answer.json()["lead"]["external_id"] == "512"
    assert calls == [("512", "Bearer hubspot-private-app-token")]
    workflow = fixture("hubspot_workflow_contact.json")  # has its properties: not fetched
    assert (
        await api.post("hubspot", workflow, **hubspot_headers(workflow, now_ms(api)))
    ).status_code == 201
    assert len(calls) == 1


async def test_meta_notification_without_a_page_token_says_so(api: Api) -> None:
    body = fixture("meta_leadgen_webhook.json")
    without = IntakeProfileApi(
        api.leads, api.profiles, {**ENVIRON, "LEADROUTER_META_PAGE_TOKEN": ""}
    )
    async with client_for(without) as client:
        answer = await client.post(
            "/api/intake/meta", content=body, headers={"X-Hub-Signature-256": meta_signature(body)}
        )
    assert answer.status_code == 503
    assert "LEADROUTER_META_PAGE_TOKEN" in answer.json()["error"]


async def test_meta_subscription_handshake(api: Api) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": "meta-verify-token",
    }
    answer = await api.client.get("/api/intake/meta", params=query)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    query["hub.verify_token"] = "guess"
    assert (await api.client.get("/api/intake/meta", params=query)).status_code == 403
    assert (await api.client.get("/api/intake/zapier", params=query)).status_code == 405


def typeform_signature(body: bytes, secret: str = "typeform-secret") -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


async def test_typeform_good_and_bad_signature(api: Api) -> None:
    body = fixture("typeform_form_response.json")
    good = await api.post("typeform", body, **{"Typeform-Signature": typeform_signature(body)})
    assert good.status_code == 201, good.text
    assert good.json()["lead"]["lead_type"] == "demo_request"
    forged = typeform_signature(body, "other")
    assert (await api.post("typeform", body, **{"Typeform-Signature": forged})).status_code == 401


async def test_bearer_profiles_record_the_key_as_submitter(api: Api) -> None:
    body = fixture("zapier_webhook.json")
    assert (await api.post("zapier", body)).status_code == 401
    wrong = await api.post("zapier", body, Authorization="Bearer nope-nope-nope")
    assert wrong.status_code == 401
    good = await api.post("zapier", body, Authorization="Bearer zapier-secret-1")
    assert good.status_code == 201
    assert good.json()["submitter"] == "zapier"


async def test_only_profiles_that_allow_it_take_the_key_in_the_query(api: Api) -> None:
    body = fixture("zapier_webhook.json")
    answer = await api.client.post("/api/intake/zapier?key=zapier-secret-1", content=body)
    assert answer.status_code == 401


async def test_salesforce_outbound_message_stores_the_good_records_and_lists_the_bad(
    api: Api,
) -> None:
    body = fixture("salesforce_outbound_message.xml")
    url = "/api/intake/salesforce?key=salesforce-secret-1"
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    answer = await api.client.post(url, content=body, headers=headers)
    assert answer.status_code == 422  # no Ack: Salesforce keeps the message and retries
    results = answer.json()["results"]
    assert [result["status"] for result in results] == [201, 422]
    assert results[1]["errors"] == [{"field": "email", "message": "is not an email address"}]
    fixed = body.replace(b"not-an-email", b"luigi@menabrea.example")
    retried = await api.client.post(url, content=fixed, headers=headers)
    assert retried.status_code == 200
    assert "<Ack>true</Ack>" in retried.text
    again = await api.client.post(url, content=fixed, headers=headers)
    assert "<Ack>true</Ack>" in again.text  # both duplicates now: nothing stored twice


async def test_unknown_profile_lists_the_known_ones_and_custom_profiles_work(api: Api) -> None:
    missing = await api.post("pardot", b"{}")
    assert missing.status_code == 404
    assert "webinar" in missing.json()["error"] and "hubspot" in missing.json()["error"]
    custom = await api.post(
        "webinar", json.dumps({"mail": "kim@example.com"}).encode(),
        Authorization="Bearer zapier-secret-1",
    )  # fmt: skip
    assert custom.status_code == 201
    assert custom.json()["lead"]["email"] == "kim@example.com"


async def test_a_profile_whose_secret_is_not_set_says_so(api: Api) -> None:
    async with client_for(IntakeProfileApi(api.leads, api.profiles, {})) as client:
        answer = await client.post("/api/intake/typeform", content=b"{}")
    assert answer.status_code == 503
    assert "LEADROUTER_TYPEFORM_SECRET" in answer.json()["error"]


async def test_bad_json_and_oversized_bodies(api: Api) -> None:
    bad = await api.post("zapier", b"{not json", Authorization="Bearer zapier-secret-1")
    assert bad.status_code == 422
    huge = b"[" + b"1," * 600_000 + b"1]"
    too_big = await api.post("zapier", huge, Authorization="Bearer zapier-secret-1")
    assert too_big.status_code == 413
