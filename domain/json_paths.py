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
from typing import Any

_INDEX = re.compile(r"-?\d+")


class PathError(ValueError):
    """A path that cannot be parsed; the message says where."""


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

    @property
    def fans_out(self) -> bool:
        """True when the path may give several values (it has a `[*]`)."""
        return any(isinstance(step, _Every) for step in self.steps)

    def find(self, document: Any, root: Any = None) -> list[Any]:
        """Every value the path reaches; empty when it reaches nothing."""
        root = document if root is None else root
        current = [document]
        for step in self.steps:
            current = [found for value in current for found in _apply(step, value, root)]
        return current

    def first(self, document: Any, root: Any = None) -> Any:
        """The first value reached, or None."""
        found = self.find(document, root)
        return found[0] if found else None


def parse_path(text: str) -> JsonPath:
    """Parse `a.b[0].c[key=value]`; raise PathError naming the problem."""
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
    return JsonPath(text, tuple(steps))


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


def _apply(step: _Step, value: Any, root: Any) -> list[Any]:
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
    wanted = step.root_path.first(root) if step.root_path is not None else step.value
    if wanted is None:
        return []
    for item in value:
        if any(_same(found, wanted) for found in step.key.find(item, root)):
            return [item]
    return []


def _same(found: Any, wanted: Any) -> bool:
    """Compare as text: `[questionId=2]` matches the number 2 as well as the string."""
    return not isinstance(found, dict | list) and str(found) == str(wanted)
