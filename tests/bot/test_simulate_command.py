"""`leadrouter simulate FILE.csv`: CSV mapping, per-row errors, tables and exit codes."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from bot.csv_leads import read_leads
from bot.simulate_command import SHOWN_ROWS, simulate_command
from domain.config import Config, validate_config
from domain.simulation import only_experiment

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def config(pro_team: str = "pro") -> Config:
    return validate_config(
        {
            "reps": [{"user": user} for user in ("U0ALICE", "U0BOB", "U0SAM")],
            "teams": [
                {"name": "pro", "members": [{"user": "U0ALICE"}, {"user": "U0BOB"}]},
                {"name": "sdr", "members": [{"user": "U0SAM"}]},
            ],
            "rules": [
                {
                    "name": "pro plan",
                    "when": {"attributes.plan": "pro"},
                    "then": {"team": pro_team},
                },
                {"name": "rest", "then": {"team": "sdr"}},
            ],
        }
    )


def run(path: Path, live: Config | None = None, *, show_all: bool = False) -> tuple[int, str]:
    output = io.StringIO()
    console = Console(file=output, width=250, color_system=None)
    code = simulate_command(path, config(), live, console, NOW, show_all=show_all)
    return code, output.getvalue()


def write(tmp_path: Path, text: str, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CSV = """\ufeffEmail,First Name,Employees,Plan,created_at
ann@a.com,Ann,120,pro,2026-03-02T10:00:00Z
ben@b.com,Ben,,free,2026-03-02T11:00:00
cat@c.com,Cat,30,Pro,2026-03-02T09:00:00+01:00
"""


def test_a_dry_run_prints_decisions_summaries_and_gini(tmp_path: Path) -> None:
    before = sorted(tmp_path.iterdir())
    code, text = run(write(tmp_path, CSV))
    assert code == 0
    assert "Simulated 3 leads" in text and "nothing stored, nobody notified" in text
    for expected in ("Decisions", "Per team", "Per rep", "Gini of leads per rep"):
        assert expected in text
    assert "cat@c.com" in text and "pro plan" in text and "U0SAM" in text
    assert "Against the live configuration" not in text
    assert sorted(tmp_path.iterdir()) == [*before, tmp_path / "leads.csv"]


def test_headers_map_to_fields_and_unknown_ones_to_attributes(tmp_path: Path) -> None:
    leads, errors = read_leads(write(tmp_path, CSV), {"mql"}, NOW)
    assert errors == []
    by_email = {item.lead.email: item for item in leads}
    ann = by_email["ann@a.com"]
    assert ann.lead.first_name == "Ann" and ann.lead.employees == 120
    assert ann.lead.attributes == {"plan": "pro"}
    assert by_email["ben@b.com"].lead.employees is None  # an empty cell is absent
    assert ann.at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert by_email["ben@b.com"].at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # naive is UTC
    assert by_email["cat@c.com"].at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert [item.row for item in leads] == [2, 3, 4]


def test_without_created_at_every_lead_arrives_now(tmp_path: Path) -> None:
    leads, _ = read_leads(write(tmp_path, "email,attributes.plan\na@a.com,pro\n"), {"mql"}, NOW)
    (item,) = leads
    assert item.at == NOW and item.lead.attributes == {"plan": "pro"}


def test_bad_rows_are_reported_by_row_number_and_the_run_goes_on(tmp_path: Path) -> None:
    text = (
        "email,employees,lead_type,created_at\n"
        "ok@a.com,10,mql,\n"
        "not-an-email,many,mql,\n"
        "\n"
        "late@a.com,5,webinar,\n"
        "when@a.com,5,mql,yesterday\n"
        "extra@a.com,5,mql,,surplus\n"
        "fine@a.com,,,\n"
    )
    code, output = run(write(tmp_path, text))
    assert code == 1
    assert "Simulated 2 leads" in output
    assert "Refused rows (4)" in output
    lines = [line for line in output.splitlines() if line.startswith("│ ")]
    refused = {tuple(cell.strip() for cell in line.strip("│").split("│")[:2]) for line in lines}
    assert {("3", "email"), ("3", "employees"), ("5", "lead_type"), ("6", "created_at")} <= refused
    assert ("7", "-") in refused  # more cells than columns


def test_decisions_are_truncated_unless_all_are_asked_for(tmp_path: Path) -> None:
    rows = "".join(f"lead{index}@a.com,pro\n" for index in range(SHOWN_ROWS + 5))
    path = write(tmp_path, "email,plan\n" + rows)
    _, short = run(path)
    assert "lead49@a.com" in short and "lead50@a.com" not in short
    assert "5 more decisions not shown: pass --all to see them" in short
    _, full = run(path, show_all=True)
    assert "lead54@a.com" in full and "not shown" not in full


def test_the_diff_against_live_lists_leads_that_would_land_elsewhere(tmp_path: Path) -> None:
    code, text = run(write(tmp_path, CSV), live=config(pro_team="sdr"))
    assert code == 0
    assert "Against the live configuration: 2 of 3 leads would change owner or team" in text
    assert "(2 change team)" in text
    assert "Leads that would land elsewhere" in text
    assert "sdr / U0SAM" in text and "pro / U0ALICE" in text


def test_an_unchanged_configuration_reports_no_changes(tmp_path: Path) -> None:
    _, text = run(write(tmp_path, CSV), live=config())
    assert "0 of 3 leads would change owner or team" in text
    assert "Leads that would land elsewhere" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"email,Email\na@a.com,b@b.com\n", "duplicate columns: email"),
        (b"email\n\xff\xfe\xfa\n", "codec can't decode"),
    ],
)
def test_an_unreadable_file_exits_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    code, text = run(path)
    assert code == 2
    assert message in text


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, text = run(tmp_path / "nope.csv")
    assert code == 2 and "Cannot read" in text


def test_an_experiment_preview_prints_each_arms_share_and_teams(tmp_path: Path) -> None:
    rows = "".join(f"l{i}@x.io,pro\n" for i in range(200))
    path = write(tmp_path, f"email,plan\n{rows}")
    experiment = {
        "name": "pro-to-sdr",
        "segment": {"attributes.plan": "pro"},
        "arms": [{"name": "A"}, {"name": "B", "team": "sdr"}],
        "end": "2026-01-01",  # over already: only a preview switches it on
        "state": "stopped",
    }
    document = config().model_dump(mode="json", by_alias=True, exclude_none=True)
    candidate = validate_config({**document, "experiments": [experiment]})
    output = io.StringIO()
    console = Console(file=output, width=250, color_system=None)
    code = simulate_command(path, only_experiment(candidate, "pro-to-sdr"), None, console, NOW)
    table = output.getvalue().split("Experiment arms")[1]
    assert code == 0
    arm_a = next(line for line in table.splitlines() if "│ A " in line)
    arm_b = next(line for line in table.splitlines() if "│ B " in line)
    assert "pro " in arm_a and "sdr " in arm_b
    assert "%" in arm_a and "%" in arm_b
