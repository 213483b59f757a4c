"""Configurations that validate field by field yet could never deliver a lead.

Why refuse them: a rule that routes to a team with no members, or only members whose
capacity is 0, sends every matching lead to nobody; each such lead then pages the
manager. The file is refused with the team's path instead. A team no rule routes to
may stay empty (an admin creates the team first, then adds its members).
"""

from __future__ import annotations

from typing import Any

from domain.errors import FieldError


def _mappings(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def _capacities(data: dict[str, Any]) -> dict[str, Any]:
    """Each rep's capacity by every name a member may use for them (user id or email)."""
    capacities: dict[str, Any] = {}
    for _index, rep in _mappings(data, "reps"):
        for name in (rep.get("user"), rep.get("email")):
            if isinstance(name, str):
                capacities[name] = rep.get("capacity")
    return capacities


def _routed_teams(data: dict[str, Any]) -> dict[str, str]:
    """Team name -> the first rule path that sends leads to it."""
    routed: dict[str, str] = {}
    for index, rule in _mappings(data, "rules"):
        action = rule.get("then")
        if not isinstance(action, dict):
            continue
        for key in ("team", "fallback_team"):
            name = action.get(key)
            if isinstance(name, str):
                routed.setdefault(name, f"rules[{index}].then.{key}")
    return routed


def routing_checks(data: dict[str, Any]) -> list[FieldError]:
    """An error for every team a rule routes to that nobody could ever take a lead in."""
    routed = _routed_teams(data)
    capacities = _capacities(data)
    errors: list[FieldError] = []
    for index, team in _mappings(data, "teams"):
        rule = routed.get(team.get("name"))  # type: ignore[arg-type]
        if rule is None:
            continue
        members = team.get("members")
        users = [
            member.get("user")
            for member in (members if isinstance(members, list) else [])
            if isinstance(member, dict) and isinstance(member.get("user"), str)
        ]
        if not users:
            problem = "has no members"
        elif all(capacities.get(user.removeprefix("email:")) == 0 for user in users):
            problem = "has only members with capacity 0"
        else:
            continue
        errors.append(
            FieldError(
                f"teams[{index}].members",
                f"team {team.get('name')!r} receives leads ({rule}) but {problem}: "
                "nobody could ever take them",
            )
        )
    return errors
