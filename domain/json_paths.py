"""A small path language into a sender's JSON, so an intake profile is data, not code.

`properties.email.value` walks keys; `[0]` takes an element; `[*]` takes every element
(for the list of records in a payload); `[field.ref=email]` takes the first element of a
list whose `field.ref` equals `email`, and `[questionId=$form.questions[name=email].id]`
compares against another path read from the record's root (LinkedIn answers are keyed
by question ids that the form defines in the same document).

Full JSONPath is more than profiles need and harder for sales ops to read; these four
forms cover every built-in sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_INDEX = re.compile(r"-?\d+")


class PathError(ValueError):
    """A path that cannot be parsed; the message says where."""


_MISSING = object()
Memo = dict[tuple[int, str], dict[str, Any]]
"""Per document: (id of a list, a filter's key path) -> the list indexed by that key."""


@dataclass(frozen=True)
class _Key:
    name: str


@dataclass(frozen=True)
class _Index:
    index: int


@dataclass(frozen=True)
class _Every:
    pass


@dataclass(frozen=True)
class _Where:
    """First element whose `key` path equals `value` (or the value at `root_path`)."""

    key: JsonPath
    value: str | None
    root_path: JsonPath | None


_Step = _Key | _Index | _Every | _Where


@dataclass(frozen=True)
class JsonPath:
    text: str
    steps: tuple[_Step, ...]
    fans_out: bool = False
    """True when the path may give several values (it has a `[*]`)."""

    def find(self, document: Any, root: Any = None, memo: Memo | None = None) -> list[Any]:
        """Every value the path reaches; empty when it reaches nothing. `memo` (one per
        document) keeps each list's index by a filter's key, so many `[key=value]` paths
        into the same list scan it once."""
        root = document if root is None else root
        current = [document]
        for step in self.steps:
            current = [found for value in current for found in _apply(step, value, root, memo)]
        return current

    def first(self, document: Any, root: Any = None, memo: Memo | None = None) -> Any:
        """The first value reached, or None. Without `[*]` each step reaches at most one
        value, so it walks without building lists (this runs for every field of every
        request a profile maps)."""
        if self.fans_out:
            found = self.find(document, root, memo)
            return found[0] if found else None
        root = document if root is None else root
        value = document
        for step in self.steps:
            if isinstance(step, _Key):
                if not isinstance(value, dict) or step.name not in value:
                    return None
                value = value[step.name]
                continue
            reached = _apply(step, value, root, memo)
            if not reached:
                return None
            value = reached[0]
        return value


@lru_cache(maxsize=4096)
def parse_path(text: str) -> JsonPath:
    """Parse `a.b[0].c[key=value]`; raise PathError naming the problem. Cached: a profile
    maps every request with the same few dozen paths."""
    text = text.strip()
    if text in ("", "$"):
        return JsonPath(text, ())
    steps: list[_Step] = []
    body = text.removeprefix("$.")
    for raw in _split_outside_brackets(body, "."):
        name, _, selectors = raw.partition("[")
        if not name and not selectors:
            raise PathError(f"empty step in path {text!r}")
        if name:
            steps.append(_Key(name))
        if selectors:
            if not selectors.endswith("]"):
                raise PathError(f"unclosed [ in path {text!r}")
            for inside in _split_outside_brackets(selectors[:-1], "]["):
                steps.append(_selector(inside, text))
    return JsonPath(text, tuple(steps), any(isinstance(step, _Every) for step in steps))


def _split_outside_brackets(text: str, separator: str) -> list[str]:
    """Split on `separator` where no bracket is open: `answers[field.ref=email].email`
    is two steps, `[a=$b[0]][1]` two selectors."""
    parts, depth, start, position = [], 0, 0, 0
    while position < len(text):
        if depth == 0 and text.startswith(separator, position):
            parts.append(text[start:position])
            position += len(separator)
            start = position
            continue
        depth += {"[": 1, "]": -1}.get(text[position], 0)
        if depth < 0:
            raise PathError(f"unbalanced ] in {text!r}")
        position += 1
    if depth:
        raise PathError(f"unclosed [ in {text!r}")
    parts.append(text[start:])
    return parts


def _selector(inside: str, text: str) -> _Step:
    inside = inside.strip()
    if inside == "*":
        return _Every()
    if _INDEX.fullmatch(inside):
        return _Index(int(inside))
    key, sep, value = inside.partition("=")
    if not sep or not key.strip():
        raise PathError(f"expected [N], [*] or [key=value] in path {text!r}, got [{inside}]")
    value = value.strip()
    if value.startswith("$"):
        return _Where(parse_path(key), None, parse_path(value.removeprefix("$")))
    return _Where(parse_path(key), value.strip("'\""), None)


def _apply(step: _Step, value: Any, root: Any, memo: Memo | None) -> list[Any]:
    if isinstance(step, _Key):
        if isinstance(value, dict) and step.name in value:
            return [value[step.name]]
        return []
    if not isinstance(value, list):
        return []
    if isinstance(step, _Every):
        return list(value)
    if isinstance(step, _Index):
        return [value[step.index]] if -len(value) <= step.index < len(value) else []
    wanted = step.root_path.first(root, memo=memo) if step.root_path is not None else step.value
    if wanted is None:
        return []
    index = _index(value, step.key, root, memo)
    item = index.get(str(wanted), _MISSING)
    return [] if item is _MISSING else [item]


def _index(items: list[Any], key: JsonPath, root: Any, memo: Memo | None) -> dict[str, Any]:
    """Each element of `items` by the text of its `key` values (the first element wins)."""
    slot = (id(items), key.text)
    if memo is not None and slot in memo:
        return memo[slot]
    index: dict[str, Any] = {}
    for item in items:
        for found in key.find(item, root, memo):
            if found is not None and not isinstance(found, dict | list):
                index.setdefault(found if isinstance(found, str) else str(found), item)
    if memo is not None:
        memo[slot] = index
    return index
