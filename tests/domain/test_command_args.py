"""Slash command arguments: keywords in any case, names with spaces, mentions, links."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.command_args import Argument, find_team, parse_argument, split_keyword


@dataclass(frozen=True)
class Team:
    name: str
    channel: str | None = None


TEAMS = [Team("North America", "C0NA"), Team("emea", "C0EMEA"), Team("Inbound", None)]


@pytest.mark.parametrize(
    ("text", "keyword", "rest"),
    [
        ("team North America", "team", "North America"),
        ("TEAM   North America ", "team", "North America"),
        ("Team", "team", ""),
        ("north america", None, "north america"),
        ("", None, ""),
    ],
)
def test_split_keyword(text: str, keyword: str | None, rest: str) -> None:
    assert split_keyword(text, {"team", "rep"}) == (keyword, rest)


@pytest.mark.parametrize(
    ("text", "argument"),
    [
        ("<@U0JANE|jane>", Argument(user="U0JANE")),
        ("<@U0JANE>", Argument(user="U0JANE")),
        ("U0JANE", Argument(user="U0JANE")),
        ("<#C0NA|north-america>", Argument(channel="C0NA")),
        ("North   America", Argument(name="North America")),
        ("", Argument()),
    ],
)
def test_parse_argument(text: str, argument: Argument) -> None:
    assert parse_argument(text) == argument


@pytest.mark.parametrize(
    ("text", "team"),
    [
        ("North America", "North America"),
        ("north   AMERICA", "North America"),
        ("<#C0EMEA|emea>", "emea"),
        ("EMEA", "emea"),
        ("<#C0NOPE|x>", None),
        ("Nowhere", None),
    ],
)
def test_find_team(text: str, team: str | None) -> None:
    found = find_team(TEAMS, parse_argument(text))
    assert (found.name if found else None) == team


@given(st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1, max_size=80))
def test_any_configured_name_is_found_as_typed(name: str) -> None:
    """Whatever a team is called (unicode, spaces), typing its name finds it."""
    teams = [Team(name), Team(name + "x")]
    assume(parse_argument(name).name is not None)  # not a mention, link or bare user id
    found = find_team(teams, parse_argument(f" {name} "))
    assert (
        found is not None
        and " ".join(found.name.split()).casefold() == " ".join(name.split()).casefold()
    )
