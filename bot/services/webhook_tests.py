"""The admin modal's "Send test event": a signed `webhook.test` to one configured
endpoint, and what it answered. Admins only, like every admin screen."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.services.admin import AdminService
from bot.webhook_transport import Answer, send_test_event
from domain.webhooks import WebhookEndpoint


class WebhookTests:
    def __init__(
        self,
        admin: AdminService,
        now: Callable[[], datetime],
        environ: Mapping[str, str] = os.environ,
    ):
        self.admin = admin
        self.now = now
        self.environ = environ

    async def endpoints(self, actor: str) -> list[WebhookEndpoint]:
        """The configured endpoints; NotAllowed for anyone but an admin."""
        _, config = await self.admin.open_admin(actor)
        return list(config.webhooks) if config else []

    async def send(self, actor: str, name: str) -> Answer:
        endpoint = next((item for item in await self.endpoints(actor) if item.name == name), None)
        if endpoint is None:
            return Answer(False, False, None, f"no webhook endpoint {name!r} is configured")
        _, answer = await send_test_event(endpoint, self.now(), self.environ)
        return answer
