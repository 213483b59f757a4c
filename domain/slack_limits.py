"""The sizes Slack accepts in a message, a modal or a Home tab, and fitting text to them.

Why in the domain: the renderers must stay inside these limits however many teams, leads
or rules there are, and the local workspace refuses what Slack refuses; both read this one
table. Pure facts and string functions (no Slack library). Sources, as of 2026:
- https://docs.slack.dev/reference/block-kit/blocks ("up to 50 blocks in each message,
  and 100 blocks in modals or Home tabs"), the section/header/context block pages
  (section text 3,000, fields 10 x 2,000, header 150, context elements 10).
- https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element
  ("Maximum number of options is 100"; options is required, so at least one) and
  .../composition-objects/option-object (text 75, value 150).
- .../block-elements/button-element (text 75, value 2,000, action_id 255) and
  .../blocks (block_id 255).
- https://docs.slack.dev/reference/surfaces/views (title, submit, close 24;
  private_metadata 3,000).
- https://docs.slack.dev/reference/methods/chat.postMessage (text is truncated past
  40,000 characters; ``text`` is the notification and accessibility fallback when blocks
  are sent, so it is required here).
"""

from __future__ import annotations

from typing import Final

MESSAGE_BLOCKS: Final = 50
VIEW_BLOCKS: Final = 100
MESSAGE_TEXT: Final = 40_000
SECTION_TEXT: Final = 3_000
SECTION_FIELDS: Final = 10
FIELD_TEXT: Final = 2_000
HEADER_TEXT: Final = 150
BUTTON_TEXT: Final = 75
BUTTON_VALUE: Final = 2_000
ACTION_ID: Final = 255
BLOCK_ID: Final = 255
CONTEXT_ELEMENTS: Final = 10
ACTIONS_ELEMENTS: Final = 25
SELECT_OPTIONS: Final = 100
OPTION_TEXT: Final = 75
OPTION_VALUE: Final = 150
VIEW_TITLE: Final = 24
VIEW_BUTTON: Final = 24
PRIVATE_METADATA: Final = 3_000

ELLIPSIS: Final = "…"


def fit(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut.

    For display only: a value a handler reads back (an option's ``value``) must never be
    cut, since it would then name something else.
    """
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS if limit >= len(ELLIPSIS) else ""


def and_more(shown: int, total: int, noun: str) -> str | None:
    """The line that closes a list cut to ``shown`` of ``total`` items, or None."""
    hidden = total - shown
    if hidden <= 0:
        return None
    return f"…and {hidden} more {noun}"
