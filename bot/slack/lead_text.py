"""The one way text from outside the app reaches a Slack message.

Lead fields are typed by strangers on public forms; CRM events add their own strings.
In Slack's mrkdwn such text could ping everyone (`<!channel>`), disguise a link
(`<https://evil.example|invoice>`), forge a mention (`<@U0CEO>`) or a date token, or
draw fake lines on a card with a newline and `*Why:*`. `plain` makes it inert:

- `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`, Slack's own escapes (its
  "Formatting text" guide: only these three are decoded), so no `<...>` control
  sequence (mention, broadcast, link, date) can be spelled;
- Slack has no escape for `*`, `_`, `~` and backticks, so they become look-alikes that
  format nothing (`∗ ˍ ∼ ˋ`); a leading `>` (a quote) gets a zero-width space before it;
- bidirectional overrides (which make text read backwards) are dropped, other control
  characters too, and line breaks become spaces unless the field may span lines.

Auto-linking of bare URLs and `#channel` names is Slack's own preprocessing, switched
off per text object with `verbatim: true` (Block Kit text object reference), which
every mrkdwn object carrying such text sets. Mentions are never built from this text:
only from Slack ids the app knows (configuration, Slack payloads).
"""

from __future__ import annotations

import unicodedata

_LOOKALIKES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "*": "\u2217",  # ∗ ASTERISK OPERATOR
        "_": "\u02cd",  # ˍ MODIFIER LETTER LOW MACRON
        "~": "\u223c",  # ∼ TILDE OPERATOR
        "`": "\u02cb",  # ˋ MODIFIER LETTER GRAVE ACCENT
    }
)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BREAKS = frozenset("\n\r\u2028\u2029\x0b\x0c\x85")
_QUOTE = "&gt;"
_ZERO_WIDTH_SPACE = "\u200b"


def _line(text: str) -> str:
    escaped = text.translate(_LOOKALIKES)
    return _ZERO_WIDTH_SPACE + escaped if escaped.lstrip().startswith(_QUOTE) else escaped


def plain(text: str, multiline: bool = False) -> str:
    """`text` shown as typed and nothing more: no mention, link, broadcast, date token or
    formatting; on one line unless `multiline` (a note may keep its line breaks)."""
    kept: list[str] = []
    for character in text.replace("\r\n", "\n"):
        if character in _BIDI:
            continue
        if character in _BREAKS or character == "\t":
            kept.append("\n" if multiline and character != "\t" else " ")
        elif unicodedata.category(character) != "Cc":
            kept.append(character)
    lines = "".join(kept).split("\n")
    return "\n".join(_line(line) for line in lines)
