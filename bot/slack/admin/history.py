"""The configuration history: the list of versions, and rolling back to one."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import HistoryEntry, mention
from bot.slack import action_ids as ids
from bot.slack.admin.base import AdminBase
from bot.slack.admin.forms import changes_text, info_modal
from bot.slack.blocks import Blocks, escape, mrkdwn, plain_text, slack_date
from bot.slack.listeners import reply_privately


def history_message(entries: list[HistoryEntry], current: int | None) -> dict[str, Any]:
    """The latest versions, newest first, each with its diff and a Roll back button."""
    blocks: Blocks = [{"type": "section", "text": mrkdwn("*Configuration history* (newest first)")}]
    for entry in entries[:20]:
        head = (
            f"*Version {entry.version}* · {slack_date(entry.created_at)} · "
            f"{mention(entry.actor)}" + (f" · {escape(entry.note)}" if entry.note else "")
        )
        diff = "\n".join(escape(line, code=True) for line in entry.changes[:15]) or "(no change)"
        if len(entry.changes) > 15:
            diff += f"\n… and {len(entry.changes) - 15} more"
        block: dict[str, Any] = {"type": "section", "text": mrkdwn(f"{head}\n```{diff}```")}
        if entry.version != current:
            block["accessory"] = {
                "type": "button",
                "action_id": ids.ADMIN_ROLLBACK,
                "value": str(entry.version),
                "text": plain_text(f"Roll back to {entry.version}"),
                "confirm": {
                    "title": plain_text("Roll back?"),
                    "text": mrkdwn(
                        f"Routing will use version {entry.version} again (saved as a new version)."
                    ),
                    "confirm": plain_text("Roll back"),
                    "deny": plain_text("Cancel"),
                },
            }
        blocks.append(block)
    return {"text": "Configuration history", "blocks": blocks}


class HistoryScreen(AdminBase):
    """The history screen's handlers (mixed into AdminListeners)."""

    async def _history(self, user: str) -> dict[str, Any]:
        entries = await self.admin.history(user)
        version, _ = await self.admin.current()
        return history_message(entries, version)

    async def open_history(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        message = await self._history(body["user"]["id"])
        view = info_modal("History", message["blocks"])
        await client.views_push(trigger_id=body["trigger_id"], view=view)

    async def rollback(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        target = int(body["actions"][0].get("value", "0"))
        saved = await self.admin.rollback(body["user"]["id"], target)
        text = changes_text(saved, f"Rolled back to version {target}")
        if body.get("view"):
            message = await self._history(body["user"]["id"])
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
            view = info_modal("History", blocks + message["blocks"])
            await client.views_update(view_id=body["view"]["id"], view=view)
        else:
            await reply_privately(client, body.get("response_url"), text=text)
