"""Reps may be written by email only; at load time each becomes its Slack user id
(`users.lookupByEmail`), and every reference to that rep is rewritten to the id."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from domain.config import Config, validate_config
from domain.errors import FieldError, InvalidInput


def needs_resolution(config: Config) -> bool:
    return any(rep.user is None for rep in config.reps)


async def resolve_emails(config: Config, client: AsyncWebClient) -> Config:
    """The configuration with every rep referenced by Slack id: email-only reps are looked
    up in Slack (refused whole, naming each email Slack does not know), and references
    written as emails are rewritten to ids."""
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    ids = {rep.email: rep.user for rep in config.reps if rep.user and rep.email}
    errors: list[FieldError] = []
    for index, rep in enumerate(data["reps"]):
        if "user" in rep:
            continue
        try:
            found = await client.users_lookupByEmail(email=rep["email"])
        except SlackApiError as error:
            code = error.response.get("error", "error")
            message = "no Slack user has this email" if code == "users_not_found" else code
            errors.append(FieldError(f"reps[{index}].email", message))
            continue
        rep["user"] = ids[rep["email"]] = found["user"]["id"]
    if errors:
        raise InvalidInput(errors)
    for team in data["teams"]:
        for member in team["members"]:
            member["user"] = _resolved(member["user"], ids)
    for account in data["accounts"]:
        account["owner"] = _resolved(account["owner"], ids)
    resolved = validate_config(data)
    return config if resolved == config else resolved


def _resolved(user: Any, ids: dict[str, str]) -> Any:
    return ids.get(str(user).removeprefix("email:"), user)


async def is_workspace_admin(client: AsyncWebClient, user: str) -> bool:
    """Whether Slack says this user administers or owns the workspace (the admin
    bootstrap, see domain.authorization). A failed lookup grants nothing."""
    try:
        found = (await client.users_info(user=user))["user"]
    except SlackApiError:
        return False
    return any(found.get(flag) for flag in ("is_admin", "is_owner", "is_primary_owner"))
