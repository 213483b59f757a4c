"""`leadrouter intake test PROFILE FILE`: the lead a payload would become, every
problem, nothing stored; exit 0 (all valid), 1 (problems), 2 (unreadable, unknown)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from bot.cli import run
from bot.intake_command import intake_test_command
from domain.config import Config, load_config

FIXTURES = Path(__file__).parent.parent / "fixtures" / "intake"


def output_of(profile: str, path: Path, config: Config | None = None) -> tuple[int, str]:
    console = Console(record=True, width=200)
    code = intake_test_command(profile, path, config or Config(), console)
    return code, console.export_text()


def test_a_valid_payload_prints_the_lead_and_exits_0() -> None:
    code, text = output_of("typeform", FIXTURES / "typeform_form_response.json")
    assert code == 0
    assert "a valid lead" in text
    assert "grace@navy.example" in text and "demo_request" in text
    assert "nothing stored" in text


def test_problems_are_listed_per_record_and_exit_1() -> None:
    code, text = output_of("salesforce", FIXTURES / "salesforce_outbound_message.xml")
    assert code == 1
    assert "Record 1: a valid lead" in text
    assert "Record 2: not a lead: 1 problem(s)" in text
    assert "email: is not an email address" in text


def test_a_lead_type_the_configuration_does_not_know_is_a_problem(tmp_path: Path) -> None:
    payload = tmp_path / "lead.json"
    payload.write_text(json.dumps({"email": "a@example.com", "lead_type": "webinar"}))
    code, text = output_of("generic", payload)
    assert code == 1
    assert "lead_type: unknown lead type" in text
    config = load_config("slas: {webinar: {respond_within: 1h}}")
    assert output_of("generic", payload, config)[0] == 0


def test_unknown_profile_and_unreadable_file_exit_2(tmp_path: Path) -> None:
    code, text = output_of("pardot", FIXTURES / "generic_lead.json")
    assert code == 2
    assert "hubspot" in text
    assert output_of("generic", tmp_path / "missing.json")[0] == 2


def test_a_body_without_records_exits_1(tmp_path: Path) -> None:
    payload = tmp_path / "empty.json"
    payload.write_text('{"object": "page", "entry": []}')
    code, text = output_of("meta", payload)
    assert code == 1
    assert "email or phone is required" in text


def test_the_command_line_uses_a_candidate_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yml"
    config.write_text("intake_profiles: [{name: webinar, fields: {email: who.mail}}]\n")
    payload = tmp_path / "lead.json"
    payload.write_text('{"who": {"mail": "pat@example.com"}}')
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/unused.db")
    args = ["intake", "test", "webinar", str(payload), "--config", str(config)]
    assert run(args) == 0
    assert not (tmp_path / "unused.db").exists()
