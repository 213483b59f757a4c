"""Who may change what, and the audit trail's readable diff."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.authorization import NotAllowed, authorize_change, is_admin
from domain.config import Config, validate_config
from domain.config_diff import diff_configs
from domain.config_edits import add_pto, delete_rule, move_rule, upsert_rule, upsert_team
from domain.errors import InvalidInput


def document() -> dict[str, Any]:
    return {
        "admins": ["U0ADMIN"],
        "reps": [{"user": "U0ALICE"}, {"user": "U0BOB"}, {"user": "U0CARA"}],
        "teams": [
            {"name": "sales", "manager": "U0MGR", "members": [{"user": "U0ALICE"}]},
            {"name": "sdr", "manager": "U0OTHER", "members": [{"user": "U0CARA"}]},
        ],
        "rules": [
            {"name": "big", "when": {"employees": {"gte": 500}}, "then": {"team": "sales"}},
            {"name": "rest", "then": {"team": "sdr"}},
        ],
    }


def changed(edit: Any) -> tuple[Config, Config]:
    before = document()
    after = document()
    edit(after)
    return validate_config(before), validate_config(after)


def set_pto(user_index: int) -> Any:
    def edit(doc: dict[str, Any]) -> None:
        doc["reps"][user_index]["pto"] = [{"from": "2026-12-01", "to": "2026-12-05"}]

    return edit


def add_member(doc: dict[str, Any]) -> None:
    doc["teams"][0]["members"].append({"user": "U0BOB", "weight": 2})


def change_strategy(doc: dict[str, Any]) -> None:
    doc["teams"][0]["strategy"] = "weighted"


def make_self_admin(doc: dict[str, Any]) -> None:
    doc["admins"].append("U0ALICE")


@pytest.mark.parametrize(
    ("actor", "edit", "allowed"),
    [
        ("U0ADMIN", change_strategy, True),
        ("U0ADMIN", add_member, True),
        ("U0ALICE", set_pto(0), True),  # own PTO
        ("U0ALICE", set_pto(1), False),  # someone else's
        ("U0MGR", set_pto(0), True),  # a member of the team they manage
        ("U0MGR", set_pto(2), False),  # a member of another team
        ("U0MGR", add_member, True),  # members of their own team
        ("U0OTHER", add_member, False),  # another manager's team
        ("U0MGR", change_strategy, False),  # anything beyond members and PTO
        ("U0ALICE", make_self_admin, False),
        ("U0STRANGER", set_pto(0), False),
    ],
)
def test_who_may_change_what(actor: str, edit: Any, allowed: bool) -> None:
    before, after = changed(edit)
    if allowed:
        authorize_change(actor, before, after, workspace_admin=False)
    else:
        with pytest.raises(NotAllowed):
            authorize_change(actor, before, after, workspace_admin=False)


def test_a_manager_cannot_smuggle_a_strategy_change_in_with_members() -> None:
    before, after = changed(lambda doc: (add_member(doc), change_strategy(doc)))
    with pytest.raises(NotAllowed, match="Only Leadrouter admins"):
        authorize_change("U0MGR", before, after, workspace_admin=False)


def test_workspace_admins_administer_only_until_admins_are_named() -> None:
    unnamed = validate_config({**document(), "admins": []})
    assert is_admin("U0WS", unnamed, workspace_admin=True)
    assert not is_admin("U0WS", unnamed, workspace_admin=False)
    assert is_admin("U0WS", None, workspace_admin=True)
    named = validate_config(document())
    assert not is_admin("U0WS", named, workspace_admin=True)
    assert is_admin("U0ADMIN", named, workspace_admin=False)


def test_diff_names_what_changed_by_name_not_position() -> None:
    before = document()
    after = document()
    after["teams"].insert(0, {"name": "new", "members": []})
    after["teams"][2]["manager"] = "U0BOSS"
    after["rules"].reverse()
    del after["reps"][1]
    lines = diff_configs(before, after)
    assert '+ teams[new]: {"name": "new", "members": []}' in lines
    assert "~ teams[sdr].manager: U0OTHER → U0BOSS" in lines
    assert "- reps[U0BOB]" in lines
    assert "~ rules order: big, rest → rest, big" in lines
    assert not any("teams[sales]" in line for line in lines)
    assert len(lines) == 4


def test_diff_of_equal_documents_is_empty_and_of_nothing_lists_everything() -> None:
    assert diff_configs(document(), document()) == []
    first = diff_configs(None, document())
    assert "+ teams[sales]" in " ".join(first) and "+ rules[rest]" in " ".join(first)


def test_diff_lines_stay_short() -> None:
    after = document()
    after["rules"][0]["when"] = {"state": {"in": [f"S{n}" for n in range(500)]}}
    lines = diff_configs(document(), after)
    assert lines[0].startswith("+ rules[big].when.state: ") and len(lines[0]) < 200
    assert lines[1] == '- rules[big].when.employees (was {"gte": 500})'
    assert len(lines) == 2


def test_renaming_a_team_follows_into_its_rules_and_new_members_become_reps() -> None:
    doc = document()
    team = {"name": "field", "manager": "U0MGR", "members": [{"user": "U0NEW", "weight": 2}]}
    assert upsert_team(doc, "sales", team) == "teams[0]"
    assert doc["rules"][0]["then"] == {"team": "field"}
    assert {"user": "U0NEW"} in doc["reps"]
    validate_config(doc)


def test_a_new_rule_goes_before_the_catch_all_unless_placed() -> None:
    doc = document()
    rule = {"name": "eu", "when": {"region": "EU"}, "then": {"team": "sdr"}}
    assert upsert_rule(doc, None, rule, None) == "rules[1]"
    assert [r["name"] for r in doc["rules"]] == ["big", "eu", "rest"]
    assert upsert_rule(doc, "eu", {**rule, "name": "europe"}, 1) == "rules[0]"
    assert [r["name"] for r in doc["rules"]] == ["europe", "big", "rest"]
    assert move_rule(doc, "europe", 5) == "rules[2]"  # clamped to the end
    assert [r["name"] for r in doc["rules"]] == ["big", "rest", "europe"]
    with pytest.raises(InvalidInput):
        validate_config(doc)  # the catch-all is no longer last: refused, not saved
    delete_rule(doc, "europe")
    with pytest.raises(InvalidInput, match="no rule named 'gone'"):
        delete_rule(doc, "gone")


def test_pto_for_someone_who_is_not_a_rep_is_refused() -> None:
    with pytest.raises(InvalidInput, match="is not a rep"):
        add_pto(document(), "U0GHOST", date(2026, 1, 1), date(2026, 1, 2))


_names = st.sampled_from(["a", "b", "c", "d"])
_teams = st.lists(
    st.fixed_dictionaries(
        {"name": _names, "strategy": st.sampled_from(["round_robin", "weighted"])},
        optional={"manager": st.sampled_from(["U0M1", "U0M2"])},
    ),
    max_size=4,
)
_documents = st.fixed_dictionaries(
    {"teams": _teams, "rules": st.lists(st.fixed_dictionaries({"name": _names}), max_size=4)},
    optional={
        "admins": st.lists(st.sampled_from(["U0A", "U0B"]), max_size=2),
        "slas": st.dictionaries(
            st.sampled_from(["mql", "demo_request"]),
            st.fixed_dictionaries(
                {},
                optional={
                    "respond_within": st.sampled_from(["5m", "1h"]),
                    "remind_at": st.lists(st.just("50%"), max_size=1),
                },
            ),
            max_size=2,
        ),
    },
)


@given(_documents, _documents)
def test_the_diff_is_empty_exactly_when_nothing_changed(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert (diff_configs(before, after) == []) == (before == after)
