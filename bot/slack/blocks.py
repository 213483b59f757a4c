"""Block Kit primitives shared by every Slack view, and the one escaping function.

Lead text is typed by strangers: it reaches Slack only through `escape`, so it can never
become a mention, a link or a broadcast. Mentions come only from Slack ids the app knows
(`mention_users`). Limits respected: section text 3,000 characters, fields 2,000,
plain text labels 150.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
LABEL_LIMIT = 150
_USER_ID = re.compile(r"\b([UW][A-Z0-9]{2,})\b")

Block = dict[str, Any]
Blocks = list[Block]
View = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters, so lead data cannot inject mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention_users(text: str) -> str:
    """Turn bare Slack user ids in decision reasons into mentions."""
    return _USER_ID.sub(r"<@\1>", text)


def slack_date(moment: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date token: every reader sees it in their own timezone."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str) -> dict[str, str]:
    """A mrkdwn text object, clipped to a section's limit."""
    return {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}


def plain_text(text: str) -> dict[str, Any]:
    """A plain text label (titles, buttons of forms, options): Slack's 150, never empty."""
    return {"type": "plain_text", "text": text[:LABEL_LIMIT] or " ", "emoji": True}


def section(text: str) -> Block:
    """A section of mrkdwn text (callers keep it within the limit)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> Block:
    """A context line of mrkdwn text (callers keep it within the limit)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    """A button element; `style` is "primary", "danger" or None."""
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element
