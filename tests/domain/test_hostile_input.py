"""What a stranger's form, or a careless configuration file, may not get past validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import load_config, validate_config
from domain.contact import control_character, phone_key
from domain.dedup import DedupKeys
from domain.durations import parse_duration
from domain.errors import InvalidInput
from domain.lead import parse_lead

T = datetime(2026, 12, 1, 9, tzinfo=UTC)


def refused(data: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_lead(data)
    return {error.path: error.message for error in caught.value.errors}


@pytest.mark.parametrize("field", ["email", "first_name", "company", "source", "external_id"])
@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x85", "\n"])
def test_control_characters_are_refused_in_every_text_field(field: str, character: str) -> None:
    data = {"email": "jane@acme.com", field: f"abc{character}"}
    problems = refused(data)
    assert "control character" in problems[field]


def test_free_text_in_attributes_may_span_lines_but_holds_no_other_control() -> None:
    lead = parse_lead({"email": "jane@acme.com", "attributes": {"message": "Hi,\nplease call"}})
    assert lead.attributes["message"] == "Hi,\nplease call"
    assert (
        "control character"
        in refused({"email": "a@acme.com", "attributes": {"m": "a\x00"}})["attributes"]
    )
    assert (
        "control character"
        in refused({"email": "a@acme.com", "attributes": {"a\nb": "x"}})["attributes"]
    )


def test_attributes_nested_too_deep_are_refused() -> None:
    deep: Any = "x"
    for _ in range(30):
        deep = [deep]
    assert (
        "levels deep"
        in refused({"email": "a@acme.com", "attributes": {"deep": deep}})["attributes"]
    )


@given(st.text(max_size=40))
def test_no_accepted_name_holds_a_control_character(name: str) -> None:
    try:
        lead = parse_lead({"email": "jane@acme.com", "first_name": name})
    except InvalidInput:
        return
    assert control_character(lead.first_name or "") is None


@pytest.mark.parametrize("email", ["a@x..io", "<script>@x.io", "a@b", "jane@acme.test", "a b@x.io"])
def test_loose_emails_are_refused(email: str) -> None:
    assert refused({"email": email})["email"] == "is not an email address"


def test_emails_are_normalised_by_the_validator() -> None:
    assert parse_lead({"email": "Jane.Doe@Acme.COM"}).email == "jane.doe@acme.com"


@pytest.mark.parametrize(
    ("phone", "country", "key"),
    [
        ("+1 (555) 867-5309", None, "+15558675309"),
        ("(555) 867-5309", "US", "+15558675309"),
        ("555.867.5309", "us", "+15558675309"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("555 0100", None, "5550100"),
    ],
)
def test_one_number_has_one_key(phone: str, country: str | None, key: str) -> None:
    assert phone_key(phone, country) == key


def test_phone_only_leads_are_the_same_lead_within_the_window() -> None:
    first = parse_lead({"phone": "+1 (555) 867-5309"})
    again = parse_lead({"phone": "555-867-5309", "country": "US"})
    other = parse_lead({"phone": "555-867-5310", "country": "US"})
    since = T - timedelta(hours=24)

    def keys(lead: Any, at: datetime) -> DedupKeys:
        return DedupKeys("form", None, None, lead.email, at, lead.phone_key)

    assert keys(again, T).duplicates(keys(first, T - timedelta(hours=1)), since)
    assert not keys(other, T).duplicates(keys(first, T - timedelta(hours=1)), since)
    assert not keys(again, T).duplicates(keys(first, T - timedelta(days=2)), since)
    with_email = parse_lead({"email": "x@acme.com", "phone": "+1 555 867 5309"})
    assert not keys(with_email, T).duplicates(keys(first, T - timedelta(hours=1)), since)


@pytest.mark.parametrize("text", ["99999999999d", "366d", "9999999999999999999999s"])
def test_absurd_durations_are_refused_without_a_crash(text: str) -> None:
    with pytest.raises(ValueError, match=r"at most 365d|like 90s"):
        parse_duration(text)


def config_text(body: str) -> str:
    return "version: 1\nreps: [{user: U0ALICE}]\n" + body


TEAM = "teams: [{name: sales, members: [{user: U0ALICE}]}]\n"
RULES = "rules: [{name: all, then: {team: sales}}]\n"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (config_text("admins: [U0A]\nadmins: [U0B]\n" + TEAM + RULES), "line 4", "twice"),
        (config_text(TEAM + RULES + "dedup_window: 99999999999d\n"), "dedup_window", "at most"),
        (
            config_text(TEAM + RULES + "slas: {mql: {respond_within: 0m}}\n"),
            "slas.mql.respond_within",
            "more than 0s",
        ),
        (config_text("teams: [{name: sales}]\n" + RULES), "teams[0].members", "no members"),
        (
            "version: 1\nreps: [{user: U0ALICE, capacity: 0}]\n" + TEAM + RULES,
            "teams[0].members",
            "capacity 0",
        ),
        ("x: " + "[" * 10_000 + "]" * 10_000, "line 1", "levels deep"),
    ],
)
def test_a_configuration_that_cannot_work_is_refused_with_its_path(
    text: str, where: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_config(text)
    assert any(
        error.path.startswith(where) and message in error.message for error in caught.value.errors
    ), caught.value.errors


def test_a_team_no_rule_routes_to_may_wait_for_its_members() -> None:
    config = validate_config(
        {
            "reps": [{"user": "U0ALICE"}],
            "teams": [{"name": "sales", "members": [{"user": "U0ALICE"}]}, {"name": "new"}],
            "rules": [{"name": "all", "then": {"team": "sales"}}],
        }
    )
    assert config.team("new") is not None
