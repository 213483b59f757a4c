"""The card that replaces a lead's card once the person's data is erased."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.slack.blocks import slack_date


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
