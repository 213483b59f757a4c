"""What replaces a lead's card, and each alert about it, once the person's data is erased."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.slack.blocks import section, slack_date


def erased_card(lead_id: str, erased_at: datetime) -> dict[str, Any]:
    """No name, no contact, no buttons: only that the lead existed and was erased."""
    text = "Lead: personal data erased"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"Lead `{lead_id}` · erased {slack_date(erased_at)}",
                    }
                ],
            },
        ],
    }


def erased_alert(lead_id: str) -> dict[str, Any]:
    """An alert (reminder, escalation, manager DM) about a lead since erased: it said
    the person's name, and now says only that there was a lead."""
    text = f"An alert about lead `{lead_id}`, whose personal data was erased."
    return {"text": text, "blocks": [section(text)]}
