"""Who may change what in the configuration.

The check looks at what a change actually does (before versus after), not at which
modal it came from, so a forged or replayed submission gets no further than an honest
one: admins may change anything; a team's manager may change that team's members and
the PTO of its members; a rep may change their own PTO; nobody else anything.

Bootstrap: a configuration with no `admins` (or no configuration at all) is
administered by the Slack workspace's admins and owners (`users.info`), which
includes whoever installed the app; the first change of theirs that needs admin
rights lists them in `admins`, which ends the bootstrap."""

from __future__ import annotations

from typing import Any

from domain.config import Config
from domain.errors import DomainError


class NotAllowed(DomainError):
    """A change the actor may not make; the message says what they may do instead."""


def is_admin(actor: str, config: Config | None, workspace_admin: bool) -> bool:
    if config is None or not config.admins:
        return workspace_admin
    return actor in config.admins


def managed_reps(actor: str, config: Config | None) -> set[str]:
    """The rep keys in the teams this actor manages."""
    if config is None:
        return set()
    return {
        member.user for team in config.teams if team.manager == actor for member in team.members
    }


def may_set_pto(actor: str, rep: str, config: Config | None, workspace_admin: bool) -> bool:
    if actor == rep or rep in managed_reps(actor, config):
        return True
    return is_admin(actor, config, workspace_admin)


def require_admin(actor: str, config: Config | None, workspace_admin: bool) -> None:
    if not is_admin(actor, config, workspace_admin):
        raise NotAllowed(
            "Only Leadrouter admins can change the routing configuration. "
            "Ask an admin, or use `/leadrouter pto FROM TO` for your own time off."
        )


def authorize_change(
    actor: str, before: Config | None, after: Config, workspace_admin: bool
) -> None:
    """Raise NotAllowed unless `actor` may turn `before` into `after`."""
    if is_admin(actor, before, workspace_admin):
        return
    if before is None:
        require_admin(actor, before, workspace_admin)
        return
    old, new = _document(before), _document(after)
    if _without_delegated(old) != _without_delegated(new):
        require_admin(actor, before, workspace_admin)
    for old_rep, new_rep in zip(old["reps"], new["reps"], strict=True):
        if old_rep.get("pto") != new_rep.get("pto"):
            key = old_rep.get("user") or f"email:{old_rep.get('email')}"
            if not may_set_pto(actor, key, before, workspace_admin):
                raise NotAllowed(f"You may set only your own PTO, not <@{key}>'s.")
    for old_team, new_team in zip(old["teams"], new["teams"], strict=True):
        if old_team.get("members") != new_team.get("members") and old_team.get("manager") != actor:
            raise NotAllowed(
                f"Only the manager of team {old_team['name']} or an admin may change its members."
            )


def _document(config: Config) -> dict[str, Any]:
    return config.model_dump(mode="json", by_alias=True, exclude_none=True)


def _without_delegated(document: dict[str, Any]) -> dict[str, Any]:
    """The document with what non-admins may change blanked out."""
    masked = dict(document)
    masked["reps"] = [{**rep, "pto": None} for rep in document["reps"]]
    masked["teams"] = [{**team, "members": None} for team in document["teams"]]
    return masked
