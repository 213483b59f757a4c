"""Edits the admin modals make to a configuration document (its JSON form).

Each edit changes the document in place and returns the path of what it edited
(`teams[2]`), so validation errors under that path can be shown next to the field
that caused them. Validation itself is `validate_config`'s, as for the file."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from domain.config_yaml import parse_yaml
from domain.errors import FieldError, InvalidInput

Document = dict[str, Any]


def _index(items: list[dict[str, Any]], field: str, value: Any) -> int | None:
    return next((i for i, item in enumerate(items) if item.get(field) == value), None)


def upsert_team(document: Document, original: str | None, team: dict[str, Any]) -> str:
    """Create a team, or replace the one named `original`. A rename follows into the
    rules that route to it; members who are not reps yet become reps (always on shift,
    no cap), since a team member the router cannot pick would be a silent trap; the
    first team gets the catch-all rule, since a configuration must route every lead."""
    teams: list[dict[str, Any]] = document.setdefault("teams", [])
    position = _index(teams, "name", original) if original is not None else None
    if position is None:
        teams.append(team)
        position = len(teams) - 1
    else:
        teams[position] = team
        if original != team.get("name"):
            for rule in document.get("rules", []):
                action = rule.get("then") or {}
                for key in ("team", "fallback_team"):
                    if action.get(key) == original:
                        action[key] = team.get("name")
    if not document.get("rules"):
        document["rules"] = [{"name": "everyone else", "then": {"team": team.get("name")}}]
    reps: list[dict[str, Any]] = document.setdefault("reps", [])
    known = {key for rep in reps for key in (rep.get("user"), rep.get("email")) if key}
    for member in team.get("members", []):
        if member["user"] not in known:
            reps.append({"user": member["user"]})
            known.add(member["user"])
    return f"teams[{position}]"


def upsert_rep(document: Document, original: str | None, rep: dict[str, Any]) -> str:
    reps: list[dict[str, Any]] = document.setdefault("reps", [])
    position = _index(reps, "user", original) if original is not None else None
    if position is None:
        position = _index(reps, "user", rep.get("user"))
    if position is None:
        reps.append(rep)
        return f"reps[{len(reps) - 1}]"
    reps[position] = rep
    return f"reps[{position}]"


def add_pto(document: Document, user: str, start: date, end: date) -> str:
    reps: list[dict[str, Any]] = document.get("reps", [])
    position = _index(reps, "user", user)
    if position is None:
        raise InvalidInput([FieldError("user", f"<@{user}> is not a rep in the configuration")])
    reps[position].setdefault("pto", []).append({"from": start.isoformat(), "to": end.isoformat()})
    return f"reps[{position}]"


def parse_when(text: str) -> dict[str, Any] | None:
    """A rule's conditions as typed in a modal, in the file's YAML flow style
    (`{employees: {gte: 500}}`); loaded as the file is: safe, no tags, no anchors."""
    if not text.strip():
        return None
    try:
        when = parse_yaml(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidInput([FieldError("", f"not valid YAML: {problem}")]) from None
    if not isinstance(when, dict):
        raise InvalidInput([FieldError("", "expected conditions like {employees: {gte: 500}}")])
    return when


def upsert_rule(
    document: Document, original: str | None, rule: dict[str, Any], position: int | None
) -> str:
    """Add or replace a rule at `position` (1-based, as shown; None: keep its place, or
    just before the catch-all rule for a new one)."""
    rules: list[dict[str, Any]] = document.setdefault("rules", [])
    current = _index(rules, "name", original) if original is not None else None
    if current is not None:
        rules.pop(current)
    if position is not None:
        at = min(max(position - 1, 0), len(rules))
    elif current is not None:
        at = current
    else:
        at = max(len(rules) - 1, 0) if rules and not rules[-1].get("when") else len(rules)
    rules.insert(at, rule)
    return f"rules[{at}]"


def move_rule(document: Document, name: str, offset: int) -> str:
    rules: list[dict[str, Any]] = document.get("rules", [])
    current = _require_rule(rules, name)
    target = min(max(current + offset, 0), len(rules) - 1)
    rules.insert(target, rules.pop(current))
    return f"rules[{target}]"


def delete_rule(document: Document, name: str) -> str:
    rules: list[dict[str, Any]] = document.get("rules", [])
    rules.pop(_require_rule(rules, name))
    return "rules"


def set_sla(document: Document, lead_type: str, sla: dict[str, Any]) -> str:
    document.setdefault("slas", {})[lead_type] = sla
    return f"slas.{lead_type}"


def _require_rule(rules: list[dict[str, Any]], name: str) -> int:
    position = _index(rules, "name", name)
    if position is None:
        raise InvalidInput([FieldError("rules", f"no rule named {name!r} (reopen the list)")])
    return position


def upsert_webhook(document: Document, original: str | None, endpoint: dict[str, Any]) -> str:
    """Add an outbound webhook endpoint, or change the one named `original` in its place;
    keys `endpoint` leaves out (timeout, retry budget: not in the modal) keep their values."""
    endpoints: list[dict[str, Any]] = document.setdefault("webhooks", [])
    position = _index(endpoints, "name", original) if original is not None else None
    if original is not None and position is None:
        raise InvalidInput([FieldError("name", f"no webhook endpoint named {original!r}")])
    if position is None:
        endpoints.append(endpoint)
        return f"webhooks[{len(endpoints) - 1}]"
    endpoints[position] = {**endpoints[position], **endpoint}
    return f"webhooks[{position}]"


def delete_webhook(document: Document, name: str) -> str:
    endpoints: list[dict[str, Any]] = document.get("webhooks", [])
    position = _index(endpoints, "name", name)
    if position is None:
        raise InvalidInput([FieldError("webhooks", f"no webhook endpoint named {name!r}")])
    endpoints.pop(position)
    return "webhooks"
