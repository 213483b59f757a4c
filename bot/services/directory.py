"""A configuration file may name people by email and channels by `#name`; at load time
each becomes its Slack id (`users.lookupByEmail`, `conversations.list`), so the stored
configuration, routing and every message hold ids only."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from domain.config import Config, validate_config
from domain.config_fields import is_channel_name, is_email
from domain.errors import FieldError, InvalidInput

_NO_SUCH_EMAIL = "no Slack user has this email"


def needs_resolution(config: Config) -> bool:
    """Whether loading this configuration needs Slack (an email or a #name to look up)."""
    people = [*config.admins, *(t.manager for t in config.teams), *(t.backup for t in config.teams)]
    return (
        any(rep.user is None for rep in config.reps)
        or any(person is not None and is_email(person) for person in people)
        or any(team.channel is not None and is_channel_name(team.channel) for team in config.teams)
    )


async def resolve_emails(config: Config, client: AsyncWebClient) -> Config:
    """The configuration with every person and channel referenced by Slack id: emails are
    looked up in Slack (or taken from a rep that has both), `#names` among the channels
    the bot can see. Refused whole, naming each email or channel Slack does not know."""
    if not needs_resolution(config) and not _email_references(config):
        return config
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    ids = {rep.email: rep.user for rep in config.reps if rep.user and rep.email}
    errors: list[FieldError] = []

    async def person(path: str, value: str) -> str:
        if not is_email(value) or value in ids:
            return ids.get(value, value)
        try:
            found = await client.users_lookupByEmail(email=value)
        except SlackApiError as error:
            code = error.response.get("error", "error")
            errors.append(FieldError(path, _NO_SUCH_EMAIL if code == "users_not_found" else code))
            return value
        ids[value] = found["user"]["id"]
        return ids[value]

    for index, rep in enumerate(data["reps"]):
        if "user" not in rep:
            rep["user"] = await person(f"reps[{index}].email", rep["email"])
    data["admins"] = [await person(f"admins[{i}]", a) for i, a in enumerate(data["admins"])]
    for index, team in enumerate(data["teams"]):
        for key in ("manager", "backup"):
            if key in team:
                team[key] = await person(f"teams[{index}].{key}", team[key])
    await _resolve_channels(data["teams"], client, errors)
    if errors:
        raise InvalidInput(errors)
    for team in data["teams"]:
        for member in team["members"]:
            member["user"] = _resolved(member["user"], ids)
    for account in data["accounts"]:
        account["owner"] = _resolved(account["owner"], ids)
    resolved = validate_config(data)
    return config if resolved == config else resolved


def _email_references(config: Config) -> bool:
    """Members or account owners written as a rep's email (resolved without Slack)."""
    users = [m.user for t in config.teams for m in t.members] + [a.owner for a in config.accounts]
    return any("@" in user for user in users)


async def _resolve_channels(
    teams: list[dict[str, Any]], client: AsyncWebClient, errors: list[FieldError]
) -> None:
    wanted = [
        (i, t["channel"]) for i, t in enumerate(teams) if is_channel_name(t.get("channel", ""))
    ]
    if not wanted:
        return
    known: dict[str, str] = {}
    cursor = None
    while True:
        try:
            page = await client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
        except SlackApiError as error:
            errors.append(
                FieldError(f"teams[{wanted[0][0]}].channel", error.response.get("error", "error"))
            )
            return
        known.update({channel["name"]: channel["id"] for channel in page["channels"]})
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    for index, name in wanted:
        if name[1:] in known:
            teams[index]["channel"] = known[name[1:]]
        else:
            errors.append(
                FieldError(
                    f"teams[{index}].channel",
                    f"no channel {name} that the bot can see (a private channel needs "
                    "/invite @Leadrouter first)",
                )
            )


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
