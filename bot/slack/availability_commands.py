"""`/leads away [until TIME]`, `/leads back`, `/leads next` and the App Home controls:
what the `/leads` command and the Home tab ask of availability (their listeners live
in bot.slack.listeners and bot.slack.stats_listeners)."""

from __future__ import annotations

from typing import Any

from bot.services.away import AwayService
from bot.slack import action_ids as ids
from bot.slack import views
from bot.slack.blocks import button, section
from bot.slack.deps import SlackDeps
from bot.slack.stats_views import HOME_BLOCKS
from domain.errors import DomainError
from domain.signals import AwayToggle

SUBCOMMANDS = ("away", "back", "next")
"""The `/leads` words answered here."""


async def answer(deps: SlackDeps, words: list[str], user: str) -> dict[str, Any]:
    """Answer `/leads away|back|next ...` (`words`: what follows `/leads`)."""
    keyword = words[0].lower()
    if keyword == "away":
        return {"text": await deps.away.away(user, words[1:])}
    if keyword == "back" and len(words) == 1:
        return {"text": await deps.away.back(user)}
    if keyword == "next" and len(words) == 1:
        return await next_lead(deps, user)
    raise DomainError("`/leads back` and `/leads next` take nothing after them.")


async def next_lead(deps: SlackDeps, user: str) -> dict[str, Any]:
    """Claim the oldest claimable lead for `user`; answer with its card."""
    outcome = await deps.pulls.next_lead(user)
    card = views.lead_card(outcome.lead, deps.pulls.now())
    return {**card, "text": f"{outcome.message}: {card['text']}"}


async def toggle_away(deps: SlackDeps, user: str) -> dict[str, Any]:
    """The App Home button: away if taking leads, back if away."""
    if await deps.away.away_toggle(user) is None:
        return {"text": await deps.away.away(user, [])}
    return {"text": await deps.away.back(user)}


async def controls(away: AwayService, user: str, view: dict[str, Any]) -> dict[str, Any]:
    """The Home view with the away toggle and **Next lead** (bot.slack.home_tab)."""
    return home_controls(view, await away.away_toggle(user))


def home_controls(view: dict[str, Any], away: AwayToggle | None) -> dict[str, Any]:
    """Add the away toggle and **Next lead** to the Home view's last actions block (a
    block of its own would not fit beside 30 leads in Home's 100 blocks)."""
    if away is None:
        toggle = button("Pause new leads", ids.TOGGLE_AWAY, "away")
        note = None
    else:
        toggle = button("I'm back", ids.TOGGLE_AWAY, "back", style="primary")
        until = "" if away.until is None else f" until {views.slack_date(away.until)}"
        note = f":double_vertical_bar: You are away{until}: no new leads come to you."
    controls = [toggle, button("Next lead", ids.NEXT_LEAD, "next")]
    blocks = list(view["blocks"])
    for index in range(len(blocks) - 1, -1, -1):
        if blocks[index].get("type") == "actions":
            blocks[index] = {**blocks[index], "elements": [*blocks[index]["elements"], *controls]}
            break
    else:
        blocks.append({"type": "actions", "block_id": "availability", "elements": controls})
    if note is not None and len(blocks) < HOME_BLOCKS:
        blocks.insert(0, section(note))
    return {**view, "blocks": blocks}
