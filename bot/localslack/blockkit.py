"""Block Kit validation as Slack does it: refuse a message or view that breaks a limit,
naming each broken field with a JSON pointer.

Why: Slack refuses the whole message (``invalid_blocks``) or view
(``invalid_arguments``) when one field is too long or one list too big, so a renderer
that overflows with 300 leads or an 80-character team name fails on day one in a real
workspace. Each node is checked with slack_sdk's own model validators (which know most
limits), then against the table in :mod:`domain.slack_limits` for what they do not
check (blocks per message, field text, empty option lists, message text). The answer's
shape follows Slack's: ``{"ok": false, "error": "invalid_blocks", "errors": [...],
"response_metadata": {"messages": ["[ERROR] ... [json-pointer:/blocks/0/text]"]}}``
(as seen in the wild, e.g. grafana/oncall#210's ``[ERROR] no more than 100 items
allowed [json-pointer:/view/blocks]``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block, BlockElement, Option
from slack_sdk.models.views import View

from domain import slack_limits as limits

__all__ = ["Problem", "message_problems", "view_problems"]

EXTERNAL_SELECTS = frozenset({"external_select", "multi_external_select"})
SELECTS_WITH_OPTIONS = frozenset(
    {"static_select", "multi_static_select", "checkboxes", "radio_buttons", "overflow"}
)


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (a JSON pointer into the request) and what."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


# Checked here with Slack's own pointer (``/view/blocks``) rather than on the view.
SKIPPED_VALIDATORS = frozenset({"_validate_blocks_length"})


@functools.cache
def _validators(model: type) -> tuple[str, ...]:
    """The names of a slack_sdk model's validator methods (found once per class)."""
    return tuple(
        name
        for name in sorted(dir(model))
        if name not in SKIPPED_VALIDATORS and hasattr(getattr(model, name, None), "validator")
    )


def _model_problems(
    node: dict[str, Any], pointer: str, parse: Callable[[dict[str, Any]], Any]
) -> Iterator[Problem]:
    """slack_sdk's own validators for this one node (not its children: they get theirs),
    every one of them rather than the first that fails, as Slack lists them all."""
    try:
        model = parse(node)
    except (TypeError, ValueError, KeyError, AttributeError) as malformed:
        yield Problem(pointer, f"malformed: {malformed}")
        return
    if not isinstance(model, JsonObject):
        return
    for name in _validators(type(model)):
        try:
            getattr(model, name)()
        except SlackObjectFormationError as broken:
            yield Problem(pointer, str(broken))
        except (TypeError, AttributeError) as malformed:
            yield Problem(pointer, f"malformed: {malformed}")


def _text_of(node: Any) -> str:
    return str(node.get("text", "")) if isinstance(node, dict) else str(node or "")


def _element_problems(
    element: dict[str, Any], pointer: str, options_url: bool
) -> Iterator[Problem]:
    yield from _model_problems(element, pointer, BlockElement.parse)
    kind = element.get("type")
    if kind in EXTERNAL_SELECTS and not options_url:
        yield Problem(pointer, f"{kind} needs message_menu_options_url in the app's manifest")
    if kind in SELECTS_WITH_OPTIONS and "option_groups" not in element:
        options = element.get("options")
        if not isinstance(options, list) or not options:
            yield Problem(f"{pointer}/options", "must provide at least 1 items")
        elif len(options) > limits.SELECT_OPTIONS:
            yield Problem(
                f"{pointer}/options", f"no more than {limits.SELECT_OPTIONS} items allowed"
            )
    for key in ("options", "initial_options"):
        for index, option in enumerate(element.get(key) or []):
            where = f"{pointer}/{key}/{index}"
            if isinstance(option, dict):
                yield from _model_problems(option, where, lambda o: Option(**o))
    initial = element.get("initial_option")
    if isinstance(initial, dict):
        yield from _model_problems(initial, f"{pointer}/initial_option", lambda o: Option(**o))


def _block_problems(block: Any, pointer: str, options_url: bool) -> Iterator[Problem]:
    if not isinstance(block, dict) or "type" not in block:
        yield Problem(pointer, "must be a block object with a type")
        return
    yield from _model_problems(block, pointer, Block.parse)
    for index, field in enumerate(block.get("fields") or []):
        if len(_text_of(field)) > limits.FIELD_TEXT:
            yield Problem(
                f"{pointer}/fields/{index}/text",
                f"must be less than {limits.FIELD_TEXT + 1} characters",
            )
    children = [("accessory", block.get("accessory")), ("element", block.get("element"))]
    children += [(f"elements/{i}", e) for i, e in enumerate(block.get("elements") or [])]
    for where, child in children:
        if isinstance(child, dict) and child.get("type") not in ("plain_text", "mrkdwn"):
            yield from _element_problems(child, f"{pointer}/{where}", options_url)


def _blocks_problems(blocks: Any, pointer: str, most: int, options_url: bool) -> Iterator[Problem]:
    if not isinstance(blocks, list):
        yield Problem(pointer, "must be an array of blocks")
        return
    if len(blocks) > most:
        yield Problem(pointer, f"no more than {most} items allowed")
    for index, block in enumerate(blocks):
        yield from _block_problems(block, f"{pointer}/{index}", options_url)


def message_problems(params: dict[str, Any], *, options_url: bool) -> list[Problem]:
    """What Slack would refuse in a message's ``text`` and ``blocks``."""
    problems: list[Problem] = []
    text = params.get("text")
    if not text and "blocks" in params:
        problems.append(
            Problem("/text", "is required with blocks: it is the notification fallback")
        )
    if text and len(str(text)) > limits.MESSAGE_TEXT:
        problems.append(Problem("/text", f"must be less than {limits.MESSAGE_TEXT + 1} characters"))
    if "blocks" in params:
        problems += _blocks_problems(
            params["blocks"], "/blocks", limits.MESSAGE_BLOCKS, options_url
        )
    return problems


def _view_model(view: dict[str, Any]) -> View:
    return View(**{k: v for k, v in view.items() if k != "state"})


def view_problems(view: Any, *, options_url: bool) -> list[Problem]:
    """What Slack would refuse in a modal or Home view (pointers under ``/view``)."""
    if not isinstance(view, dict):
        return [Problem("/view", "must be a view object")]
    problems = list(_model_problems(view, "/view", _view_model))
    problems += _blocks_problems(
        view.get("blocks", []), "/view/blocks", limits.VIEW_BLOCKS, options_url
    )
    return problems
