"""Block Kit for the admin modals, and the pure parsing of what they submit.

Every form becomes a plain configuration fragment (the JSON form of the YAML file),
so `validate_config` judges a modal exactly as it judges the file; its error paths are
mapped back onto the modal's blocks (`response_action: errors`). Slack's limits: 100
blocks per modal, 100 options per static select (users and channels use Slack's own
selects, which page through the whole workspace), 3,000 characters per text.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import yaml

from bot.services.admin import HistoryEntry, Saved, mention
from bot.slack import action_ids as ids
from bot.slack.blocks import Blocks, View, escape, mrkdwn, plain_text, slack_date
from domain.config import Config, RepConfig, RuleConfig, TeamConfig
from domain.config_diff import show
from domain.config_edits import parse_when
from domain.errors import FieldError, InvalidInput
from domain.slack_limits import OPTION_TEXT, fit

MAX_BLOCKS = 100
MAX_OPTIONS = 100
ERROR_LIMIT = 300
STRATEGIES = ("round_robin", "weighted", "least_loaded")
METHODS = ("push", "pull", "pool")
ROUTE_TO = ("account_owner", "attendee")
NEW_LEAD_TYPE = "+new"  # the SLA picker's "a new lead type" choice
_LEAD_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
Values = dict[str, dict[str, dict[str, Any]]]

# Which modal block shows errors for which configuration field.
TEAM_FIELDS = {f: f for f in ("name", "channel", "method", "strategy", "manager", "backup")}
TEAM_FIELDS["members"] = "members"
REP_FIELDS = {
    "email": "email",
    "timezone": "timezone",
    "working_hours": "hours",
    "capacity": "capacity",
    "pto": "pto",
    "active": "active",
}
RULE_FIELDS = {"name": "name", "when": "when", "then": "team"}
SLA_FIELDS = {"respond_within": "respond_within", "remind_at": "remind_at"}
SLA_FIELDS["escalation"] = "escalation"
PTO_FIELDS = {"pto": "end"}


class FormError(Exception):
    """A form field that does not even parse; `errors` maps block ids to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# ------------------------------------------------------------------------- primitives


def _option(value: str, label: str | None = None) -> dict[str, Any]:
    """A choice whose label is cut to what Slack shows (75) while its value, what the
    handler reads back, stays exact (a team name is up to 80)."""
    shown = fit(label or value.replace("_", " "), OPTION_TEXT)
    return {"text": plain_text(shown), "value": value}


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label),
        "element": {"action_id": block_id, **element},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain_text(hint)
    return block


def _plain(initial: str | None = None, *, multiline: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    return element


def _select(choices: tuple[str, ...] | list[str], initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "options": [_option(choice) for choice in choices[:MAX_OPTIONS]],
    }
    if initial in choices:
        element["initial_option"] = _option(initial)
    return element


def _user_select(initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "users_select"}
    if initial:
        element["initial_user"] = initial
    return element


def _modal(
    callback_id: str, title: str, blocks: Blocks, metadata: dict[str, Any], submit: str | None
) -> View:
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain_text(title[:24]),
        "close": plain_text("Close"),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks[:MAX_BLOCKS],
    }
    if submit:
        view["submit"] = plain_text(submit)
    return view


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """What the modal was opened on (base version, the item's original name)."""
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _version_line(version: int | None) -> str:
    return f"configuration version {version}" if version is not None else "no configuration yet"


# ------------------------------------------------------------------------- menu


def admin_menu(
    version: int | None, config: Config | None, *, admin: bool, teams: list[str]
) -> View:
    """The `/leadrouter` modal: a jumping-off point (each choice pushes its own modal).
    A manager who is not an admin sees only the teams they manage."""
    blocks: Blocks = [
        {
            "type": "section",
            "text": mrkdwn(
                f"*Leadrouter* · {_version_line(version)}"
                + (
                    f" · {len(config.teams)} teams, {len(config.reps)} reps, "
                    f"{len(config.rules)} rules"
                    if config
                    else ""
                )
            ),
        }
    ]
    if admin:
        blocks.append(
            {
                "type": "actions",
                "block_id": "menu",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_NEW_TEAM,
                        "text": plain_text("New team"),
                    },
                    {"type": "button", "action_id": ids.ADMIN_RULES, "text": plain_text("Rules")},
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_HISTORY,
                        "text": plain_text("History"),
                    },
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_EXPORT,
                        "text": plain_text("Export YAML"),
                    },
                    {
                        "type": "button",
                        "action_id": ids.ADMIN_IMPORT,
                        "text": plain_text("Import YAML"),
                    },
                ],
            }
        )
    if teams:
        picker = (
            _select(teams, None)
            if len(teams) <= MAX_OPTIONS
            else {"type": "external_select", "min_query_length": 0}  # see team_options
        )
        blocks.append(
            {
                "type": "section",
                "block_id": "edit_team",
                "text": mrkdwn("Edit a team"),
                "accessory": {"action_id": ids.ADMIN_EDIT_TEAM, **picker},
            }
        )
    if admin:
        blocks.append(
            {
                "type": "section",
                "block_id": "edit_rep",
                "text": mrkdwn("Add or edit a rep"),
                "accessory": {"action_id": ids.ADMIN_EDIT_REP, "type": "users_select"},
            }
        )
        lead_types = [*sorted(config.lead_types() if config else []), NEW_LEAD_TYPE]
        picker = _select(lead_types[-MAX_OPTIONS:], None)
        picker["options"][-1] = _option(NEW_LEAD_TYPE, "+ a new lead type")
        blocks.append(
            {
                "type": "section",
                "block_id": "edit_sla",
                "text": mrkdwn("Edit the SLA of a lead type"),
                "accessory": {"action_id": ids.ADMIN_EDIT_SLA, **picker},
            }
        )
    return _modal(ids.ADMIN_MENU, "Leadrouter admin", blocks, {"base": version}, None)


def team_options(teams: list[str], typed: str) -> list[dict[str, Any]]:
    """Options for the external team select (more teams than a static select holds):
    those whose name contains what was typed, at most 100."""
    wanted = typed.strip().lower()
    return [_option(name, name) for name in teams if wanted in name.lower()][:MAX_OPTIONS]


def saved_view(title: str, saved: Saved, notices: list[str] | None = None) -> View:
    """What replaces a modal after a save: the new version, its readable diff, and what
    needs doing next (a private team channel to /invite the bot to)."""
    if not saved.changes:
        text = "Nothing changed: the configuration already says this."
    else:
        lines = "\n".join(escape(line) for line in saved.changes)
        text = f"Saved as configuration version {saved.version}.\n```{lines}```"
    blocks = [{"type": "section", "text": mrkdwn(text)}]
    blocks += [note(f":warning: {escape(notice)}") for notice in notices or []]
    return _modal(ids.ADMIN_SAVED, title, blocks, {}, None)


# ------------------------------------------------------------------------- team


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
        _input("name", "Team name", _plain(team.name if team else None)),
        _input(
            "channel",
            "Channel",
            channel,
            optional=True,
            hint="Where pull and pool leads are posted (needed for pull and pool).",
        ),
        _input("method", "Method", _select(METHODS, team.method.value if team else "push")),
        _input("strategy", "Strategy", _select(STRATEGIES, team.strategy if team else None)),
        _input("manager", "Manager", _user_select(team.manager if team else None), optional=True),
        _input(
            "backup",
            "Backup",
            _user_select(team.backup if team else None),
            optional=True,
            hint="Escalation target; empty: the next eligible member.",
        ),
        {
            **_input(
                ids.TEAM_MEMBERS,
                "Members",
                multi,
                optional=True,
                hint="Anyone picked who is not a rep yet becomes one (edit them under reps).",
            ),
            "dispatch_action": True,
        },
    ]
    room = MAX_BLOCKS - len(blocks)
    for member in members[:room]:
        blocks.append(
            _input(
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
    meta = {"base": version, "team": team.name if team else None}
    return _modal(ids.ADMIN_TEAM, "Edit team" if team else "New team", blocks, meta, "Save")


def _value(values: Values, block: str) -> dict[str, Any]:
    return values.get(block, {}).get(block, {})


def _string(values: Values, block: str) -> str | None:
    text = _value(values, block).get("value")
    return text.strip() or None if isinstance(text, str) else None


def _selected(values: Values, block: str) -> str | None:
    option = _value(values, block).get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


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
    for user in _value(values, ids.TEAM_MEMBERS).get("selected_users") or []:
        typed = _value(values, f"weight:{user}").get("value")
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
        "name": _string(values, "name") or "",
        "method": _selected(values, "method") or "push",
        "strategy": _selected(values, "strategy") or "round_robin",
        "members": members,
    }
    optional = {
        "channel": _value(values, "channel").get("selected_conversation"),
        "manager": _value(values, "manager").get("selected_user"),
        "backup": _value(values, "backup").get("selected_user"),
    }
    team.update({key: value for key, value in optional.items() if value})
    return team


# ------------------------------------------------------------------------- rep


def rep_modal(
    version: int | None,
    rep: RepConfig | None,
    user: str,
    profile: dict[str, Any] | None = None,
) -> View:
    """Add or edit a rep. A new rep's email and timezone start from their Slack
    `profile` (users.info), so working hours are read in the right zone."""
    profile = profile or {}
    email = rep.email if rep else profile.get("profile", {}).get("email")
    timezone = rep.timezone if rep else profile.get("tz") or "UTC"
    hours = (
        "; ".join(f"{days} {spans}" for days, spans in (rep.working_hours or {}).items())
        if rep
        else ""
    )
    pto = ", ".join(f"{r.start.isoformat()}..{r.end.isoformat()}" for r in (rep.pto if rep else []))
    capacity: dict[str, Any] = {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": "0",
    }
    if rep and rep.capacity is not None:
        capacity["initial_value"] = str(rep.capacity)
    active: dict[str, Any] = {"type": "checkboxes", "options": [_option("active", "Active")]}
    if rep is None or rep.active:
        active["initial_options"] = [_option("active", "Active")]
    blocks: Blocks = [
        {"type": "section", "text": mrkdwn(f"Rep <@{user}>")},
        _input("email", "Email", _plain(email), optional=True),
        _input(
            "timezone",
            "Timezone",
            _plain(timezone),
            hint="IANA name, e.g. America/New_York",
        ),
        _input(
            "hours",
            "Working hours",
            _plain(hours),
            optional=True,
            hint="e.g. mon-fri 09:00-17:30; sat 10:00-14:00 (empty: always on shift)",
        ),
        _input("capacity", "Capacity (max open leads)", capacity, optional=True),
        _input(
            "pto",
            "PTO",
            _plain(pto, multiline=True),
            optional=True,
            hint="Ranges like 2026-12-01..2026-12-05, comma separated; one day: 2026-12-24",
        ),
        _input("active", "Status", active, optional=True),
    ]
    meta = {"base": version, "rep": user}
    return _modal(ids.ADMIN_REP, "Rep", blocks, meta, "Save")


_HOURS = re.compile(r"^\s*([a-z,\-]+)\s+(.+?)\s*$", re.IGNORECASE)


def parse_rep_form(values: Values, user: str, previous: RepConfig | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    hours: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (_string(values, "hours") or "").split(";"))):
        match = _HOURS.match(part)
        if not match:
            errors["hours"] = f"expected days then hours, like mon-fri 09:00-17:30; got {part!r}"
            break
        hours[match.group(1).lower()] = match.group(2)
    pto = []
    for part in filter(None, (p.strip() for p in re.split(r"[,\n]", _string(values, "pto") or ""))):
        start, _, end = part.partition("..")
        try:
            first = date.fromisoformat(start.strip())
            last = date.fromisoformat(end.strip()) if end else first
        except ValueError:
            errors["pto"] = f"expected YYYY-MM-DD..YYYY-MM-DD, got {part!r}"
            break
        pto.append({"from": first.isoformat(), "to": last.isoformat()})
    capacity = _value(values, "capacity").get("value")
    if errors:
        raise FormError(errors)
    kept = previous.model_dump(mode="json", by_alias=True, exclude_none=True) if previous else {}
    rep: dict[str, Any] = {
        **{k: v for k, v in kept.items() if k not in REP_FIELDS},
        "user": user,
        "timezone": _string(values, "timezone") or "UTC",
        "pto": pto,
        "active": bool(_value(values, "active").get("selected_options")),
    }
    optional = {
        "email": _string(values, "email"),
        "working_hours": hours or None,
        "capacity": int(capacity) if capacity not in (None, "") else None,
    }
    rep.update({key: value for key, value in optional.items() if value is not None})
    return rep


# ------------------------------------------------------------------------- PTO


def pto_button() -> dict[str, Any]:
    """An actions block that opens the PTO modal: for App Home or any message."""
    return {
        "type": "actions",
        "block_id": "pto",
        "elements": [
            {"type": "button", "action_id": ids.OPEN_PTO, "text": plain_text("Set time off")}
        ],
    }


def pto_modal(user: str) -> View:
    """Time off for yourself, or (managers, admins) for someone else: checked on save."""
    blocks: Blocks = [
        _input("start", "From", {"type": "datepicker"}),
        _input("end", "To (inclusive)", {"type": "datepicker"}),
        _input(
            "user",
            "Who",
            _user_select(user),
            hint="Yourself; managers may choose their team's reps, admins anyone.",
        ),
    ]
    return _modal(ids.ADMIN_PTO, "Time off", blocks, {}, "Save")


def parse_pto_form(values: Values, caller: str) -> tuple[str, date, date]:
    picked = {block: _value(values, block).get("selected_date") for block in ("start", "end")}
    missing = {block: "Choose a date." for block, value in picked.items() if not value}
    if missing:
        raise FormError(missing)
    user = _value(values, "user").get("selected_user") or caller
    return user, date.fromisoformat(picked["start"]), date.fromisoformat(picked["end"])


# ------------------------------------------------------------------------- rules


def _rule_line(position: int, rule: RuleConfig) -> str:
    action = rule.then
    target = f"team *{escape(action.team)}*" if action.team else escape(action.route_to or "")
    extra = f" ({action.method.value})" if action.method else ""
    when = f"when `{escape(show(rule.when))}`" if rule.when else "everything else"
    return f"*{position}. {escape(rule.name)}*: {when} → {target}{extra}"


def rules_modal(version: int | None, config: Config | None, notice: str = "") -> View:
    """Every rule with an overflow menu (edit, move up, move down, delete). First match
    wins, so the order shown is the order applied."""
    blocks: Blocks = [
        {
            "type": "actions",
            "block_id": "rules_menu",
            "elements": [
                {"type": "button", "action_id": ids.ADMIN_ADD_RULE, "text": plain_text("Add rule")}
            ],
        }
    ]
    if notice:
        blocks.append({"type": "context", "elements": [mrkdwn(notice)]})
    rules = config.rules if config else []
    room = MAX_BLOCKS - len(blocks) - 1
    for position, rule in enumerate(rules[:room]):
        blocks.append(
            {
                "type": "section",
                "block_id": f"rule:{position}",
                "text": mrkdwn(_rule_line(position + 1, rule)),
                "accessory": {
                    "type": "overflow",
                    "action_id": ids.ADMIN_RULE_MENU,
                    "options": [
                        _option(f"{op}:{position}", label)
                        for op, label in (
                            ("edit", "Edit"),
                            ("up", "Move up"),
                            ("down", "Move down"),
                            ("delete", "Delete"),
                        )
                    ],
                },
            }
        )
    if len(rules) > room:
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn(f"{len(rules) - room} more: edit them in the YAML export.")],
            }
        )
    return _modal(ids.ADMIN_RULES, "Routing rules", blocks, {"base": version}, None)


def rule_modal(
    version: int | None, config: Config | None, rule: RuleConfig | None, position: int | None
) -> View:
    teams = [team.name for team in config.teams] if config else []
    when = (
        yaml.safe_dump(rule.when, default_flow_style=True, width=10_000).strip()
        if rule and rule.when
        else ""
    )
    position_input: dict[str, Any] = {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": "1",
    }
    if position is not None:
        position_input["initial_value"] = str(position + 1)
    blocks: Blocks = [
        _input("name", "Rule name", _plain(rule.name if rule else None)),
        _input(
            "when",
            "When (conditions)",
            _plain(when, multiline=True),
            optional=True,
            hint="e.g. {employees: {gte: 500}, country: US}; empty: the catch-all (last) rule",
        ),
        _input(
            "team", "Route to team", _select(teams, rule.then.team if rule else None), optional=True
        )
        if teams  # a select with no options is refused by Slack: a fresh install has none
        else note("_No teams yet: create one with *New team* to route to it._"),
        _input(
            "route_to",
            "Or route to",
            _select(ROUTE_TO, rule.then.route_to if rule else None),
            optional=True,
        ),
        _input(
            "method",
            "Method override",
            _select(METHODS, rule.then.method.value if rule and rule.then.method else None),
            optional=True,
        ),
        _input("position", "Position", position_input, optional=True, hint="1 is checked first"),
    ]
    meta = {"base": version, "rule": rule.name if rule else None}
    return _modal(ids.ADMIN_RULE, "Edit rule" if rule else "New rule", blocks, meta, "Save")


def parse_rule_form(
    values: Values, previous: RuleConfig | None
) -> tuple[dict[str, Any], int | None]:
    try:
        when = parse_when(_string(values, "when") or "")
    except InvalidInput as error:
        raise FormError({"when": str(error)}) from None
    kept = previous.then.model_dump(mode="json", exclude_none=True) if previous else {}
    then: dict[str, Any] = {k: v for k, v in kept.items() if k in ("strategy", "fallback_team")}
    for key in ("team", "route_to", "method"):
        if chosen := _selected(values, key):
            then[key] = chosen
    rule: dict[str, Any] = {"name": _string(values, "name") or "", "then": then}
    if when:
        rule["when"] = when
    position = _value(values, "position").get("value")
    return rule, int(position) if position not in (None, "") else None


# ------------------------------------------------------------------------- SLAs


def sla_modal(version: int | None, config: Config | None, lead_type: str | None) -> View:
    """The SLA of `lead_type` (the configured one, else the documents' default), or of
    a new lead type named in the modal (lead_type None)."""
    sla = config.sla_for(lead_type) if config and lead_type else None
    dumped = sla.model_dump(mode="json") if sla else {}
    steps = ", ".join(f"{step['after']} {step['do']}" for step in dumped.get("escalation") or [])
    named: Blocks = []
    if lead_type is None:
        hint = "lower case, e.g. webinar (leads send it as lead_type)"
        named = [_input("lead_type", "Lead type", _plain(), hint=hint)]
    blocks: Blocks = [
        *named,
        _input(
            "respond_within",
            "Respond within",
            _plain(dumped.get("respond_within")),
            hint="90s, 5m, 2h, 1d",
        ),
        _input(
            "remind_at",
            "Reminders",
            _plain(", ".join(dumped.get("remind_at", []))),
            optional=True,
            hint="e.g. 50%, 80% (or durations)",
        ),
        _input(
            "escalation",
            "Escalation steps",
            _plain(steps),
            optional=True,
            hint="e.g. 0m reassign, 0m notify_manager, 15m repost_to_channel",
        ),
    ]
    meta = {"base": version, "lead_type": lead_type}
    return _modal(ids.ADMIN_SLA, f"SLA: {lead_type or 'new type'}", blocks, meta, "Save")


def sla_lead_type(values: Values, lead_type: str | None) -> str:
    """The lead type being edited: fixed when the modal opened, else typed in it."""
    if lead_type:
        return lead_type
    typed = _string(values, "lead_type") or ""
    if not _LEAD_TYPE.match(typed):
        raise FormError({"lead_type": "lower-case letters, digits and _, e.g. webinar"})
    return typed


def parse_sla_form(values: Values) -> dict[str, Any]:
    sla: dict[str, Any] = {"respond_within": _string(values, "respond_within") or ""}
    reminders = [r.strip() for r in (_string(values, "remind_at") or "").split(",") if r.strip()]
    if reminders:
        sla["remind_at"] = reminders
    steps = []
    for part in filter(None, (p.strip() for p in (_string(values, "escalation") or "").split(","))):
        after, _, action = part.partition(" ")
        if not action.strip():
            raise FormError({"escalation": f"expected a delay then an action, got {part!r}"})
        steps.append({"after": after, "do": action.strip()})
    if steps:
        sla["escalation"] = steps
    return sla


# ------------------------------------------------------------------------- errors


def errors_for_blocks(
    errors: list[FieldError], prefix: str, fields: dict[str, str], fallback: str
) -> dict[str, str]:
    """validate_config's paths onto the modal's blocks: `teams[2].channel` -> `channel`.
    An error elsewhere (a rule naming a team this edit renamed away) goes, with its full
    path, to `fallback`, so nothing is silently dropped."""
    shown: dict[str, list[str]] = {}
    for error in errors:
        rest = error.path[len(prefix) :] if prefix and error.path.startswith(prefix) else None
        field = re.split(r"[.\[]", rest.lstrip("."), maxsplit=1)[0] if rest else ""
        block = fields.get(field)
        shown.setdefault(block or fallback, []).append(error.message if block else str(error))
    return {block: "; ".join(messages)[:ERROR_LIMIT] for block, messages in shown.items()}


# ------------------------------------------------------------------------- messages


def history_message(entries: list[HistoryEntry], current: int | None) -> dict[str, Any]:
    """The latest versions, newest first, each with its diff and a Roll back button."""
    blocks: Blocks = [{"type": "section", "text": mrkdwn("*Configuration history* (newest first)")}]
    for entry in entries[:20]:
        head = (
            f"*Version {entry.version}* · {slack_date(entry.created_at)} · "
            f"{mention(entry.actor)}" + (f" · {escape(entry.note)}" if entry.note else "")
        )
        diff = "\n".join(escape(line) for line in entry.changes[:15]) or "(no change)"
        if len(entry.changes) > 15:
            diff += f"\n… and {len(entry.changes) - 15} more"
        block: dict[str, Any] = {"type": "section", "text": mrkdwn(f"{head}\n```{diff}```")}
        if entry.version != current:
            block["accessory"] = {
                "type": "button",
                "action_id": ids.ADMIN_ROLLBACK,
                "value": str(entry.version),
                "text": plain_text(f"Roll back to {entry.version}"),
                "confirm": {
                    "title": plain_text("Roll back?"),
                    "text": mrkdwn(
                        f"Routing will use version {entry.version} again (saved as a new version)."
                    ),
                    "confirm": plain_text("Roll back"),
                    "deny": plain_text("Cancel"),
                },
            }
        blocks.append(block)
    return {"text": "Configuration history", "blocks": blocks}


def import_modal() -> View:
    blocks: Blocks = [
        {
            "type": "section",
            "text": mrkdwn(
                "Upload a configuration file (the YAML of `leadrouter config export`). It "
                "replaces the whole configuration, or changes nothing if any part is invalid."
            ),
        },
        _input(
            "file",
            "Configuration file",
            {"type": "file_input", "filetypes": ["yml", "yaml", "txt"], "max_files": 1},
        ),
    ]
    return _modal(ids.ADMIN_IMPORT, "Import configuration", blocks, {}, "Import")


def changes_text(saved: Saved, what: str) -> str:
    if not saved.changes:
        return f"{what}: nothing changed."
    lines = "\n".join(escape(line) for line in saved.changes[:30])
    return f"{what}: saved as configuration version {saved.version}.\n```{lines}```"


def note(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def info_modal(title: str, blocks: Blocks) -> View:
    """A modal that only shows something (history, an import's result, a refusal)."""
    return _modal(ids.ADMIN_INFO, title, blocks, {}, None)


def import_errors(errors: list[FieldError], total: int) -> Blocks:
    """Every error with its path (the first 50 when there are more); nothing was saved."""
    lines = "\n".join(escape(str(error)) for error in errors)
    more = f"\n… and {total - len(errors)} more" if total > len(errors) else ""
    return [
        note(f":x: The file was not imported; nothing changed. {total} problem(s):"),
        note(f"```{lines}{more}```"),
    ]
