"""The one escaping function (bot.slack.blocks.escape): whatever a stranger types is
shown, and does nothing else."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.blocks import clip, escape

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


FORMATTING = re.compile(r"(?<!\w)[*_~]|[*_~](?!\w)")


def assert_inert(shown: str) -> None:
    assert not set(shown) & set("<>`\n")
    assert not FORMATTING.search(shown), "a * _ or ~ at a word's edge can format"
    assert not ENTITY.search(shown), "a bare & could start an entity of the text's own"
    for character in shown:
        assert unicodedata.category(character) != "Cc"
        assert character not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    assert not shown.lstrip().startswith("&gt;"), "a line starting with > is a quote"


@given(hostile_text)
def test_nothing_typed_survives_as_markup(text: str) -> None:
    assert_inert(escape(text))


@given(hostile_text, st.integers(2, 60))
def test_a_clipped_escape_holds_no_half_entity(text: str, limit: int) -> None:
    shown = clip(escape(text), limit)
    assert len(shown) <= limit
    assert not ENTITY.search(shown)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Jane O'Neil & Co", "Jane O'Neil &amp; Co"),
        ("<!channel> hi", "&lt;!channel&gt; hi"),
        ("a\nb\r\nc", "a b  c"),
        ("*Why:*", "\u2217Why:\u2217"),
        ("_it_ ~no~", "\u02cdit\u02cd \u223cno\u223c"),
        ("`code`", "\u02cbcode\u02cb"),
        ("web_form john_doe@acme.com", "web_form john_doe@acme.com"),
        ("> quote", "\u200b&gt; quote"),
        ("abc\u202edef", "abcdef"),
    ],
)
def test_what_a_reader_sees(typed: str, shown: str) -> None:
    assert escape(typed) == shown


@given(hostile_text)
def test_inside_code_only_sequences_and_backticks_are_defused(text: str) -> None:
    shown = escape(text, code=True)
    assert not set(shown) & set("<>`\n")
    assert not ENTITY.search(shown)


def test_code_keeps_what_formats_nothing_there() -> None:
    assert escape("~ teams[a].members: *x* > y", code=True) == ("~ teams[a].members: *x* &gt; y")
