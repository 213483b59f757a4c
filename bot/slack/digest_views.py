"""The digest post: one message for a burst of leads to one channel or one rep, instead
of a card each (pure rendering; storage.outbox_digests decides what it holds)."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import escape
from domain.messages import DigestPart


def _kinds(parts: list[DigestPart]) -> str:
    """`1,204 aged leads` or `1,300 leads (1,204 aged, 96 mql)`."""
    total = sum(part.count for part in parts)
    by_type: dict[str, int] = {}
    for part in parts:
        by_type[part.lead_type] = by_type.get(part.lead_type, 0) + part.count
    if len(by_type) == 1:
        (only,) = by_type
        return f"{total:,} {escape(only.replace('_', ' '))} lead{'s' if total != 1 else ''}"
    mix = ", ".join(
        f"{count:,} {escape(kind.replace('_', ' '))}"
        for kind, count in sorted(by_type.items(), key=lambda item: -item[1])
    )
    return f"{total:,} leads ({mix})"


def digest(parts: list[DigestPart], to_channel: bool) -> dict[str, Any]:
    """To a channel: the leads wait in the team pool, claimable from `/leads team NAME`.
    To a rep: they were assigned at once, and `/leads` lists them with their buttons."""
    what = _kinds(parts)
    teams = sorted({part.team for part in parts if part.team})
    if to_channel:
        where = " and ".join(f"`/leads team {escape(team)}`" for team in teams) or "`/leads team`"
        text = f"{what} added to the pool at once — see and claim them with {where}."
    else:
        text = f"{what} were assigned to you at once — see and work them with `/leads`."
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f":inbox_tray: {text}"}}],
    }
