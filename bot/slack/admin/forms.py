"""Block Kit form primitives shared by the admin screens, and the mapping of a
configuration's error paths back onto a modal's blocks.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.services.admin import Saved
from bot.slack import action_ids as ids
from bot.slack.blocks import Blocks, View, escape, mrkdwn, plain_text
from domain.errors import FieldError
from domain.slack_limits import OPTION_TEXT, fit

Values = dict[str, dict[str, dict[str, Any]]]


class FormError(Exception):
    """A form field that does not even parse; `errors` maps block ids to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


MAX_BLOCKS = 100


MAX_OPTIONS = 100


ERROR_LIMIT = 300


def option(value: str, label: str | None = None) -> dict[str, Any]:
    """A choice whose label is cut to what Slack shows (75) while its value, what the
    handler reads back, stays exact (a team name is up to 80)."""
    shown = fit(label or value.replace("_", " "), OPTION_TEXT)
    return {"text": plain_text(shown), "value": value}


def input_block(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label),
        "element": {"action_id": block_id, **element},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain_text(hint)
    return block


def text_input(initial: str | None = None, *, multiline: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    return element


def static_select(choices: tuple[str, ...] | list[str], initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "options": [option(choice) for choice in choices[:MAX_OPTIONS]],
    }
    if initial in choices:
        element["initial_option"] = option(initial)
    return element


def user_select(initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "users_select"}
    if initial:
        element["initial_user"] = initial
    return element


def modal(
    callback_id: str, title: str, blocks: Blocks, metadata: dict[str, Any], submit: str | None
) -> View:
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain_text(title[:24]),
        "close": plain_text("Close"),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks[:MAX_BLOCKS],
    }
    if submit:
        view["submit"] = plain_text(submit)
    return view


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """What the modal was opened on (base version, the item's original name)."""
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def version_line(version: int | None) -> str:
    return f"configuration version {version}" if version is not None else "no configuration yet"


def value_of(values: Values, block: str) -> dict[str, Any]:
    return values.get(block, {}).get(block, {})


def string_of(values: Values, block: str) -> str | None:
    text = value_of(values, block).get("value")
    return text.strip() or None if isinstance(text, str) else None


def selected_of(values: Values, block: str) -> str | None:
    option = value_of(values, block).get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


def errors_for_blocks(
    errors: list[FieldError], prefix: str, fields: dict[str, str], fallback: str
) -> dict[str, str]:
    """validate_config's paths onto the modal's blocks: `teams[2].channel` -> `channel`.
    An error elsewhere (a rule naming a team this edit renamed away) goes, with its full
    path, to `fallback`, so nothing is silently dropped."""
    shown: dict[str, list[str]] = {}
    for error in errors:
        rest = error.path[len(prefix) :] if prefix and error.path.startswith(prefix) else None
        field = re.split(r"[.\[]", rest.lstrip("."), maxsplit=1)[0] if rest else ""
        block = fields.get(field)
        shown.setdefault(block or fallback, []).append(error.message if block else str(error))
    return {block: "; ".join(messages)[:ERROR_LIMIT] for block, messages in shown.items()}


def changes_text(saved: Saved, what: str) -> str:
    if not saved.changes:
        return f"{what}: nothing changed."
    lines = "\n".join(escape(line, code=True) for line in saved.changes[:30])
    return f"{what}: saved as configuration version {saved.version}.\n```{lines}```"


def note(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def info_modal(title: str, blocks: Blocks) -> View:
    """A modal that only shows something (history, an import's result, a refusal)."""
    return modal(ids.ADMIN_INFO, title, blocks, {}, None)


def saved_view(title: str, saved: Saved, notices: list[str] | None = None) -> View:
    """What replaces a modal after a save: the new version, its readable diff, and what
    needs doing next (a private team channel to /invite the bot to)."""
    if not saved.changes:
        text = "Nothing changed: the configuration already says this."
    else:
        lines = "\n".join(escape(line, code=True) for line in saved.changes)
        text = f"Saved as configuration version {saved.version}.\n```{lines}```"
    blocks = [{"type": "section", "text": mrkdwn(text)}]
    blocks += [note(f":warning: {escape(notice)}") for notice in notices or []]
    return modal(ids.ADMIN_SAVED, title, blocks, {}, None)


def pto_button() -> dict[str, Any]:
    """An actions block that opens the PTO modal: for App Home or any message."""
    return {
        "type": "actions",
        "block_id": "pto",
        "elements": [
            {"type": "button", "action_id": ids.OPEN_PTO, "text": plain_text("Set time off")}
        ],
    }
