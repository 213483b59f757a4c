"""The admin modal's webhooks screen: endpoints listed with a "Send test event" button,
the endpoint's answer shown (escaped), admins only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.services.admin import AdminService
from bot.services.configuration import ConfigService
from bot.services.webhook_tests import WebhookTests
from bot.slack import action_ids as ids
from bot.slack.admin.listeners import AdminListeners
from bot.slack.admin.webhooks import webhooks_message
from bot.webhook_transport import Answer
from domain.authorization import NotAllowed
from domain.config import load_config
from domain.webhooks import WebhookEndpoint
from harness.storage import migrated
from tests.support.webhook_receiver import SECRET, WebhookReceiver

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CRM = WebhookEndpoint(name="crm", url="https://crm.test/hook", secret_env="CRM_SECRET")


def texts(message: dict[str, Any]) -> str:
    return "\n".join(block["text"]["text"] for block in message["blocks"])


def test_each_endpoint_has_a_test_button() -> None:
    message = webhooks_message([CRM])
    [_, endpoint] = message["blocks"]
    assert endpoint["accessory"]["action_id"] == ids.ADMIN_WEBHOOK_TEST
    assert endpoint["accessory"]["value"] == "crm"
    assert "every event" in endpoint["text"]["text"]


def test_the_answer_is_shown_escaped() -> None:
    answer = Answer(False, True, 500, "HTTP 500: <!channel> <@U0EVIL> <https://x|click>")
    shown = texts(webhooks_message([CRM], ("crm", answer)))
    assert "not delivered" in shown
    assert "<!channel>" not in shown and "<@U0EVIL>" not in shown
    assert "&lt;!channel&gt;" in shown


def test_no_endpoints_says_where_they_are_configured() -> None:
    assert "add `webhooks:` to the YAML" in texts(webhooks_message([]))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
async def tests_service(db_url: str, receiver: WebhookReceiver) -> AsyncIterator[WebhookTests]:
    config = load_config(f"""
admins: [U0ADMIN]
webhooks: [{{name: crm, url: "{receiver.url}", secret_env: CRM_SECRET}}]
""")  # fmt: skip
    async with migrated(db_url) as db:
        configs = ConfigService()
        async with db.transaction() as uow:
            await configs.save(uow, config, "test", NOW, "test")

        async def never(_: Any) -> Any:
            raise AssertionError("not asked")

        admin = AdminService(db, configs, lambda: NOW, lambda: None, never, never)
        yield WebhookTests(admin, lambda: datetime.now(UTC), {"CRM_SECRET": SECRET})


class RecordingClient:
    """Stands in for Slack's client: records the modal the screen shows."""

    def __init__(self) -> None:
        self.views: list[dict[str, Any]] = []

    async def views_update(self, *, view_id: str, view: dict[str, Any]) -> None:
        self.views.append(view)


async def test_send_test_event_shows_the_endpoints_answer(
    tests_service: WebhookTests, receiver: WebhookReceiver
) -> None:
    receiver.answer(503)
    listeners = AdminListeners(tests_service.admin, None, None, tests_service)  # type: ignore[arg-type]
    client = RecordingClient()
    body = {"user": {"id": "U0ADMIN"}, "actions": [{"value": "crm"}], "view": {"id": "V1"}}
    await listeners.send_webhook_test(body, client)  # type: ignore[arg-type]
    [view] = client.views
    assert "not delivered" in texts(view) and "HTTP 503" in texts(view)
    answer = await tests_service.send("U0ADMIN", "crm")
    assert answer.delivered
    assert [item.type for item in receiver.received()] == ["webhook.test", "webhook.test"]
    assert all(item.verified for item in receiver.received())


async def test_only_admins_may_send(tests_service: WebhookTests) -> None:
    with pytest.raises(NotAllowed):
        await tests_service.send("U0SOMEONE", "crm")
