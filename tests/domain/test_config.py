"""The configuration file: round trip, every error with its path, hostile input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.config import MAX_CONFIG_BYTES, dump_config, load_config, validate_config
from domain.errors import InvalidInput

EXAMPLE = Path(__file__).parents[2] / "examples" / "config.yml"


def base() -> dict[str, Any]:
    return {
        "reps": [{"user": "U0ALICE", "email": "alice@example.com"}, {"user": "U0BOB"}],
        "teams": [
            {"name": "sales", "channel": "C0SALES", "members": [{"user": "U0ALICE"}]},
        ],
        "rules": [
            {"name": "big", "when": {"employees": {"gte": 500}}, "then": {"team": "sales"}},
            {"name": "rest", "then": {"team": "sales"}},
        ],
    }


def errors_of(data: Any) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        validate_config(data)
    return [str(error) for error in caught.value.errors]


def test_export_then_import_gives_back_the_same_configuration() -> None:
    original = load_config(EXAMPLE.read_text())
    exported = dump_config(original)
    again = load_config(exported)
    assert again == original
    assert dump_config(again) == exported


def test_the_export_is_canonical_and_plain_yaml() -> None:
    exported = dump_config(load_config(EXAMPLE.read_text()))
    assert "respond_within: 5m" in exported
    assert "!!" not in exported and "&" not in exported
    assert yaml.safe_load(exported)["teams"][0]["name"] == "enterprise"


def test_a_valid_configuration_loads() -> None:
    config = validate_config(base())
    assert config.team("sales") is not None
    assert config.rep("alice@example.com") is config.rep("U0ALICE")


def with_rules(*rules: dict[str, Any]) -> dict[str, Any]:
    data = base()
    data["rules"] = [*rules, {"name": "rest", "then": {"team": "sales"}}]
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(surprise=1), "surprise: unknown key"),
        (lambda d: d["reps"][0].update(nickname="Al"), "reps[0].nickname: unknown key"),
        (lambda d: d["reps"][1].update(capacity="lots"), "reps[1].capacity: expected a number"),
        (lambda d: d["reps"][1].update(capacity=-1), "reps[1].capacity:"),
        (lambda d: d["reps"][1].update(timezone="Mars/Olympus"), "unknown timezone 'Mars/Olympus'"),
        (
            lambda d: d["reps"][1].update(working_hours={"mon-fri": "9-5"}),
            "reps[1].working_hours: expected hours like 09:00-17:30",
        ),
        (
            lambda d: d["reps"][1].update(working_hours={"weekdays": "09:00-17:00"}),
            "reps[1].working_hours: expected days like mon-fri",
        ),
        (
            lambda d: d["reps"][1].update(pto=[{"from": "2026-12-05", "to": "2026-12-01"}]),
            "reps[1].pto[0].to: must not be before `from`",
        ),
        (lambda d: d["reps"].append({"user": "U0ALICE"}), "reps[2]: U0ALICE is listed twice"),
        (lambda d: d["reps"].append({"name": "ghost"}), "reps[2]: needs `user` or `email`"),
        (lambda d: d["reps"][1].update(user="alice"), "reps[1].user: expected a Slack id"),
        (lambda d: d["teams"].append(dict(d["teams"][0])), "teams[1].name: duplicate team 'sales'"),
        (
            lambda d: d["teams"][0]["members"].append({"user": "U0NOBODY"}),
            "teams[0].members[1].user: U0NOBODY is not in `reps`",
        ),
        (
            lambda d: d["teams"][0]["members"].append({"user": "U0BOB", "weight": 0}),
            "teams[0].members[1].weight:",
        ),
        (
            lambda d: d["teams"][0].update(strategy="random"),
            "teams[0].strategy:",
        ),
        (
            lambda d: d["teams"][0].update(method="pull", channel=None),
            "teams[0].channel: a pull team needs a channel",
        ),
        (
            lambda d: d["rules"][0]["then"].update(team="missing"),
            "rules[0].then.team: no team named 'missing'",
        ),
        (
            lambda d: d["rules"][0]["then"].update(fallback_team="gone"),
            "rules[0].then.fallback_team: no team named 'gone'",
        ),
        (lambda d: d["rules"][0].update(then={}), "rules[0].then: needs `team` or `route_to`"),
        (lambda d: d["rules"].reverse(), "rules[0].when: only the last rule may omit `when`"),
        (
            lambda d: d["rules"][1].update(when={"country": "US"}),
            "rules[1].when: the last rule catches the rest: no `when`",
        ),
        (lambda d: d.update(rules=[]), "rules: at least one rule is needed"),
        (
            lambda d: d.update(accounts=[{"domain": "acme.com", "owner": "U0ZED"}]),
            "accounts[0].owner: U0ZED is not in `reps`",
        ),
        (lambda d: d.update(slas={"mql": {"respond_within": "soon"}}), "slas.mql.respond_within:"),
        (
            lambda d: d.update(slas={"mql": {"respond_within": "2h", "remind_at": ["150%"]}}),
            "slas.mql.remind_at:",
        ),
        (lambda d: d.update(version=2), "version:"),
        (lambda d: d.update(reps="everyone"), "reps:"),
    ],
)
def test_every_error_names_its_path(change: Any, expected: str) -> None:
    data = base()
    change(data)
    problems = errors_of(data)
    assert any(expected in problem for problem in problems), problems


def test_all_errors_of_a_kind_are_reported_at_once() -> None:
    shapes = base()
    shapes["reps"][1]["capacity"] = "lots"
    shapes["teams"][0]["strategy"] = "random"
    assert len(errors_of(shapes)) == 2
    references = base()
    references["rules"][0]["when"] = {"employees": {"gte": "x"}, "colour": "red"}
    references["rules"][0]["then"]["team"] = "missing"
    assert len(errors_of(references)) == 3


def test_shape_and_reference_errors_are_reported_together() -> None:
    data = base()
    data["reps"][1]["capacity"] = "lots"
    data["rules"][0]["then"]["team"] = "missing"
    assert len(errors_of(data)) == 2


def test_the_contracts_example_error_path() -> None:
    fine = [
        {"name": f"r{i}", "when": {"score": {"gte": i}}, "then": {"team": "sales"}}
        for i in range(3)
    ]
    bad = {"name": "bad", "when": {"employees": {"gte": "500+"}}, "then": {"team": "sales"}}
    data = with_rules(*fine, bad)
    assert "rules[3].when.employees.gte: expected a number" in errors_of(data)


@pytest.mark.parametrize(
    "text",
    [
        "- just\n- a list\n",
        "plain text",
        "42",
    ],
)
def test_a_file_that_is_not_a_mapping_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="must be a mapping"):
        load_config(text)


def test_broken_yaml_is_refused_with_a_location() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_config("teams: [\n  {name: sales\n")
    assert "not valid YAML" in str(caught.value)
    assert "line" in caught.value.errors[0].path


@pytest.mark.parametrize(
    "text",
    [
        "admins: !!python/object/apply:os.system ['echo pwned']\n",
        "admins: !!python/name:os.system\n",
        "reps: [!!python/object:domain.config.RepConfig {user: U0X}]\n",
        "teams: !custom {name: sales}\n",
    ],
)
def test_python_and_custom_tags_are_refused_without_running_anything(text: str) -> None:
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_config(text)


def test_a_ten_megabyte_file_is_refused_before_parsing() -> None:
    text = "admins: []\n" + "#" * (10 * 1024 * 1024)
    with pytest.raises(InvalidInput, match=f"larger than {MAX_CONFIG_BYTES} bytes"):
        load_config(text)
    with pytest.raises(InvalidInput, match="larger than"):
        load_config(text.encode())


ANCHORED = """
reps:
  - &alice {user: U0ALICE, timezone: America/New_York}
  - {<<: *alice, user: U0BOB}
teams: [{name: sales, members: [{user: U0ALICE}, {user: U0BOB}]}]
rules: [{name: all, then: {team: sales}}]
"""


def test_yaml_anchors_and_aliases_are_refused() -> None:
    with pytest.raises(InvalidInput, match="anchor"):
        load_config(ANCHORED)


def test_an_alias_bomb_is_refused_quickly_with_a_short_message() -> None:
    # 6**6 strings from a few hundred bytes; ten levels would be 60 million.
    lines = ['a0: &a0 ["U0AAA", "U0AAA", "U0AAA", "U0AAA", "U0AAA", "U0AAA"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 6)}]" for i in range(1, 6)]
    text = "bombs:\n" + "\n".join(f"  {line}" for line in lines) + "\nadmins: *a5\n"
    with pytest.raises(InvalidInput) as caught:
        load_config(text)
    assert len(str(caught.value)) < 100_000


def test_people_may_be_emails_and_channels_names_until_they_are_looked_up() -> None:
    data = base()
    data["admins"] = ["ops@example.com"]
    data["teams"][0].update(channel="#sales", manager="alice@example.com", backup="U0BOB")
    team = validate_config(data).team("sales")
    assert team is not None and (team.channel, team.manager) == ("#sales", "alice@example.com")
    data["teams"][0].update(channel="sales", manager="alice")
    assert errors_of(data) == [
        "teams[0].channel: expected a channel id like C0SALES or a #name, got 'sales'",
        "teams[0].manager: expected a member id like U0ALICE or an email, got 'alice'",
    ]
