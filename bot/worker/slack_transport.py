"""The Slack transport: the Web API calls that deliver a rendered outbox message.

Every call first spends the workspace budget of its method (`spend`, given by the
dispatcher, which owns the budgets). Posts carry the row's dedup key as message metadata,
so a resend after a crash finds the earlier post instead of posting twice.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from domain.messages import QueuedMessage

CLOCK_SKEW = timedelta(minutes=10)  # ours against Slack's, when looking back for a post

Spend = Callable[[str], Awaitable[None]]
"""Waits for the workspace budget of a Web API method (or raises OverBudget)."""


def tagged(row: QueuedMessage) -> dict[str, Any]:
    """Message metadata naming the outbox row, so a resend after a crash can find it."""
    return {"event_type": "leadrouter_message", "event_payload": {"outbox": row.dedup_key}}


class SlackTransport:
    def __init__(self, client: AsyncWebClient, spend: Spend):
        self.client = client
        self.spend = spend
        self._dm_channels: dict[str, str] = {}

    async def post(self, row: QueuedMessage, message: dict[str, Any]) -> tuple[str, str]:
        """Post `message` to the row's target; returns where it lives (channel, ts)."""
        channel = await self.channel_for(row.target)
        await self.spend("chat.postMessage")
        response = await self.client.chat_postMessage(
            channel=channel, metadata=tagged(row), **message
        )
        return response["channel"], response["ts"]

    async def posted_before(self, row: QueuedMessage) -> tuple[str, str] | None:
        """The message this row already posted, found by the key it carries in Slack."""
        channel = await self.channel_for(row.target)
        await self.spend("conversations.history")
        history = await self.client.conversations_history(
            channel=channel,
            oldest=str((row.created_at - CLOCK_SKEW).timestamp()),
            include_all_metadata=True,
            limit=200,
        )
        for message in history.get("messages", []):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox") == row.dedup_key:
                return channel, message["ts"]
        return None

    async def edit(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        await self.spend("chat.update")
        await self.client.chat_update(channel=channel, ts=ts, **message)

    async def upload(self, row: QueuedMessage) -> None:
        """Share a file (the weekly digest's chart) into the target's DM."""
        await self.client.files_upload_v2(
            channel=await self.channel_for(row.target),
            content=base64.b64decode(row.payload["content_base64"]),
            filename=row.payload["filename"],
            title=row.payload.get("title"),
        )

    async def channel_for(self, target: str) -> str:
        """Users get a DM channel (opened once, then cached); channels are used as is."""
        if target[0] in "CGD":
            return target
        if target not in self._dm_channels:
            await self.spend("conversations.open")
            opened = await self.client.conversations_open(users=target)
            self._dm_channels[target] = opened["channel"]["id"]
        return self._dm_channels[target]
