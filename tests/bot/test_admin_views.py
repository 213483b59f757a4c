"""The admin modals as pure functions: what a modal shows, submitted unchanged, parses
back to the same configuration (one schema for file and modals); Slack's limits hold;
validation paths land on the right field."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.admin.forms import (
    MAX_BLOCKS,
    MAX_OPTIONS,
    FormError,
    Values,
    errors_for_blocks,
    info_modal,
    metadata,
    note,
)
from bot.slack.admin.menu import admin_menu, team_options
from bot.slack.admin.rep import PTO_FIELDS, REP_FIELDS, parse_rep_form, pto_modal, rep_modal
from bot.slack.admin.rules import RULE_FIELDS, parse_rule_form, rule_modal, rules_modal
from bot.slack.admin.sla import SLA_FIELDS, parse_sla_form, sla_modal
from bot.slack.admin.team import TEAM_FIELDS, parse_team_form, team_modal
from bot.slack.admin.yaml_io import import_modal
from domain.config import validate_config
from domain.errors import FieldError

CONFIG = validate_config(
    {
        "admins": ["U0ADMIN"],
        "reps": [
            {
                "user": "U0ALICE",
                "email": "alice@example.com",
                "name": "Alice",
                "timezone": "America/New_York",
                "working_hours": {"mon-fri": "09:00-17:30", "sat": "10:00-14:00"},
                "capacity": 40,
                "pto": [{"from": "2026-12-01", "to": "2026-12-05"}],
                "active": False,
            },
            {"user": "U0BOB"},
        ],
        "teams": [
            {
                "name": "enterprise",
                "channel": "C0ENT",
                "method": "pull",
                "strategy": "weighted",
                "manager": "U0MGR",
                "backup": "U0BOB",
                "members": [{"user": "U0ALICE", "weight": 3}, {"user": "U0BOB"}],
                "business_hours": {"timezone": "UTC", "hours": {"mon-fri": "08:00-18:00"}},
            }
        ],
        "rules": [
            {
                "name": "big",
                "when": {"employees": {"gte": 500}, "country": {"in": ["US", "CA"]}},
                "then": {"team": "enterprise", "method": "push", "fallback_team": "enterprise"},
            },
            {"name": "rest", "then": {"team": "enterprise"}},
        ],
        "slas": {
            "demo_request": {
                "respond_within": "5m",
                "remind_at": ["50%", "80%"],
                "escalation": [
                    {"after": "0m", "do": "reassign"},
                    {"after": "15m", "do": "repost_to_channel"},
                ],
            }
        },
    }
)


def as_submitted(view: dict[str, Any]) -> Values:
    """The state Slack sends when the modal is submitted as it was opened."""
    values: Values = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "number_input"):
            state["value"] = element.get("initial_value")
        elif kind == "static_select":
            state["selected_option"] = element.get("initial_option")
        elif kind == "users_select":
            state["selected_user"] = element.get("initial_user")
        elif kind == "multi_users_select":
            state["selected_users"] = element.get("initial_users", [])
        elif kind == "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation")
        elif kind == "checkboxes":
            state["selected_options"] = element.get("initial_options", [])
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def dumped(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def test_a_team_modal_submitted_unchanged_gives_back_the_same_team() -> None:
    team = CONFIG.teams[0]
    view = team_modal(7, CONFIG, team)
    assert metadata(view) == {"base": 7, "team": "enterprise"}
    assert parse_team_form(as_submitted(view), team) == dumped(team)


def test_a_rep_modal_submitted_unchanged_gives_back_the_same_rep() -> None:
    rep = CONFIG.reps[0]
    view = rep_modal(7, rep, "U0ALICE")
    assert parse_rep_form(as_submitted(view), "U0ALICE", rep) == dumped(rep)


def test_a_rule_modal_submitted_unchanged_gives_back_the_same_rule_and_place() -> None:
    rule = CONFIG.rules[0]
    view = rule_modal(7, CONFIG, rule, 0)
    assert parse_rule_form(as_submitted(view), rule) == (dumped(rule), 1)


def test_an_sla_modal_submitted_unchanged_gives_back_the_same_sla() -> None:
    view = sla_modal(7, CONFIG, "demo_request")
    assert parse_sla_form(as_submitted(view)) == dumped(CONFIG.slas["demo_request"])


def test_new_members_weigh_one_and_typed_weights_win() -> None:
    team = CONFIG.teams[0]
    values = as_submitted(team_modal(1, CONFIG, team))
    values["members"]["members"]["selected_users"] = ["U0ALICE", "U0BOB", "U0NEW"]
    values["weight:U0BOB"]["weight:U0BOB"]["value"] = "5"
    members = parse_team_form(values, team)["members"]
    assert members == [
        {"user": "U0ALICE", "weight": 3},
        {"user": "U0BOB", "weight": 5},
        {"user": "U0NEW", "weight": 1},
    ]


@pytest.mark.parametrize(
    ("block", "typed", "expected"),
    [
        ("pto", "2026-12-01 to 2026-12-05", "expected YYYY-MM-DD..YYYY-MM-DD"),
        ("hours", "weekdays", "expected days then hours"),
    ],
)
def test_unparseable_rep_fields_are_named(block: str, typed: str, expected: str) -> None:
    values = as_submitted(rep_modal(1, None, "U0NEW"))
    values[block][block]["value"] = typed
    with pytest.raises(FormError) as caught:
        parse_rep_form(values, "U0NEW", None)
    assert expected in caught.value.errors[block]


def test_unparseable_escalation_and_conditions_are_named() -> None:
    values = as_submitted(sla_modal(1, CONFIG, "mql"))
    values["escalation"]["escalation"]["value"] = "reassign"
    with pytest.raises(FormError, match="expected a delay then an action"):
        parse_sla_form(values)
    rule = as_submitted(rule_modal(1, CONFIG, None, None))
    for text, expected in (
        ("[1, 2]", "expected conditions"),
        ("{a: !!python/name:os.system x}", "YAML"),
    ):
        rule["when"]["when"]["value"] = text
        with pytest.raises(FormError, match=expected):
            parse_rule_form(rule, None)


def test_errors_land_on_their_fields_and_others_are_not_dropped() -> None:
    errors = [
        FieldError("teams[2].channel", "a pull team needs a channel"),
        FieldError("teams[2].members[1].user", "U0X is listed twice"),
        FieldError("teams[2].members[1].weight", "too heavy"),
        FieldError("rules[0].then.team", "no team named 'old'"),
    ]
    shown = errors_for_blocks(errors, "teams[2]", TEAM_FIELDS, "name")
    assert shown == {
        "channel": "a pull team needs a channel",
        "members": "U0X is listed twice; too heavy",
        "name": "rules[0].then.team: no team named 'old'",
    }


def test_modals_stay_within_slacks_limits_however_big_the_configuration() -> None:
    reps = [{"user": f"U0R{n:04d}"} for n in range(300)]
    teams = [
        {"name": f"team{n}", "members": [{"user": r["user"]} for r in reps]} for n in range(150)
    ]
    rules = [
        {"name": f"r{n}", "when": {"score": {"gte": n}}, "then": {"team": "team0"}}
        for n in range(300)
    ]
    big = validate_config(
        {
            "reps": reps,
            "teams": teams,
            "rules": [*rules, {"name": "rest", "then": {"team": "team1"}}],
        }
    )
    names = [team.name for team in big.teams]
    views = [
        team_modal(1, big, big.teams[0]),
        rules_modal(1, big),
        admin_menu(1, big, admin=True, teams=names),
        info_modal("History", [note("x")] * 300),
    ]
    for view in views:
        assert len(view["blocks"]) <= MAX_BLOCKS
    menu = views[2]
    (picker,) = [b["accessory"] for b in menu["blocks"] if b.get("block_id") == "edit_team"]
    assert picker["type"] == "external_select"  # 150 teams: more than a static select holds
    assert [o["value"] for o in team_options(names, "TEAM14")] == [
        "team14",
        *(f"team14{n}" for n in range(10)),
    ]
    assert len(team_options(names, "")) == MAX_OPTIONS
    assert "more: edit them in the YAML export" in str(views[1]["blocks"][-1])


def test_a_new_rep_starts_from_their_slack_profile() -> None:
    profile = {"tz": "Europe/Berlin", "profile": {"email": "new@example.com"}}
    values = as_submitted(rep_modal(1, None, "U0NEW", profile))
    assert parse_rep_form(values, "U0NEW", None) == {
        "user": "U0NEW",
        "email": "new@example.com",
        "timezone": "Europe/Berlin",
        "pto": [],
        "active": True,
    }
    known = as_submitted(rep_modal(1, CONFIG.reps[0], "U0ALICE", profile))
    assert known["timezone"]["timezone"]["value"] == "America/New_York"  # the config wins


@pytest.mark.parametrize(
    ("view", "fields", "fallback"),
    [
        (team_modal(1, CONFIG, None), TEAM_FIELDS, "name"),
        (rep_modal(1, None, "U0NEW"), REP_FIELDS, "timezone"),
        (rule_modal(1, CONFIG, None, None), RULE_FIELDS, "name"),
        (sla_modal(1, CONFIG, "mql"), SLA_FIELDS, "respond_within"),
        (sla_modal(1, CONFIG, None), SLA_FIELDS, "lead_type"),
        (pto_modal("U0ALICE"), PTO_FIELDS, "user"),
        (import_modal(), {}, "file"),
    ],
)
def test_errors_only_name_input_blocks_the_modal_has(
    view: dict[str, Any], fields: dict[str, str], fallback: str
) -> None:
    """Slack rejects a `response_action: errors` naming a block the view lacks, and the
    user would see a generic failure instead of the message."""
    inputs = {block["block_id"] for block in view["blocks"] if block["type"] == "input"}
    assert {*fields.values(), fallback} <= inputs
