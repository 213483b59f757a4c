"""Slack for the evidence features: `/leads why [@rep]`, `/leadstats experiment NAME`
(with **Promote**), `/leadrouter review` (with a fix button per finding), and the card's
**Wrong routing?** button and modal.

The three subcommands are listeners on the existing commands with a matcher on the
first word, registered before the commands' own listeners: Bolt runs the first listener
whose matchers accept a request (slack_bolt.app.async_app.AsyncApp.async_dispatch), so
`/leads why` lands here and every other `/leads` where it always did. Every admin-only
step checks admin rights again on the click, not only when the message was shown."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import Saved
from bot.slack import action_ids as ids
from bot.slack.admin.base import AdminBase
from bot.slack.admin.forms import FormError, info_modal, metadata, note
from bot.slack.admin.rep import pto_modal, rep_modal
from bot.slack.admin.rules import rule_modal, rules_modal
from bot.slack.admin.scoring import scoring_modal
from bot.slack.admin.team import team_modal
from bot.slack.admin.yaml_io import import_modal
from bot.slack.deps import SlackDeps
from bot.slack.evidence_views import (
    dump_experiment,
    experiment_message,
    experiment_modal,
    misroute_modal,
    parse_experiment,
    parse_misroute,
    review_message,
    why_message,
)
from bot.slack.listeners import reply_privately
from domain.config import Config
from domain.errors import DomainError
from domain.experiment_lifecycle import upsert_experiment
from domain.why import why_lines

log = logging.getLogger(__name__)
Ack = Callable[..., Awaitable[None]]
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
WHY_USAGE = "Usage: `/leads why` (your routing) or, for admins, `/leads why @rep`."
OUR_FAULT = "Something went wrong on our side; nothing was changed. Try again."


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Register before the commands' own listeners (see the module's docstring)."""
    listeners = EvidenceListeners(deps)
    subcommands = {
        ("/leads", "why"): listeners.why,
        ("/leadstats", "experiment"): listeners.experiment,
        ("/leadrouter", "review"): listeners.review,
    }
    for (command, word), answer in subcommands.items():
        app.command(command, matchers=[_first_word(word)])(_answering(answer))
    app.command("/leadrouter", matchers=[_first_word("experiment")])(listeners.open_experiment)
    app.view(ids.EXPERIMENT_EDIT)(listeners.submit_experiment)
    app.action(ids.PROMOTE_EXPERIMENT)(listeners.promote)
    app.action(ids.REVIEW_FIX)(listeners.open_fix)
    app.action(ids.REPORT_MISROUTE)(listeners.open_misroute)
    app.view(ids.MISROUTE_REPORT)(listeners.submit_misroute)


def _first_word(word: str) -> Callable[[dict[str, Any]], Awaitable[bool]]:
    async def matches(body: dict[str, Any]) -> bool:
        return str(body.get("text") or "").split()[:1] == [word]

    return matches


def _answering(
    answer: Callable[[str, list[str]], Awaitable[dict[str, Any]]],
) -> Callable[..., Awaitable[None]]:
    """Ack, answer privately; a refusal or a bad argument is the answer's text."""

    async def listener(ack: Ack, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        words = str(command.get("text") or "").split()
        try:
            message = await answer(command["user_id"], words)
        except DomainError as error:
            message = {"text": str(error)}
        except Exception:
            log.exception("%s %s failed", command.get("command"), words[0])
            message = {"text": OUR_FAULT}
        await reply_privately(client, command.get("response_url"), **message)

    return listener


class EvidenceListeners(AdminBase):
    """AdminBase gives the admin forms' submission handling (errors next to fields)."""

    def __init__(self, deps: SlackDeps):
        super().__init__(deps.admin, deps.bot_token, deps.membership)
        self.experiments = deps.experiments
        self.reviews = deps.review
        self.explainer = deps.why

    # ------------------------------------------------------------ the subcommands

    async def why(self, user: str, words: list[str]) -> dict[str, Any]:
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
        return why_message(why_lines(await self.explainer.explain(subject)))

    async def experiment(self, user: str, words: list[str]) -> dict[str, Any]:
        """`/leadstats experiment NAME`; Promote for admins."""
        if len(words) != 2:
            return {"text": "Usage: `/leadstats experiment NAME`."}
        report = await self.experiments.report(words[1])
        return experiment_message(report, can_promote=await self.admin.is_admin(user))

    async def review(self, user: str, words: list[str]) -> dict[str, Any]:
        """`/leadrouter review`: admins only."""
        await self.admin.open_admin(user)
        _, review = await self.reviews.review()
        return review_message(review)

    # ------------------------------------------------------------ buttons and modals

    async def open_experiment(
        self, ack: Ack, command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """`/leadrouter experiment [NAME]`: the modal, with NAME's YAML to change it."""
        await ack()
        words = str(command.get("text") or "").split()
        try:
            _, config = await self.admin.open_admin(command["user_id"])
            existing = config.experiment(words[1]) if config and len(words) == 2 else None
            view = experiment_modal(dump_experiment(existing)) if existing else experiment_modal()
        except DomainError as error:
            await reply_privately(client, command.get("response_url"), text=str(error))
            return
        await client.views_open(trigger_id=command["trigger_id"], view=view)

    async def submit_experiment(self, ack: Ack, body: dict[str, Any]) -> None:
        """Validated with the whole configuration, like the file; saved as a version."""
        user = body["user"]["id"]

        async def work() -> Saved:
            experiment = parse_experiment(body["view"]["state"]["values"])
            name = experiment.get("name")
            return await self.admin.change(
                user, lambda document: upsert_experiment(document, experiment), f"experiment {name}"
            )

        await self._submit(ack, "Experiment saved", work, {}, "experiment")

    async def promote(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        try:
            chosen = json.loads(body["actions"][0]["value"])
            await self.admin.open_admin(user)
            version, note_text = await self.experiments.promote(
                str(chosen["experiment"]), str(chosen["arm"]), user
            )
            text = f":white_check_mark: {note_text}: configuration version {version}."
        except DomainError as error:
            text = str(error)
        except (ValueError, KeyError, TypeError):
            text = "That button no longer says which experiment to promote."
        except Exception:
            log.exception("promoting an experiment failed")
            text = OUR_FAULT
        await reply_privately(client, body.get("response_url"), text=text)

    async def open_fix(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The admin modal a review finding names, on the current configuration."""
        await ack()
        try:
            fix = json.loads(body["actions"][0]["value"])
            version, config = await self.admin.open_admin(body["user"]["id"])
            view = _fix_view(str(fix.get("modal")), fix.get("key"), version, config)
        except DomainError as error:
            await reply_privately(client, body.get("response_url"), text=str(error))
            return
        except (ValueError, AttributeError):
            await reply_privately(client, body.get("response_url"), text=OUR_FAULT)
            return
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def open_misroute(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        lead_id = str(body["actions"][0].get("value", ""))
        await client.views_open(trigger_id=body["trigger_id"], view=misroute_modal(lead_id))

    async def submit_misroute(self, ack: Ack, body: dict[str, Any]) -> None:
        """Record the report only; the lead is never changed by it."""
        view = body["view"]
        try:
            reason, text = parse_misroute(view["state"]["values"])
            lead_id = str(metadata(view).get("lead", ""))
            await self.reviews.record_misroute(lead_id, body["user"]["id"], reason, text)
        except FormError as error:
            await ack(response_action="errors", errors=error.errors)
            return
        except DomainError as error:
            await ack(response_action="errors", errors={"reason": str(error)})
            return
        thanks = note("Thanks: sales ops will see it in the routing review.")
        await ack(response_action="update", view=info_modal("Wrong routing?", [thanks]))


def _fix_view(modal: str, key: Any, version: int | None, config: Config | None) -> dict[str, Any]:
    """The modal for a finding's fix; the rules list when its item is gone meanwhile."""
    if modal == "rule" and config is not None:
        index = next((i for i, rule in enumerate(config.rules) if rule.name == key), None)
        if index is not None:
            return rule_modal(version, config, config.rules[index], index)
    if modal == "team" and config is not None and config.team(str(key)) is not None:
        return team_modal(version, config, config.team(str(key)))
    if modal == "rep" and key:
        return rep_modal(version, config.rep(str(key)) if config else None, str(key))
    if modal == "pto" and key:
        return pto_modal(str(key))
    if modal == "import":
        return import_modal()
    if modal == "scoring":
        return scoring_modal(version, config)
    return rules_modal(version, config)
