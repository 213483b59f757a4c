"""`leadrouter serve` checks its setup at start and says what is wrong in one line.

Why: a wrong token, a missing scope or a bot left out of a private channel used to show
only when the first lead arrived (as a log line repeated every minute), and a missing or
changed configuration routed leads to nobody without a word. Each case here runs the
real command or the real start-up against the fake Slack and reads what a person would:
the one line and the exit code the README documents.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.app import Application
from bot.cli import main
from bot.settings import load_settings
from bot.startup_checks import REQUIRED_BOT_SCOPES, StartupError, start_up
from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-the-right-token"
CONFIG = {
    "version": 1,
    "admins": ["U0ADMIN"],
    "reps": [{"user": "U0ALICE"}, {"user": "U0BOB"}],
    "teams": [
        {
            "name": "sdr",
            "channel": "C0SDR",
            "method": "pull",
            "members": [{"user": "U0ALICE"}, {"user": "U0BOB"}],
        }
    ],
    "rules": [{"name": "everyone else", "then": {"team": "sdr"}}],
}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, slack: FakeSlack) -> Path:
    """Settings for `serve` against the fake Slack and a new SQLite file; returns its path."""
    monkeypatch.chdir(tmp_path)  # no .env
    slack.invite("C0SDR")
    database = tmp_path / "lr.db"
    for name, value in {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": slack.url,
        "LEADROUTER_API_KEYS": "web:web-secret-1",
        "LEADROUTER_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "LEADROUTER_LOG_FORMAT": "text",
        "LEADROUTER_HOST": "127.0.0.1",
        "LEADROUTER_PORT": str(_free_port()),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SLACK_APP_TOKEN", "LEADROUTER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return database


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write(path: Path, config: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _exit_code_and_stderr(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run `leadrouter ARGV` in this process; the logging it configures is put back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return int(exited.value.code or 0), capsys.readouterr().err


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "leadrouter.startup" and record.levelno >= logging.WARNING
    ]


async def _start_up() -> Application:
    application = Application(load_settings())
    try:
        await start_up(application)
    finally:
        await application.db.dispose()
    return application


@pytest.mark.usefixtures("env")
def test_a_bad_token_stops_serve_with_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-or-mistyped")
    code, stderr = _exit_code_and_stderr(capsys, "serve")
    assert code == 3
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("leadrouter: Slack refused SLACK_BOT_TOKEN (invalid_auth)")
    assert "xoxb-revoked-or-mistyped" not in stderr


@pytest.mark.usefixtures("env")
def test_a_missing_scope_stops_serve_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], slack: FakeSlack
) -> None:
    granted = REQUIRED_BOT_SCOPES - {"users:read.email", "groups:history"}
    monkeypatch.setattr(slack, "manifest", replace(slack.manifest, bot_scopes=granted))
    code, stderr = _exit_code_and_stderr(capsys, "serve")
    assert code == 3
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith("leadrouter: the bot token lacks the scope(s) groups:history, users:read.email")
    )


def test_a_private_channel_without_the_bot_stops_serve(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    slack: FakeSlack,
) -> None:
    private = {**CONFIG, "teams": [{**CONFIG["teams"][0], "channel": "G0SDR"}]}  # type: ignore[index, dict-item]
    monkeypatch.setenv("LEADROUTER_CONFIG", str(_write(env.with_name("c.yml"), private)))
    slack.add_channel("G0SDR", "sdr-leads", private=True)
    code, stderr = _exit_code_and_stderr(capsys, "serve")
    assert code == 3
    assert stderr.strip().splitlines()[-1] == (
        "leadrouter: team sdr: the bot is not in the private channel G0SDR (or no such "
        "channel): type /invite @Leadrouter there, or correct the channel"
    )


async def test_a_channel_that_does_not_exist_stops_the_start(
    env: Path, monkeypatch: pytest.MonkeyPatch, slack: FakeSlack
) -> None:
    monkeypatch.setenv("LEADROUTER_CONFIG", str(_write(env.with_name("c.yml"), CONFIG)))
    slack.fail("conversations.join", "channel_not_found", status=200, times=None)
    with pytest.raises(StartupError, match=r"^team sdr: channel C0SDR is not found"):
        await _start_up()


async def test_a_public_channel_without_the_bot_is_no_problem(
    env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The app joins public team channels itself once it runs."""
    public = {**CONFIG, "teams": [{**CONFIG["teams"][0], "channel": "C0PUBLIC"}]}  # type: ignore[index, dict-item]
    monkeypatch.setenv("LEADROUTER_CONFIG", str(_write(env.with_name("c.yml"), public)))
    with caplog.at_level(logging.INFO, logger="leadrouter.startup"):
        await _start_up()
    assert not _warnings(caplog)


async def test_no_configuration_is_said_loudly_with_the_database_path(
    env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="leadrouter.startup"):
        await _start_up()
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert warnings[0].startswith(f"NO CONFIGURATION in SQLite file {env}:")
    assert "leadrouter config import FILE" in warnings[0]


async def test_a_changed_configuration_file_is_reported_not_applied(
    env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(env.with_name("config.yml"), CONFIG)
    monkeypatch.setenv("LEADROUTER_CONFIG", str(path))
    await _start_up()  # the first start loads the file as version 1
    changed = {**CONFIG, "teams": [{**CONFIG["teams"][0], "strategy": "least_loaded"}]}  # type: ignore[index, dict-item]
    _write(path, changed)
    with caplog.at_level(logging.INFO, logger="leadrouter.startup"):
        await _start_up()
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"LEADROUTER_CONFIG {path} differs from the live configuration (version 1)"
    )
    assert f"`leadrouter config import {path}`" in warnings[0]
    assert "teams[sdr].strategy: round_robin → least_loaded" in warnings[0]


async def test_an_unchanged_configuration_file_raises_no_warning(
    env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LEADROUTER_CONFIG", str(_write(env.with_name("config.yml"), CONFIG)))
    await _start_up()
    with caplog.at_level(logging.INFO, logger="leadrouter.startup"):
        await _start_up()
    assert not _warnings(caplog)
    assert any("is the live configuration (version 1)" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("env")
def test_import_without_a_configuration_stores_nothing_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("email,lead_type\njo@prospect.io,demo_request\n", encoding="utf-8")
    code, stderr = _exit_code_and_stderr(capsys, "import", str(leads))
    assert code == 2
    assert stderr.strip().startswith(f"leadrouter: no configuration in SQLite file {tmp_path}")


def test_the_required_scopes_are_the_manifests() -> None:
    for name in ("manifest.yml", "manifest.socket-mode.yml"):
        manifest = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
        assert set(manifest["oauth_config"]["scopes"]["bot"]) == REQUIRED_BOT_SCOPES, name


@pytest.mark.usefixtures("env")
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "lr.db"
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite+aiosqlite:///{missing}")
    code, stderr = _exit_code_and_stderr(capsys, "migrate")
    assert code == 2
    assert stderr.strip().splitlines() == [
        "leadrouter: the database failed: (sqlite3.OperationalError) unable to open database "
        "file (LEADROUTER_DATABASE_URL)"
    ]


@pytest.mark.usefixtures("env")
def test_a_port_in_use_stops_serve_before_it_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], slack: FakeSlack
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("LEADROUTER_PORT", str(port))
        code, stderr = _exit_code_and_stderr(capsys, "serve")
    assert code == 2
    assert (
        stderr.strip().splitlines()[-1].startswith(f"leadrouter: cannot listen on 127.0.0.1:{port}")
    )
    assert slack.calls == []  # nothing was started
