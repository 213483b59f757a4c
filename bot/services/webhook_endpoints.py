"""Outbound webhook endpoints added, edited and removed from the admin modal.

Each change is a new configuration version through AdminService, like a team or a rule:
admins only, validated by the same schema as the YAML file (URL, known events, unique
names and URLs), saved with its actor, and refused if someone changed that endpoint
after the modal was opened. The signing secret itself never passes through here: the
configuration names the environment variable that holds it (see domain.webhooks).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from bot.services.admin import AdminService, Saved
from domain.config_edits import delete_webhook, upsert_webhook


class WebhookEndpoints:
    def __init__(self, admin: AdminService, environ: Mapping[str, str] = os.environ):
        self.admin = admin
        self.environ = environ

    async def save(
        self, actor: str, original: str | None, endpoint: dict[str, Any], base: int | None
    ) -> Saved:
        """Add an endpoint (`original` None) or change the one named `original`; fields
        `endpoint` leaves out (timeout, retry budget) keep their configured values."""
        name = original or endpoint.get("name") or ""
        return await self.admin.change(
            actor,
            lambda document: upsert_webhook(document, original, endpoint),
            f"webhook {name}" + ("" if original else " added"),
            base=base,
            touches=("webhooks", name),
        )

    async def remove(self, actor: str, name: str, base: int | None) -> Saved:
        """Pending deliveries to a removed endpoint are dead-lettered by the dispatcher
        (kept, replayable), as when it is removed from the YAML."""
        return await self.admin.change(
            actor,
            lambda document: delete_webhook(document, name),
            f"webhook {name} removed",
            base=base,
            touches=("webhooks", name),
        )

    def missing_secret(self, secret_env: str) -> str | None:
        """A warning when this server cannot sign for the endpoint; says only whether
        the variable is set, never its value."""
        if self.environ.get(secret_env):
            return None
        return (
            f"{secret_env} is not set in this server's environment: deliveries fail until "
            "it holds the signing secret (on every replica)."
        )
