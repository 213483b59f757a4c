"""A readable diff between two configuration documents, for the audit trail.

Lists of named things (teams, reps, rules, accounts, webhooks) are compared by name, not by
position, so adding a team at the top reads as one added team, not as every team
changed; a reordering of rules (which changes routing) is reported as such."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_SHOWN_CHARS = 160


def _rep_key(item: dict[str, Any]) -> str:
    return str(item.get("user") or item.get("email"))


_KEYED: dict[str, Callable[[dict[str, Any]], str]] = {
    "reps": _rep_key,
    "teams": lambda item: str(item.get("name")),
    "accounts": lambda item: str(item.get("domain")),
    "rules": lambda item: str(item.get("name")),
    "webhooks": lambda item: str(item.get("name")),
}


def show(value: Any) -> str:
    """Compact one-line JSON, cut short: a diff line must fit a Slack message."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def diff_configs(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """`+ teams[enterprise]: {...}`, `- rules[old]`, `~ teams[sdr].strategy: a → b`,
    `~ rules order: a, b → b, a`. Empty when the documents are equal."""
    before = before or {}
    lines: list[str] = []
    for section in [*after, *(key for key in before if key not in after)]:
        old, new = before.get(section), after.get(section)
        if old == new:
            continue
        named: list[str] = []
        if section in _KEYED and isinstance(old, list | None) and isinstance(new, list | None):
            _diff_keyed(section, old or [], new or [], _KEYED[section], named)
        elif isinstance(old, dict | None) and isinstance(new, dict | None):
            _diff_mapping(section, old or {}, new or {}, named)
        if not named:  # what a per-item diff cannot name: absent versus empty, a new type
            named.append(_whole(section, section in before, section in after, old, new))
        lines.extend(named)
    return lines


def _whole(path: str, was: bool, now: bool, old: Any, new: Any) -> str:
    if not was:
        return f"+ {path}: {show(new)}"
    if not now:
        return f"- {path} (was {show(old)})"
    return f"~ {path}: {show(old)} → {show(new)}"


def _keyed(items: list[Any], key: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """Items by key; a repeated key gets `#2`, so nothing is silently dropped."""
    out: dict[str, Any] = {}
    for item in items:
        name = key(item) if isinstance(item, dict) else show(item)
        unique, count = name, 1
        while unique in out:
            count += 1
            unique = f"{name}#{count}"
        out[unique] = item
    return out


def _diff_keyed(
    section: str,
    old: list[Any],
    new: list[Any],
    key: Callable[[dict[str, Any]], str],
    lines: list[str],
) -> None:
    olds, news = _keyed(old, key), _keyed(new, key)
    for name, item in news.items():
        if name not in olds:
            lines.append(f"+ {section}[{name}]: {show(item)}")
    for name in olds:
        if name not in news:
            lines.append(f"- {section}[{name}]")
    for name, item in news.items():
        if name in olds and olds[name] != item:
            _diff_mapping(f"{section}[{name}]", olds[name], item, lines)
    kept_old = [name for name in olds if name in news]
    kept_new = [name for name in news if name in olds]
    if kept_old != kept_new:
        lines.append(f"~ {section} order: {', '.join(kept_old)} → {', '.join(kept_new)}")


def _diff_mapping(path: str, old: Any, new: Any, lines: list[str]) -> None:
    if not isinstance(old, dict) or not isinstance(new, dict):
        lines.append(f"~ {path}: {show(old)} → {show(new)}")
        return
    for field in [*new, *(key for key in old if key not in new)]:
        was, now = old.get(field), new.get(field)
        if field in old and field in new and isinstance(was, dict) and isinstance(now, dict):
            _diff_mapping(f"{path}.{field}", was, now, lines)
        elif field not in old or field not in new or was != now:
            lines.append(_whole(f"{path}.{field}", field in old, field in new, was, now))
