"""The digest post: one message for a burst of leads to one channel or one rep, instead
of a card each (pure rendering; storage.outbox_digests decides what it holds)."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import escape, section
from domain.messages import DigestPart
from domain.slack_limits import and_more

SHOWN_TYPES = 8
SHOWN_TEAMS = 5
"""However many lead types and teams a burst mixes, the post names the biggest few and
counts the rest ("and N more"): 8 types of 64 and 5 teams of 80 characters stay far
inside a section's 3,000."""


def _listed(items: list[str], shown: int, noun: str, joiner: str) -> str:
    more = and_more(min(shown, len(items)), len(items), noun)
    return joiner.join(items[:shown]) + (f" {more}" if more else "")


def _kinds(parts: list[DigestPart]) -> str:
    """`1,204 aged leads` or `1,300 leads (1,204 aged, 96 mql)`."""
    total = sum(part.count for part in parts)
    by_type: dict[str, int] = {}
    for part in parts:
        by_type[part.lead_type] = by_type.get(part.lead_type, 0) + part.count
    if len(by_type) == 1:
        (only,) = by_type
        return f"{total:,} {escape(only.replace('_', ' '))} lead{'s' if total != 1 else ''}"
    mix = [
        f"{count:,} {escape(kind.replace('_', ' '))}"
        for kind, count in sorted(by_type.items(), key=lambda item: -item[1])
    ]
    return f"{total:,} leads ({_listed(mix, SHOWN_TYPES, 'types', ', ')})"


def digest(parts: list[DigestPart], to_channel: bool) -> dict[str, Any]:
    """To a channel: the leads wait in the team pool, claimable from `/leads team NAME`.
    To a rep: they were assigned at once, and `/leads` lists them with their buttons."""
    what = _kinds(parts)
    teams = sorted({part.team for part in parts if part.team})
    if to_channel:
        commands = [f"`/leads team {escape(team, code=True)}`" for team in teams]
        where = _listed(commands, SHOWN_TEAMS, "teams", " and ") or "`/leads team`"
        text = f"{what} added to the pool at once — see and claim them with {where}."
    else:
        text = f"{what} were assigned to you at once — see and work them with `/leads`."
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f":inbox_tray: {text}"}}],
    }


def alert_digest(parts: list[DigestPart]) -> dict[str, Any]:
    """The alerts folded for one manager or admin within a window (a form flooding a
    full team, or those leads breaching their SLA together): how many leads, and where
    they wait. Names no lead, so erasing one leaves nothing here to redraw."""
    what = _kinds(parts)
    teams = sorted({part.team for part in parts if part.team})
    where = " and ".join(f"`/leads team {escape(team, code=True)}`" for team in teams)
    unrouted = any(part.team is None for part in parts)
    text = (
        f"{what} needed a human in the last few minutes (nobody could take them, "
        "no rule matched, or their response SLA was missed)"
        + (f"; see them with {where}" if where else "")
        + ("; those that matched no rule wait to be routed by hand" if unrouted else "")
        + "."
    )
    return {"text": text, "blocks": [section(f":warning: {text}")]}
