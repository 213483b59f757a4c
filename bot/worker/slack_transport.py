"""The Slack transport: the Web API calls that deliver a rendered outbox message.

Every call first spends the workspace budget of its method (`spend`, given by the
dispatcher, which owns the budgets). Posts carry the row's dedup key as message metadata,
so a resend after a crash finds the earlier post instead of posting twice.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.worker.delivery_errors import WORKSPACE_ERRORS
from domain.messages import QueuedMessage

log = logging.getLogger(__name__)

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
        """The message this row already posted, found by the key it carries in Slack.

        A look-up Slack refuses is never a delivery failure: a public channel the bot is
        not in is joined and read again; a history that still cannot be read (a private
        channel the bot was removed from, a scope taken away) means "not found", so the
        message is posted (a duplicate is possible; a lead taken from its team and alerts
        about a live card are worse). Rate limits and a dead token still propagate."""
        channel = await self.channel_for(row.target)
        try:
            return await self._find(row, channel)
        except SlackApiError as error:
            code = _code(error)
            if code == "not_in_channel" and channel.startswith("C") and await self._join(channel):
                try:
                    return await self._find(row, channel)
                except SlackApiError as again:
                    error, code = again, _code(again)
            if error.response.status_code == 429 or (
                code in WORKSPACE_ERRORS and code != "missing_scope"
            ):
                raise
            log.warning(
                "cannot read %s to find outbox %s (%s): posting it, a duplicate is possible",
                channel,
                row.id,
                code,
            )
            return None

    async def _find(self, row: QueuedMessage, channel: str) -> tuple[str, str] | None:
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

    async def _join(self, channel: str) -> bool:
        """Join a public channel so its history can be read; False if Slack says no."""
        try:
            await self.client.conversations_join(channel=channel)
        except SlackApiError as error:
            log.warning("could not join %s to read its history: %s", channel, _code(error))
            return False
        return True

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


def _code(error: SlackApiError) -> str:
    data = error.response.data
    return str(data.get("error")) if isinstance(data, dict) else str(error.response.status_code)
