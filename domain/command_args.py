"""Reading what a person typed after a slash command: a keyword in any case, then a name
that may have spaces (``team North America``), a user mention or a channel link.

Why: Slack hands the app one string. ``/leads team North America`` split on spaces is
three words, and with ``should_escape`` on, ``#north-america`` arrives as
``<#C0NA|north-america>`` and ``@jane`` as ``<@U0JANE|jane>``; every command must read
those the same way. Pure: no Slack library, nothing but strings and the teams given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

__all__ = ["Argument", "find_team", "normalized", "parse_argument", "split_keyword"]

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_BARE_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def normalized(name: str) -> str:
    """A name as compared: case folded, runs of spaces as one."""
    return " ".join(name.split()).casefold()


def split_keyword(text: str, keywords: Iterable[str]) -> tuple[str | None, str]:
    """The first word if it is one of ``keywords`` (any case, given lower-case), and the
    rest of the text with its inner spaces kept; (None, text) otherwise."""
    stripped = text.strip()
    first, _, rest = stripped.partition(" ")
    if first.casefold() in set(keywords):
        return first.casefold(), rest.strip()
    return None, stripped


@dataclass(frozen=True)
class Argument:
    """What the text after a keyword names: a user, a channel, or a plain name."""

    user: str | None = None
    channel: str | None = None
    name: str | None = None

    @property
    def empty(self) -> bool:
        return self.user is None and self.channel is None and not self.name


def parse_argument(text: str) -> Argument:
    """``<@U…|x>`` or a bare ``U…`` id is a user, ``<#C…|x>`` a channel, else a name."""
    text = " ".join(text.split())
    user = _USER.match(text)
    if user:
        return Argument(user=user.group(1))
    channel = _CHANNEL.match(text)
    if channel:
        return Argument(channel=channel.group(1))
    if _BARE_USER_ID.match(text):
        return Argument(user=text)
    return Argument(name=text or None)


class _Team(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def channel(self) -> str | None: ...


TeamT = TypeVar("TeamT", bound=_Team)


def find_team(teams: Sequence[TeamT], argument: Argument) -> TeamT | None:
    """The team a command's argument names: by name (any case, spaces as typed or not),
    or by its channel (a channel link); None when none matches."""
    if argument.channel is not None:
        return next((t for t in teams if t.channel == argument.channel), None)
    if argument.name:
        wanted = normalized(argument.name)
        exact = next((t for t in teams if t.name == argument.name), None)
        return exact or next((t for t in teams if normalized(t.name) == wanted), None)
    return None
