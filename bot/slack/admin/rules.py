"""The routing rules screen: the list, one rule's modal, parsing and handlers."""

from __future__ import annotations

from typing import Any

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import Saved
from bot.slack import action_ids as ids
from bot.slack.admin.base import Ack, AdminBase
from bot.slack.admin.forms import (
    MAX_BLOCKS,
    FormError,
    Values,
    changes_text,
    input_block,
    metadata,
    modal,
    note,
    option,
    selected_of,
    static_select,
    string_of,
    text_input,
    value_of,
)
from bot.slack.admin.team import METHODS
from bot.slack.blocks import Blocks, View, escape, mrkdwn, plain_text
from domain.config import Config, RuleConfig
from domain.config_diff import show
from domain.config_edits import (
    delete_rule,
    move_rule,
    parse_when,
    upsert_rule,
)
from domain.errors import DomainError, InvalidInput

ROUTE_TO = ("account_owner", "attendee")


RULE_FIELDS = {"name": "name", "when": "when", "then": "team"}


def _rule_line(position: int, rule: RuleConfig) -> str:
    action = rule.then
    target = f"team *{escape(action.team)}*" if action.team else escape(action.route_to or "")
    extra = f" ({action.method.value})" if action.method else ""
    when = f"when `{escape(show(rule.when), code=True)}`" if rule.when else "everything else"
    return f"*{position}. {escape(rule.name)}*: {when} → {target}{extra}"


def rules_modal(version: int | None, config: Config | None, notice: str = "") -> View:
    """Every rule with an overflow menu (edit, move up, move down, delete). First match
    wins, so the order shown is the order applied."""
    blocks: Blocks = [
        {
            "type": "actions",
            "block_id": "rules_menu",
            "elements": [
                {"type": "button", "action_id": ids.ADMIN_ADD_RULE, "text": plain_text("Add rule")}
            ],
        }
    ]
    if notice:
        blocks.append({"type": "context", "elements": [mrkdwn(notice)]})
    rules = config.rules if config else []
    room = MAX_BLOCKS - len(blocks) - 1
    for position, rule in enumerate(rules[:room]):
        blocks.append(
            {
                "type": "section",
                "block_id": f"rule:{position}",
                "text": mrkdwn(_rule_line(position + 1, rule)),
                "accessory": {
                    "type": "overflow",
                    "action_id": ids.ADMIN_RULE_MENU,
                    "options": [
                        option(f"{op}:{position}", label)
                        for op, label in (
                            ("edit", "Edit"),
                            ("up", "Move up"),
                            ("down", "Move down"),
                            ("delete", "Delete"),
                        )
                    ],
                },
            }
        )
    if len(rules) > room:
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn(f"{len(rules) - room} more: edit them in the YAML export.")],
            }
        )
    return modal(ids.ADMIN_RULES, "Routing rules", blocks, {"base": version}, None)


def rule_modal(
    version: int | None, config: Config | None, rule: RuleConfig | None, position: int | None
) -> View:
    teams = [team.name for team in config.teams] if config else []
    when = (
        yaml.safe_dump(rule.when, default_flow_style=True, width=10_000).strip()
        if rule and rule.when
        else ""
    )
    position_input: dict[str, Any] = {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": "1",
    }
    if position is not None:
        position_input["initial_value"] = str(position + 1)
    blocks: Blocks = [
        input_block("name", "Rule name", text_input(rule.name if rule else None)),
        input_block(
            "when",
            "When (conditions)",
            text_input(when, multiline=True),
            optional=True,
            hint="e.g. {employees: {gte: 500}, country: US}; empty: the catch-all (last) rule",
        ),
        input_block(
            "team",
            "Route to team",
            static_select(teams, rule.then.team if rule else None),
            optional=True,
        )
        if teams  # a select with no options is refused by Slack: a fresh install has none
        else note("_No teams yet: create one with *New team* to route to it._"),
        input_block(
            "route_to",
            "Or route to",
            static_select(ROUTE_TO, rule.then.route_to if rule else None),
            optional=True,
        ),
        input_block(
            "method",
            "Method override",
            static_select(METHODS, rule.then.method.value if rule and rule.then.method else None),
            optional=True,
        ),
        input_block(
            "position", "Position", position_input, optional=True, hint="1 is checked first"
        ),
    ]
    meta = {"base": version, "rule": rule.name if rule else None}
    return modal(ids.ADMIN_RULE, "Edit rule" if rule else "New rule", blocks, meta, "Save")


def parse_rule_form(
    values: Values, previous: RuleConfig | None
) -> tuple[dict[str, Any], int | None]:
    try:
        when = parse_when(string_of(values, "when") or "")
    except InvalidInput as error:
        raise FormError({"when": str(error)}) from None
    kept = previous.then.model_dump(mode="json", exclude_none=True) if previous else {}
    then: dict[str, Any] = {k: v for k, v in kept.items() if k in ("strategy", "fallback_team")}
    for key in ("team", "route_to", "method"):
        if chosen := selected_of(values, key):
            then[key] = chosen
    rule: dict[str, Any] = {"name": string_of(values, "name") or "", "then": then}
    if when:
        rule["when"] = when
    position = value_of(values, "position").get("value")
    return rule, int(position) if position not in (None, "") else None


class RulesScreen(AdminBase):
    """The rules screen's handlers (mixed into AdminListeners)."""

    async def open_rules(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        version, config = await self.admin.open_admin(body["user"]["id"])
        await client.views_push(trigger_id=body["trigger_id"], view=rules_modal(version, config))

    async def open_rule(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        version, config = await self.admin.open_admin(body["user"]["id"])
        await client.views_push(
            trigger_id=body["trigger_id"], view=rule_modal(version, config, None, None)
        )

    async def rule_menu(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Edit, move or delete from the rules list. The list shows version `base`; if
        the rules changed since, the click refers to a stale position, so it is refused
        and the list refreshed instead."""
        user = body["user"]["id"]
        view = body["view"]
        base = metadata(view).get("base")
        op, _, index = (
            (body["actions"][0].get("selected_option") or {}).get("value", "").partition(":")
        )
        version, config = await self.admin.open_admin(user)
        rules = config.rules if config else []
        if version != base or not index.isdigit() or int(index) >= len(rules):
            notice = "The rules changed since this list was opened; here they are now."
            await client.views_update(view_id=view["id"], view=rules_modal(version, config, notice))
            return
        rule = rules[int(index)]
        if op == "edit":
            await client.views_push(
                trigger_id=body["trigger_id"], view=rule_modal(version, config, rule, int(index))
            )
            return
        edits = {
            "up": lambda document: move_rule(document, rule.name, -1),
            "down": lambda document: move_rule(document, rule.name, 1),
            "delete": lambda document: delete_rule(document, rule.name),
        }
        if op not in edits:
            return
        try:
            saved = await self.admin.change(
                user, edits[op], f"rule {rule.name}: {op}", base=base, touches=("rules", None)
            )
            notice = changes_text(saved, f"Rule {rule.name}")
        except DomainError as error:
            notice = f":warning: {error}"
        version, config = await self.admin.current()
        await client.views_update(view_id=view["id"], view=rules_modal(version, config, notice))

    async def submit_rule(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = metadata(view)
        original = meta.get("rule")

        async def work() -> Saved:
            _, config = await self.admin.current()
            previous = (
                next((r for r in config.rules if r.name == original), None) if config else None
            )
            rule, position = parse_rule_form(view["state"]["values"], previous)
            return await self.admin.change(
                user,
                lambda document: upsert_rule(document, original, rule, position),
                f"rule {rule['name']}",
                base=meta.get("base"),
                touches=("rules", None),
            )

        await self._submit(ack, "Rule saved", work, RULE_FIELDS, "name")
