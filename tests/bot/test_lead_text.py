"""The one escaping function: whatever a stranger types is shown, and does nothing else."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.lead_text import plain

HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<@U0SALESOPS>",
    "<#C0SALES>",
    "<!subteam^S0TEAM>",
    "<https://evil.example|click me>",
    "<!date^1700000000^{date}|x>",
    "*Why:* fake",
    "_it_",
    "~gone~",
    "`code`",
    "```block```",
    "> quoted",
    "&gt; quoted",
    "&lt;@U0CEO&gt;",
    "\u202egnp.exe",
    "\n*Owner:* <@U0CEO>",
    "\x00\x1b[31m",
]
hostile_text = st.one_of(
    st.text(),
    st.lists(st.sampled_from(HOSTILE) | st.text(max_size=5), max_size=8).map("".join),
)
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def assert_inert(shown: str, multiline: bool) -> None:
    assert not set(shown) & set("<>*_~`")
    assert not ENTITY.search(shown), "a bare & could start an entity of the text's own"
    for character in shown:
        assert unicodedata.category(character) != "Cc" or (multiline and character == "\n")
        assert character not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    for line in shown.split("\n"):
        assert not line.lstrip().startswith("&gt;"), "a line starting with > is a quote"


@given(hostile_text, st.booleans())
def test_nothing_typed_survives_as_markup(text: str, multiline: bool) -> None:
    assert_inert(plain(text, multiline), multiline)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Jane O'Neil & Co", "Jane O'Neil &amp; Co"),
        ("<!channel> hi", "&lt;!channel&gt; hi"),
        ("a\nb\r\nc", "a b c"),
        ("*Why:*", "\u2217Why:\u2217"),
        ("> quote", "\u200b&gt; quote"),
        ("abc\u202edef", "abcdef"),
    ],
)
def test_what_a_reader_sees(typed: str, shown: str) -> None:
    assert plain(typed) == shown


def test_a_note_keeps_its_lines_but_no_quote() -> None:
    assert plain("call me\r\n> later", multiline=True) == "call me\n\u200b&gt; later"
