"""The security settings: bad values stop start-up with one line naming the variable
and never echoing the value; `secrets()` lists what logging must redact.

Why: an operator's typo must not start a server without its limit, and a settings error
is printed to a terminal or a log, where a secret must never appear.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")  # no .env
    for name in ("LEADROUTER_RETENTION_DAYS", "LEADROUTER_RATE_LIMIT", "LEADROUTER_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LEADROUTER_RATE_LIMIT", "lots-of-secret-9", "LEADROUTER_RATE_LIMIT expected N/s"),
        ("LEADROUTER_RETENTION_DAYS", "0", "LEADROUTER_RETENTION_DAYS"),
        ("LEADROUTER_RETENTION_DAYS", "ninety", "LEADROUTER_RETENTION_DAYS"),
        ("LEADROUTER_LOG_FORMAT", "xml", "LEADROUTER_LOG_FORMAT"),
    ],
)
def test_bad_values_are_named_not_echoed(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value).startswith(message)
    assert value not in str(raised.value)


def test_defaults_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-bot-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.setenv("LEADROUTER_API_KEYS", "web:web-secret-1,crm:crm-secret-2")
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", "postgresql+asyncpg://lr:db-pass@db/lr")
    monkeypatch.setenv("LEADROUTER_RETENTION_DAYS", "90")
    settings = load_settings()
    assert settings.retention == timedelta(days=90)
    assert settings.rate_limit is not None and settings.rate_limit.requests == 600
    assert settings.log_format is None
    assert set(settings.secrets()) == {
        "xoxb-bot-token",
        "signing-secret",
        "web-secret-1",
        "crm-secret-2",
        "db-pass",
    }
