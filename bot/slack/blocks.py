"""Block Kit primitives shared by every Slack view, and the one escaping function.

Lead text is typed by strangers: it reaches Slack only through `escape`, so it can never
become a mention, a link, a broadcast, a date token or formatting. Mentions come only
from Slack ids the app knows (`mention_users`, on the app's own texts). Every mrkdwn text
object is `verbatim`, so Slack does not auto-link bare URLs or channel names either.
Limits respected: section text 3,000 characters, fields 2,000, plain text labels 150.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
LABEL_LIMIT = 150
_USER_ID = re.compile(r"\b([UW][A-Z0-9]{2,})\b")

Block = dict[str, Any]
Blocks = list[Block]
View = dict[str, Any]


_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "`": "\u02cb"})
_FORMATTING = re.compile(r"(?<!\w)[*_~]|[*_~](?!\w)")
"""A `*`, `_` or `~` that can open or close bold, italics or strike: one not between two
word characters (`web_form`, `john_doe@acme.com` keep theirs)."""
_LOOKALIKE = {"*": "\u2217", "_": "\u02cd", "~": "\u223c"}  # ∗ ˍ ∼
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\t\x0b\x0c\x85\u2028\u2029")
_QUOTE = "&gt;"


def escape(text: str, code: bool = False) -> str:
    """Outside text (a lead's fields, a CRM's strings) shown as typed and nothing more.

    Slack's escapes for `&`, `<` and `>` (its "formatting text" guide: only these three
    are decoded), so no `<...>` sequence (mention, broadcast, link, date) can be spelled;
    look-alikes for the formatting characters Slack has no escape for (`∗ ˍ ∼`, and `ˋ`
    for a backtick); a zero-width space before a leading `>` (a quote); bidirectional
    overrides and control characters dropped; line breaks become spaces. `code`: the
    text sits inside a code span or block, where only `<...>` sequences and a closing
    backtick still act, so `*`, `_`, `~` and `>` stay as they are."""
    kept = []
    for character in text:
        if character in _LINE_BREAKS:
            kept.append(" ")
        elif character not in _BIDI and unicodedata.category(character) != "Cc":
            kept.append(character)
    escaped = "".join(kept).translate(_ENTITIES)
    if code:
        return escaped
    escaped = _FORMATTING.sub(lambda m: _LOOKALIKE[m.group()], escaped)
    return "\u200b" + escaped if escaped.lstrip().startswith(_QUOTE) else escaped


def mention_users(text: str) -> str:
    """Turn bare Slack user ids in decision reasons into mentions."""
    return _USER_ID.sub(r"<@\1>", text)


def slack_date(moment: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date token: every reader sees it in their own timezone."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut; never half an escape (a
    cut `&am` would show as typed) nor half a `<...>` sequence of the app's."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    for start, end in (("&", ";"), ("<", ">")):
        opened = cut.rfind(start)
        if opened != -1 and end not in cut[opened:]:
            cut = cut[:opened]
    return cut + "…"


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object, clipped to a section's limit. `verbatim`: Slack leaves its
    text as written, without turning bare URLs or channel names into links (Block Kit
    text object reference); the app's own `<@U…>` and date tokens still work."""
    return {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT), "verbatim": True}


def plain_text(text: str) -> dict[str, Any]:
    """A plain text label (titles, buttons of forms, options): Slack's 150, never empty."""
    return {"type": "plain_text", "text": text[:LABEL_LIMIT] or " ", "emoji": True}


def section(text: str) -> Block:
    """A section of mrkdwn text (callers keep it within the limit)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def context(text: str) -> Block:
    """A context line of mrkdwn text (callers keep it within the limit)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    """A button element; `style` is "primary", "danger" or None."""
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element
