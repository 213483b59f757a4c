"""The team screen: its modal, the parsing of what it submits, and its handlers."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import Saved
from bot.slack import action_ids as ids
from bot.slack.admin.base import Ack, AdminBase
from bot.slack.admin.forms import (
    MAX_BLOCKS,
    FormError,
    Values,
    input_block,
    metadata,
    modal,
    note,
    selected_of,
    static_select,
    string_of,
    text_input,
    user_select,
    value_of,
)
from bot.slack.blocks import Blocks, View
from domain.channel_membership import invite_request
from domain.config import Config, TeamConfig
from domain.config_edits import (
    upsert_team,
)

STRATEGIES = ("round_robin", "weighted", "least_loaded")


METHODS = ("push", "pull", "pool")


# Which modal block shows errors for which configuration field.
TEAM_FIELDS = {f: f for f in ("name", "channel", "method", "strategy", "manager", "backup")}


TEAM_FIELDS["members"] = "members"


def _rep_label(config: Config | None, user: str) -> str:
    rep = config.rep(user) if config else None
    return (rep.name or rep.email or user) if rep else user


def team_modal(
    version: int | None,
    config: Config | None,
    team: TeamConfig | None,
    members: list[dict[str, Any]] | None = None,
) -> View:
    """Create (team None) or edit a team: one weight input per member. `members`
    (chosen so far, with weights) redraws the weights as members are picked; Slack keeps
    what was typed in blocks whose ids stay the same."""
    members = members if members is not None else team_members(team)
    multi: dict[str, Any] = {"type": "multi_users_select"}
    if team and team.members:
        multi["initial_users"] = [member.user for member in team.members]
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if team and team.channel:
        channel["initial_conversation"] = team.channel
    blocks: Blocks = [
        input_block("name", "Team name", text_input(team.name if team else None)),
        input_block(
            "channel",
            "Channel",
            channel,
            optional=True,
            hint="Where pull and pool leads are posted (needed for pull and pool).",
        ),
        input_block(
            "method", "Method", static_select(METHODS, team.method.value if team else "push")
        ),
        input_block(
            "strategy", "Strategy", static_select(STRATEGIES, team.strategy if team else None)
        ),
        input_block(
            "manager", "Manager", user_select(team.manager if team else None), optional=True
        ),
        input_block(
            "backup",
            "Backup",
            user_select(team.backup if team else None),
            optional=True,
            hint="Escalation target; empty: the next eligible member.",
        ),
        {
            **input_block(
                ids.TEAM_MEMBERS,
                "Members",
                multi,
                optional=True,
                hint="Anyone picked who is not a rep yet becomes one (edit them under reps).",
            ),
            "dispatch_action": True,
        },
    ]
    room = MAX_BLOCKS - len(blocks) - (1 if len(members) > MAX_BLOCKS - len(blocks) else 0)
    for member in members[:room]:
        blocks.append(
            input_block(
                f"weight:{member['user']}",
                f"Weight of {_rep_label(config, member['user'])}",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "1",
                    "max_value": "100",
                    "initial_value": str(member["weight"]),
                },
                optional=True,
            )
        )
    if len(members) > room:  # their weights are kept as they are (chosen_members)
        hidden = len(members) - room
        blocks.append(note(f"_{hidden} more members keep their weights: edit them in YAML._"))
    meta = {"base": version, "team": team.name if team else None}
    return modal(ids.ADMIN_TEAM, "Edit team" if team else "New team", blocks, meta, "Save")


def team_members(team: TeamConfig | None) -> list[dict[str, Any]]:
    return [{"user": m.user, "weight": m.weight} for m in team.members] if team else []


def chosen_members(
    values: Values, previous: TeamConfig | None, *, strict: bool = True
) -> list[dict[str, Any]]:
    """The members picked, each with the weight typed, else their old weight, else 1.
    `strict`: a weight that is not a whole number is an error (on save), not a guess."""
    old_weights = {member["user"]: member["weight"] for member in team_members(previous)}
    members = []
    errors: dict[str, str] = {}
    for user in value_of(values, ids.TEAM_MEMBERS).get("selected_users") or []:
        typed = value_of(values, f"weight:{user}").get("value")
        weight = old_weights.get(user, 1)
        if typed not in (None, ""):
            try:
                weight = int(typed)
            except ValueError:
                errors[f"weight:{user}"] = "expected a whole number from 1 to 100"
        members.append({"user": user, "weight": weight})
    if errors and strict:
        raise FormError(errors)
    return members


def parse_team_form(values: Values, previous: TeamConfig | None) -> dict[str, Any]:
    """The team fragment. Fields the modal does not show (business hours...) are kept
    from `previous`."""
    members = chosen_members(values, previous)
    kept = previous.model_dump(mode="json", by_alias=True, exclude_none=True) if previous else {}
    team = {
        **{k: v for k, v in kept.items() if k not in TEAM_FIELDS},
        "name": string_of(values, "name") or "",
        "method": selected_of(values, "method") or "push",
        "strategy": selected_of(values, "strategy") or "round_robin",
        "members": members,
    }
    optional = {
        "channel": value_of(values, "channel").get("selected_conversation"),
        "manager": value_of(values, "manager").get("selected_user"),
        "backup": value_of(values, "backup").get("selected_user"),
    }
    team.update({key: value for key, value in optional.items() if value})
    return team


class TeamScreen(AdminBase):
    """The team screen's handlers (mixed into AdminListeners)."""

    async def open_team(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        action = body["actions"][0]
        name = (action.get("selected_option") or {}).get("value")
        version, config = await self.admin.current()
        team = config.team(name) if config and name else None
        if team is None or team.manager != body["user"]["id"]:
            await self.admin.open_admin(body["user"]["id"])
        await client.views_push(
            trigger_id=body["trigger_id"], view=team_modal(version, config, team)
        )

    async def redraw_weights(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Members were picked in the team modal: show a weight input for each. Nothing
        is saved here (the save checks authorization), so this only redraws."""
        view = body["view"]
        meta = metadata(view)
        _, config = await self.admin.current()
        previous = config.team(meta["team"]) if config and meta.get("team") else None
        members = chosen_members(view["state"]["values"], previous, strict=False)
        redrawn = team_modal(meta.get("base"), config, previous, members)
        redrawn["private_metadata"] = view["private_metadata"]
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=redrawn)
        except SlackApiError as error:
            if error.response.get("error") != "hash_conflict":
                raise

    async def submit_team(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = metadata(view)
        original = meta.get("team")
        notices: list[str] = []

        async def work() -> Saved:
            _, config = await self.admin.current()
            previous = config.team(original) if config and original else None
            team = parse_team_form(view["state"]["values"], previous)
            saved = await self.admin.change(
                user,
                lambda document: upsert_team(document, original, team),
                f"team {team['name']}"
                + (f" (was {original})" if original and original != team["name"] else ""),
                base=meta.get("base"),
                touches=("teams", original or team["name"]),
                admin_only=False,  # managers may change their team's members
            )
            if team.get("channel"):  # join it now; say at once what needs an /invite
                state = await self.membership.check(team["name"], team["channel"])
                if state.needs_admin:
                    notices.append(invite_request(state))
                    admins = config.admins if config else []
                    await self.membership.tell_admins({user, *admins}, [state])
            return saved

        await self._submit(ack, "Team saved", work, TEAM_FIELDS, "name", notices)
