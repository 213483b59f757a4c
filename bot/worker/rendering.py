"""How each outbox kind is delivered to Slack: a table from kind to renderer.

A renderer turns a leased row (and its lead, as it is now) into a Block Kit message, or
None when there is nothing left to say. Kinds that are not posted (a card update edits
the cards already posted; a chart is uploaded) are named in `DELIVERIES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from bot.slack import digest_views, views
from bot.slack.privacy_views import erased_card
from domain.messages import DigestPart, Kind, QueuedMessage
from domain.records import LeadRecord


class Delivery(Enum):
    POST = "post"
    """Rendered and posted (chat.postMessage)."""
    EDIT_CARDS = "edit_cards"
    """Every posted card of the lead edited to show it as it is now (chat.update)."""
    UPLOAD = "upload"
    """A file shared into the target's DM (files.upload)."""


DELIVERIES: dict[str, Delivery] = {
    Kind.LEAD_CARD: Delivery.POST,
    Kind.DIGEST: Delivery.POST,
    Kind.ALERT_DIGEST: Delivery.POST,
    Kind.ALERT: Delivery.POST,
    Kind.DEAD_LETTER_ALERT: Delivery.POST,
    Kind.WEEKLY_DIGEST: Delivery.POST,
    Kind.ROUTING_REVIEW: Delivery.POST,
    Kind.CARD_UPDATE: Delivery.EDIT_CARDS,
    Kind.WEEKLY_DIGEST_CHART: Delivery.UPLOAD,
}

TRACKED = frozenset({Kind.LEAD_CARD})
"""Kinds whose post is remembered (channel, ts), so later changes edit it."""


@dataclass(frozen=True)
class RenderContext:
    now: datetime
    digest_parts: Callable[[int], Awaitable[list[DigestPart]]]


Renderer = Callable[[QueuedMessage, LeadRecord | None, RenderContext], Awaitable[dict | None]]


def card(lead: LeadRecord, now: datetime) -> dict[str, Any]:
    """A lead's card as it is now (an erased lead's card says only that)."""
    if lead.erased_at is not None:
        return erased_card(lead.id, lead.erased_at)
    return views.lead_card(lead, now)


async def _lead_card(
    row: QueuedMessage, lead: LeadRecord | None, context: RenderContext
) -> dict | None:
    assert lead is not None, "a lead card's row names its lead"
    return card(lead, context.now)


async def _digest(
    row: QueuedMessage, lead: LeadRecord | None, context: RenderContext
) -> dict | None:
    parts = await context.digest_parts(row.id)
    if not parts:  # another replica folded the same burst into its own digest
        return None
    return digest_views.digest(parts, to_channel=row.target[0] in "CG")


async def _alert_digest(
    row: QueuedMessage, lead: LeadRecord | None, context: RenderContext
) -> dict | None:
    parts = await context.digest_parts(row.id)
    return digest_views.alert_digest(parts) if parts else None


async def _alert(
    row: QueuedMessage, lead: LeadRecord | None, context: RenderContext
) -> dict | None:
    return views.alert(row.payload.get("text", ""), lead)


async def _stored(
    row: QueuedMessage, lead: LeadRecord | None, context: RenderContext
) -> dict | None:
    """Rendered when queued: the weekly digest shows that week's figures as they were,
    the routing review that quarter's findings."""
    return {"text": row.payload["text"], "blocks": row.payload["blocks"]}


RENDERERS: dict[str, Renderer] = {
    Kind.LEAD_CARD: _lead_card,
    Kind.DIGEST: _digest,
    Kind.ALERT_DIGEST: _alert_digest,
    Kind.ALERT: _alert,
    Kind.DEAD_LETTER_ALERT: _alert,
    Kind.WEEKLY_DIGEST: _stored,
    Kind.ROUTING_REVIEW: _stored,
}
