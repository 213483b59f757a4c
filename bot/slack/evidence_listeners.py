"""Slack for the evidence features: `/leads why [@rep]`, `/leadstats experiment NAME`
(with **Promote**), `/leadrouter review` (with a fix button per finding), and the card's
**Wrong routing?** button and modal.

The three subcommands answer inside their commands' existing listeners (`answer_*`
below); the buttons and the modal are registered here. Every admin-only step checks
admin rights again on the click, not only when the message was shown."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import AdminService
from bot.services.experiments import ExperimentService
from bot.services.review import ReviewService
from bot.services.why import WhyService
from bot.slack import admin_views as av
from bot.slack.admin_views import FormError
from bot.slack.evidence_views import (
    MISROUTE_VIEW,
    PROMOTE_EXPERIMENT,
    REPORT_MISROUTE,
    REVIEW_FIX,
    experiment_message,
    misroute_modal,
    parse_misroute,
    review_message,
    why_message,
)
from bot.slack.listeners import reply_privately
from domain.errors import DomainError
from domain.why import why_lines

log = logging.getLogger(__name__)
Ack = Callable[..., Awaitable[None]]
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
WHY_USAGE = "Usage: `/leads why` (your routing) or, for admins, `/leads why @rep`."


class EvidenceListeners:
    def __init__(
        self,
        admin: AdminService,
        experiments: ExperimentService,
        review: ReviewService,
        why: WhyService,
    ):
        self.admin = admin
        self.experiments = experiments
        self.review = review
        self.why = why

    def register(self, app: AsyncApp) -> None:
        app.action(PROMOTE_EXPERIMENT)(self.promote)
        app.action(REVIEW_FIX)(self.open_fix)
        app.action(REPORT_MISROUTE)(self.open_misroute)
        app.view(MISROUTE_VIEW)(self.submit_misroute)

    # ------------------------------------------------------------ answers to commands

    async def answer_why(self, user: str, words: list[str]) -> dict[str, Any]:
        """`/leads why [@rep]`: anyone's own; another rep's for admins only."""
        subject = user
        if len(words) > 2:
            return {"text": WHY_USAGE}
        if len(words) == 2:
            match = _MENTION.match(words[1])
            if not match:
                return {"text": WHY_USAGE}
            subject = match.group(1)
            if subject != user and not await self.admin.is_admin(user):
                return {"text": "Only admins can see another rep's routing; try `/leads why`."}
        return why_message(why_lines(await self.why.explain(subject)))

    async def answer_experiment(self, user: str, words: list[str]) -> dict[str, Any]:
        """`/leadstats experiment NAME`."""
        if len(words) != 2:
            return {"text": "Usage: `/leadstats experiment NAME`."}
        report = await self.experiments.report(words[1])
        return experiment_message(report, can_promote=await self.admin.is_admin(user))

    async def answer_review(self, user: str) -> dict[str, Any]:
        """`/leadrouter review`: admins only."""
        await self.admin.open_admin(user)
        _, review = await self.review.review()
        return review_message(review)

    # ------------------------------------------------------------ buttons and modals

    async def promote(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        try:
            chosen = json.loads(body["actions"][0]["value"])
            await self.admin.open_admin(user)
            version, note = await self.experiments.promote(
                str(chosen["experiment"]), str(chosen["arm"]), user
            )
            text = f":white_check_mark: {note}: configuration version {version}."
        except DomainError as error:
            text = str(error)
        except (ValueError, KeyError, TypeError):
            text = "That button no longer says which experiment to promote."
        await reply_privately(client, body.get("response_url"), text=text)

    async def open_fix(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The admin modal a review finding names, opened on the current configuration."""
        await ack()
        user = body["user"]["id"]
        try:
            fix = json.loads(body["actions"][0]["value"])
            version, config = await self.admin.open_admin(user)
            view = _fix_view(str(fix.get("modal")), fix.get("key"), version, config)
        except DomainError as error:
            await reply_privately(client, body.get("response_url"), text=str(error))
            return
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def open_misroute(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        lead_id = str(body["actions"][0].get("value", ""))
        await client.views_open(trigger_id=body["trigger_id"], view=misroute_modal(lead_id))

    async def submit_misroute(self, ack: Ack, body: dict[str, Any]) -> None:
        view = body["view"]
        try:
            reason, text = parse_misroute(view["state"]["values"])
            await self.review.record_misroute(
                view["private_metadata"], body["user"]["id"], reason, text
            )
        except FormError as error:
            await ack(response_action="errors", errors=error.errors)
            return
        except DomainError as error:
            await ack(response_action="errors", errors={"reason": str(error)})
            return
        await ack(
            response_action="update",
            view=av.info_modal(
                "Wrong routing?",
                [av.note("Thanks: sales ops will see it in the routing review.")],
            ),
        )


def _fix_view(modal: str, key: Any, version: int | None, config: Any) -> dict[str, Any]:
    if modal == "rule" and config is not None:
        index = next((i for i, rule in enumerate(config.rules) if rule.name == key), None)
        if index is not None:
            return av.rule_modal(version, config, config.rules[index], index)
    if modal == "team" and config is not None and config.team(str(key)) is not None:
        return av.team_modal(version, config, config.team(str(key)))
    if modal == "rep" and key:
        return av.rep_modal(version, config.rep(str(key)) if config else None, str(key))
    if modal == "pto" and key:
        return av.pto_modal(str(key))
    if modal == "import":
        return av.import_modal()
    return av.rules_modal(version, config)
