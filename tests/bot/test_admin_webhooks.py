"""The admin modal's webhooks screen: endpoints listed with a "Send test event" button,
the endpoint's answer shown (escaped); endpoints added, edited and removed as new
configuration versions (admins only, validated like the YAML, errors on their field,
nothing saved on error), and the webhook dispatcher delivering to what was added."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.localslack.blockkit import view_problems
from bot.localslack.payloads import checkboxes, multi_static_select, text_input
from bot.services.admin import AdminService, InvalidEdit, StaleEdit
from bot.services.configuration import ConfigService
from bot.services.webhook_endpoints import WebhookEndpoints
from bot.services.webhook_tests import WebhookTests
from bot.slack import action_ids as ids
from bot.slack.admin.listeners import AdminListeners
from bot.slack.admin.webhooks import endpoint_modal, webhooks_modal
from bot.webhook_transport import Answer
from bot.worker.webhook_dispatcher import WebhookDispatcher
from domain.authorization import NotAllowed
from domain.config import load_config
from domain.webhooks import WEBHOOK_EVENTS, WebhookEndpoint
from harness.storage import make_lead, migrated
from storage import tables as t
from storage.webhook_outbox import WebhookRepository
from tests.support.webhook_receiver import SECRET, WebhookReceiver

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CRM = WebhookEndpoint(name="crm", url="https://crm.test/hook", secret_env="CRM_SECRET")
ENV = {"CRM_SECRET": SECRET, "DIALER_SECRET": SECRET}


def texts(view: dict[str, Any]) -> str:
    return "\n".join(
        block["text"]["text"]
        for block in view["blocks"]
        if isinstance(block.get("text"), dict) and block["type"] == "section"
    )


def test_each_endpoint_has_test_edit_and_remove_buttons() -> None:
    view = webhooks_modal(3, [CRM])
    [add, _, endpoint, actions] = view["blocks"]
    assert add["elements"][0]["action_id"] == ids.ADMIN_ADD_WEBHOOK
    assert endpoint["accessory"]["action_id"] == ids.ADMIN_WEBHOOK_TEST
    assert endpoint["accessory"]["value"] == "crm"
    assert "every event" in endpoint["text"]["text"]
    assert "`CRM_SECRET`" in endpoint["text"]["text"]
    edit, remove = actions["elements"]
    assert (edit["action_id"], edit["value"]) == (ids.ADMIN_EDIT_WEBHOOK, "crm")
    assert (remove["action_id"], remove["value"]) == (ids.ADMIN_REMOVE_WEBHOOK, "crm")
    assert remove["confirm"]["confirm"]["text"] == "Remove"


def test_the_answer_and_the_url_are_shown_escaped() -> None:
    answer = Answer(False, True, 500, "HTTP 500: <!channel> <@U0EVIL> <https://x|click>")
    sneaky = WebhookEndpoint(
        name="crm", url="https://crm.test/<!channel>?a=`b`", secret_env="CRM_SECRET"
    )
    shown = texts(webhooks_modal(1, [sneaky], ("crm", answer)))
    assert "not delivered" in shown
    assert "<!channel>" not in shown and "<@U0EVIL>" not in shown
    assert "&lt;!channel&gt;" in shown


def test_no_endpoints_says_so() -> None:
    assert "None configured yet" in texts(webhooks_modal(None, []))


@pytest.mark.parametrize("count", [0, 1, 48, 60])
def test_the_list_passes_slacks_block_kit_validation(count: int) -> None:
    long_url = "https://crm.test/" + "x" * 2000
    endpoints = [
        WebhookEndpoint(
            name=f"endpoint-{index:02d}-" + "n" * 28,
            url=f"{long_url}{index}",
            secret_env="A" * 200,
            events=list(WEBHOOK_EVENTS),
            active=index % 2 == 0,
        )
        for index in range(count)
    ]
    answer = Answer(False, True, 500, "x" * 5000)
    view = webhooks_modal(7, endpoints, ("endpoint-00", answer), "saved " * 100)
    assert view_problems(view, options_url=False) == []
    assert len(view["blocks"]) <= 100
    if count == 60:
        assert "more: edit them in the YAML export" in str(view["blocks"][-1])


@pytest.mark.parametrize(
    "endpoint",
    [
        None,
        CRM,
        WebhookEndpoint(
            name="n" * 40,
            url="https://crm.test/" + "x" * 2060,
            secret_env="S" * 200,
            events=list(WEBHOOK_EVENTS),
            active=False,
        ),
    ],
)
def test_the_endpoint_form_passes_slacks_block_kit_validation(
    endpoint: WebhookEndpoint | None,
) -> None:
    view = endpoint_modal(4, endpoint, "V0LIST")
    assert view_problems(view, options_url=False) == []
    shown = str(view["blocks"])
    if endpoint is None:
        assert view["blocks"][0]["block_id"] == "name"
    else:  # the name is fixed once created, and nothing shows a secret's value
        assert "name" not in {block.get("block_id") for block in view["blocks"]}
        assert SECRET not in shown


endpoints = st.builds(
    WebhookEndpoint,
    name=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,39}", fullmatch=True),
    url=st.text(st.characters(codec="ascii", categories=("L", "N", "P", "S")), max_size=2000)
    .map(lambda path: "https://crm.test/" + path.replace("#", "").replace("?", ""))
    .filter(lambda url: len(url) <= 2083),
    secret_env=st.from_regex(r"[A-Z_][A-Z0-9_]{0,300}", fullmatch=True),
    events=st.lists(st.sampled_from(WEBHOOK_EVENTS), unique=True),
    active=st.booleans(),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(endpoints, max_size=60, unique_by=lambda endpoint: endpoint.name))
def test_any_endpoints_the_schema_accepts_render_within_slacks_limits(
    listed: list[WebhookEndpoint],
) -> None:
    assert view_problems(webhooks_modal(1, listed), options_url=False) == []
    for endpoint in listed[:3]:
        assert view_problems(endpoint_modal(1, endpoint, "V0LIST"), options_url=False) == []


# ---------------------------------------------------------------- the service


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@dataclass
class Setup:
    admin: AdminService
    configs: ConfigService
    tests: WebhookTests
    endpoints: WebhookEndpoints
    listeners: AdminListeners
    db: Any

    async def version(self) -> int | None:
        return (await self.admin.current())[0]

    async def webhooks(self) -> list[WebhookEndpoint]:
        _, config = await self.admin.current()
        return list(config.webhooks) if config else []

    async def queue_one_event(self, webhooks: list[WebhookEndpoint]) -> None:
        """An `assigned` event, queued for `webhooks` as the intake transaction does."""
        now = datetime.now(UTC)  # receivers refuse a signature stamped far from their clock
        lead = make_lead(owner="U0ALICE", created_at=now)
        async with self.db.transaction() as uow:
            await uow.leads.add(lead, idempotency_key=None, sla_policy=None)
            event = {"lead_id": lead.id, "at": now, "type": "assigned", "actor": "test",
                     "reason": None, "data": None}  # fmt: skip
            await WebhookRepository(uow.connection).queue([event], webhooks, {})

    async def drain(self) -> int:
        """One pass of the webhook dispatcher over the newest configuration version."""
        dispatcher = WebhookDispatcher(self.db, self.configs, lambda: datetime.now(UTC), "r1", ENV)
        try:
            return await dispatcher.drain()
        finally:
            await dispatcher.close()

    async def deliver_one_event(self, webhooks: list[WebhookEndpoint]) -> int:
        await self.queue_one_event(webhooks)
        return await self.drain()


@pytest.fixture
async def setup(db_url: str, receiver: WebhookReceiver) -> AsyncIterator[Setup]:
    config = load_config(f"""
admins: [U0ADMIN]
reps: [{{user: U0ALICE, email: alice@example.com}}]
webhooks: [{{name: crm, url: "{receiver.url}", secret_env: CRM_SECRET, timeout: 2s}}]
""")  # fmt: skip
    async with migrated(db_url) as db:
        configs = ConfigService()
        async with db.transaction() as uow:
            await configs.save(uow, config, "test", NOW, "test")

        async def never(_: Any) -> Any:
            raise AssertionError("not asked")

        admin = AdminService(db, configs, lambda: NOW, lambda: None, never, never)
        tests = WebhookTests(admin, lambda: datetime.now(UTC), ENV)
        listeners = AdminListeners(admin, None, None, tests)  # type: ignore[arg-type]
        yield Setup(admin, configs, tests, listeners.webhook_endpoints, listeners, db)


def form(**fields: Any) -> dict[str, Any]:
    """An endpoint as the form submits it."""
    return {"events": [], "active": True, "secret_env": "DIALER_SECRET", **fields}


async def test_an_admin_adds_an_endpoint_and_the_dispatcher_delivers_to_it(
    setup: Setup, receiver: WebhookReceiver
) -> None:
    url = receiver.url.replace("127.0.0.1", "localhost")  # another URL, the same receiver
    saved = await setup.endpoints.save(
        "U0ADMIN", None, form(name="dialer", url=url, events=["lead.assigned"]), 1
    )
    assert saved.version == 2 and "+ webhooks[dialer]" in "\n".join(saved.changes)
    [entry, _] = await setup.admin.history("U0ADMIN")
    assert (entry.version, entry.actor, entry.note) == (2, "U0ADMIN", "webhook dialer added")
    webhooks = await setup.webhooks()
    assert [item.name for item in webhooks] == ["crm", "dialer"]

    assert await setup.deliver_one_event(webhooks) == 2  # crm and the new dialer want it
    received = receiver.received()
    assert [item.type for item in received] == ["lead.assigned", "lead.assigned"]
    assert all(item.verified and item.status == 200 for item in received)


async def test_an_edit_keeps_the_name_and_what_the_form_does_not_show(setup: Setup) -> None:
    events = ["lead.assigned", "lead.erased"]
    changed = form(
        name="crm", url="https://crm.test/v2", events=events, active=False, secret_env="CRM2"
    )
    saved = await setup.endpoints.save("U0ADMIN", "crm", changed, 1)
    assert saved.version == 2
    [crm] = await setup.webhooks()
    assert (crm.url, crm.events, crm.active, crm.secret_env) == (
        "https://crm.test/v2",
        events,
        False,
        "CRM2",
    )
    assert crm.timeout.total_seconds() == 2  # from the YAML, not in the form
    assert (await setup.admin.history("U0ADMIN"))[0].note == "webhook crm"
    assert setup.endpoints.missing_secret("CRM2") is not None
    assert setup.endpoints.missing_secret("CRM_SECRET") is None


async def test_an_admin_removes_an_endpoint_and_its_pending_deliveries_die(
    setup: Setup, receiver: WebhookReceiver
) -> None:
    await setup.queue_one_event(await setup.webhooks())
    saved = await setup.endpoints.remove("U0ADMIN", "crm", 1)
    assert saved.version == 2 and "- webhooks[crm]" in "\n".join(saved.changes)
    assert await setup.webhooks() == []
    assert (await setup.admin.history("U0ADMIN"))[0].actor == "U0ADMIN"
    assert await setup.drain() == 1
    async with setup.db.snapshot() as uow:
        query = select(t.outbox.c.kind, t.outbox.c.state)
        rows = sorted((await uow.connection.execute(query)).all())
    assert rows == [("alert", "pending"), ("webhook", "dead")]  # kept, and the admin told
    assert receiver.received() == []


async def test_a_non_admin_is_refused_and_nothing_is_saved(setup: Setup) -> None:
    with pytest.raises(NotAllowed):
        await setup.endpoints.save("U0ALICE", None, form(name="x", url="https://x.test"), 1)
    with pytest.raises(NotAllowed):
        await setup.endpoints.save("U0ALICE", "crm", form(name="crm", url="https://x.test"), 1)
    with pytest.raises(NotAllowed):
        await setup.endpoints.remove("U0ALICE", "crm", 1)
    assert await setup.version() == 1


async def test_an_edit_of_an_endpoint_changed_since_the_form_opened_is_refused(
    setup: Setup,
) -> None:
    await setup.endpoints.save("U0ADMIN", "crm", form(name="crm", url="https://crm.test/a"), 1)
    with pytest.raises(StaleEdit, match="webhook crm was changed by <@U0ADMIN>"):
        await setup.endpoints.save("U0ADMIN", "crm", form(name="crm", url="https://crm.test/b"), 1)
    assert [item.url for item in await setup.webhooks()] == ["https://crm.test/a"]


@pytest.mark.parametrize(
    ("fields", "block", "message"),
    [
        ({"url": "not a url"}, "url", "not a valid http(s) URL"),
        ({"url": "http://crm.test/hook"}, "url", "must be https"),
        ({"url": "https://me:pw@crm.test/"}, "url", "no user name or password"),
        ({"url": "RECEIVER"}, "url", "the same URL as endpoint crm"),
        ({"events": ["lead.won"]}, "events", "unknown events ['lead.won']"),
        ({"name": "CRM Two"}, "name", "lower-case letters"),
        ({"name": "crm"}, "name", "crm is listed twice"),
        ({"secret_env": SECRET}, "secret_env", "not the secret itself"),
    ],
)
async def test_invalid_input_is_refused_on_its_field_and_saves_nothing(
    setup: Setup, receiver: WebhookReceiver, fields: dict[str, Any], block: str, message: str
) -> None:
    endpoint = form(**{"name": "dialer", "url": "https://dialer.test/hook", **fields})
    if endpoint["url"] == "RECEIVER":
        endpoint["url"] = receiver.url
    with pytest.raises(InvalidEdit):
        await setup.endpoints.save("U0ADMIN", None, endpoint, 1)

    acks: list[dict[str, Any]] = []

    async def ack(**answer: Any) -> None:
        acks.append(answer)

    values = {
        "name": {"name": text_input(endpoint["name"])},
        "url": {"url": text_input(endpoint["url"])},
        "events": {"events": multi_static_select(endpoint["events"])},
        "secret_env": {"secret_env": text_input(endpoint["secret_env"])},
        "active": {"active": checkboxes([])},
    }
    body = {
        "user": {"id": "U0ADMIN"},
        "view": {"id": "V0FORM", "private_metadata": '{"base": 1}', "state": {"values": values}},
    }
    await setup.listeners.submit_webhook(ack, body, None)  # type: ignore[arg-type]
    [answer] = acks
    assert answer["response_action"] == "errors"
    assert message in answer["errors"][block], answer
    assert SECRET not in str(answer)  # a secret typed by mistake is never shown back
    assert await setup.version() == 1


async def test_the_form_saves_and_warns_when_this_server_lacks_the_secret(setup: Setup) -> None:
    acks: list[dict[str, Any]] = []

    async def ack(**answer: Any) -> None:
        acks.append(answer)

    values = {
        "name": {"name": text_input("dialer")},
        "url": {"url": text_input("https://dialer.test/hook")},
        "events": {"events": multi_static_select(["lead.claimed"])},
        "secret_env": {"secret_env": text_input("UNSET_SECRET")},
        "active": {"active": checkboxes(["paused"])},
    }
    body = {
        "user": {"id": "U0ADMIN"},
        "view": {"id": "V0FORM", "private_metadata": '{"base": 1}', "state": {"values": values}},
    }
    await setup.listeners.submit_webhook(ack, body, None)  # type: ignore[arg-type]
    [answer] = acks
    assert answer["response_action"] == "update"
    assert "UNSET_SECRET is not set" in str(answer["view"]["blocks"])
    [_, dialer] = await setup.webhooks()
    assert (dialer.events, dialer.active) == (["lead.claimed"], False)


class RecordingClient:
    """Stands in for Slack's client: records the modal the screen shows."""

    def __init__(self) -> None:
        self.views: list[dict[str, Any]] = []

    async def views_update(self, *, view_id: str, view: dict[str, Any]) -> None:
        self.views.append(view)


async def test_send_test_event_shows_the_endpoints_answer(
    setup: Setup, receiver: WebhookReceiver
) -> None:
    receiver.answer(503)
    client = RecordingClient()
    body = {"user": {"id": "U0ADMIN"}, "actions": [{"value": "crm"}], "view": {"id": "V1"}}
    await setup.listeners.send_webhook_test(body, client)  # type: ignore[arg-type]
    [view] = client.views
    assert "not delivered" in texts(view) and "HTTP 503" in texts(view)
    answer = await setup.tests.send("U0ADMIN", "crm")
    assert answer.delivered
    assert [item.type for item in receiver.received()] == ["webhook.test", "webhook.test"]
    assert all(item.verified for item in receiver.received())


async def test_only_admins_may_send(setup: Setup) -> None:
    with pytest.raises(NotAllowed):
        await setup.tests.send("U0SOMEONE", "crm")
