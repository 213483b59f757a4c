"""`leadrouter webhooks replay --since` and `leadrouter webhooks test NAME`, end to end
through the command line against a database and a receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import CliError, run
from bot.webhooks_command import CommandError, parse_since
from tests.support.webhook_receiver import SECRET, WebhookReceiver

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def app_env(tmp_path: Path, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config.yml"
    config.write_text(f"webhooks: [{{name: crm, url: '{receiver.url}', secret_env: CRM_SECRET}}]\n")
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/lr.db")
    monkeypatch.setenv("CRM_SECRET", SECRET)
    assert run(["config", "import", str(config)]) == 0
    return config


def test_send_test_event_shows_the_answer_and_exits_by_it(
    app_env: Path, receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["webhooks", "test", "crm"]) == 0
    [delivery] = receiver.received()
    assert delivery.verified and delivery.type == "webhook.test"
    assert "HTTP 200" in capsys.readouterr().out
    receiver.answer(500)
    assert run(["webhooks", "test", "crm"]) == 1
    assert "HTTP 500: answer 500" in capsys.readouterr().out


def test_unknown_endpoint_or_missing_secret_is_a_usage_error(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CliError, match="no webhook endpoint 'erp'; known: crm"):
        run(["webhooks", "test", "erp"])
    monkeypatch.delenv("CRM_SECRET")
    with pytest.raises(CliError, match="set CRM_SECRET"):
        run(["webhooks", "test", "crm"])


def test_replay_counts_and_refuses_unknown_endpoints(
    app_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["webhooks", "replay", "--since", "2h"]) == 0
    assert capsys.readouterr().out.startswith("0 webhook deliveries")
    with pytest.raises(CliError, match="no webhook endpoint erp"):
        run(["webhooks", "replay", "--since", "2h", "--endpoint", "erp"])


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2h", NOW - timedelta(hours=2)),
        ("2026-12-01T09:00Z", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("2026-12-01T09:00", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    ],
)
def test_since_is_a_time_or_a_duration_back(text: str, moment: datetime) -> None:
    assert parse_since(text, NOW) == moment


def test_since_refuses_anything_else() -> None:
    with pytest.raises(CommandError, match="--since"):
        parse_since("yesterday", NOW)
