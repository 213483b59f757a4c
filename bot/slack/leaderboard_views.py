"""The weekly leaderboard post (bot.services.leaderboard)."""

from __future__ import annotations

from typing import Any

from bot.slack.views import mention_users


def leaderboard_message(team: str, week: str, lines: list[str]) -> dict[str, Any]:
    """Bare ids in `lines` become mentions; nothing from lead data is in them."""
    title = f"Leaderboard — {team}, {week}"
    body = "\n".join(mention_users(line) for line in lines) or "No leads this week."
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Ranked by the share of leads contacted within SLA, then the "
                    "median time to contact, then opportunities and wins; never by how "
                    "many leads were claimed.",
                }
            ],
        },
    ]
    return {"text": title, "blocks": blocks}
