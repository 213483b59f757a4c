"""Settings from the environment (and an optional `.env`), named as CONTRACT.md fixes them."""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.api_keys import ApiKey, parse_api_keys

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./leadrouter.db"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=False)

    slack_bot_token: str | None = Field(default=None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: str | None = Field(
        default=None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: str | None = Field(default=None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str | None = Field(default=None, validation_alias=_env("SLACK_API_URL"))
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, validation_alias=_env("LEADROUTER_DATABASE_URL")
    )
    host: str = Field(default="0.0.0.0", validation_alias=_env("LEADROUTER_HOST"))
    port: int = Field(default=3000, ge=1, le=65535, validation_alias=_env("LEADROUTER_PORT"))
    api_keys_text: str = Field(default="", validation_alias=_env("LEADROUTER_API_KEYS"))
    config_path: Path | None = Field(default=None, validation_alias=_env("LEADROUTER_CONFIG"))
    retention_days: int | None = Field(
        default=None, ge=1, validation_alias=_env("LEADROUTER_RETENTION_DAYS")
    )
    rate_limit_text: str = Field(default="600/min", validation_alias=_env("LEADROUTER_RATE_LIMIT"))
    log_format: Literal["json", "text"] | None = Field(
        default=None, validation_alias=_env("LEADROUTER_LOG_FORMAT")
    )

    @field_validator("retention_days", mode="before")
    @classmethod
    def _retention(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.lower() or None if isinstance(value, str) else value

    @field_validator("rate_limit_text")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    @property
    def rate_limit(self) -> RateLimit | None:
        return parse_rate_limit(self.rate_limit_text)

    @property
    def retention(self) -> timedelta | None:
        return timedelta(days=self.retention_days) if self.retention_days else None

    def secrets(self) -> list[str]:
        """Every configured secret value, so logging can redact them wherever they appear."""
        values = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token]
        values += [key.secret for key in self.api_keys]
        values.append(make_url(self.database_url).password)
        return [value for value in values if value]

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"is not a database URL (e.g. {DEFAULT_DATABASE_URL})") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("must be a SQLite or PostgreSQL URL")
        if url.get_backend_name() == "postgresql" and url.get_driver_name() != "asyncpg":
            raise ValueError("PostgreSQL URLs must use the async driver: postgresql+asyncpg://…")
        folder = (
            Path(url.database).parent
            if url.get_backend_name() == "sqlite" and url.database
            else None
        )
        if folder is not None and not folder.is_dir():
            raise ValueError(f"names a SQLite file in {folder}, which is not a directory")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL ending in /api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value or None

    @field_validator("api_keys_text")
    @classmethod
    def _keys(cls, value: str) -> str:
        parse_api_keys(value)
        return value

    @property
    def api_keys(self) -> list[ApiKey]:
        return list(_parsed_api_keys(self.api_keys_text))

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def key_for(self, secret: str) -> ApiKey | None:
        """The key with this secret, compared in constant time against every key."""
        found = None
        for key in self.api_keys:
            if hmac.compare_digest(key.secret.encode(), secret.encode()):
                found = key
        return found

    def require_serve(self) -> None:
        """What `serve` cannot run without; raise SettingsError naming the variable."""
        if not self.slack_bot_token:
            raise SettingsError("SLACK_BOT_TOKEN is required to serve (xoxb-…)")
        if not self.socket_mode and not self.slack_signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET is required in HTTP mode")
        if not self.api_keys:
            raise SettingsError("LEADROUTER_API_KEYS is required for intake (name:secret,…)")

    slack_rate_scale: float = Field(
        default=1.0, gt=0, le=100, validation_alias=_env("LEADROUTER_SLACK_RATE_SCALE")
    )
    """Multiplies Slack's workspace-wide per-method budgets (a workspace granted more)."""


@functools.lru_cache(maxsize=4)
def _parsed_api_keys(text: str) -> tuple[ApiKey, ...]:
    """Parsed once per text: every API request looks its key up, and parsing cost more
    than the rest of the key check."""
    return tuple(parse_api_keys(text))


class SettingsError(Exception):
    """A setting is missing or malformed: shown as one line, not a traceback."""


@dataclass(frozen=True)
class RateLimit:
    """Requests per key: `requests` per `per_seconds`, in bursts of up to `requests`."""

    requests: int
    per_seconds: float


_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0}


def parse_rate_limit(text: str) -> RateLimit | None:
    """`600/min`, `20/s`, `5000/h`; `off` (or empty) for no limit."""
    text = text.strip().lower()
    if text in ("", "off", "none"):
        return None
    count, sep, period = text.partition("/")
    if not sep or not count.strip().isdigit() or int(count) < 1 or period.strip() not in _PERIODS:
        raise ValueError("expected N/s, N/min or N/h (e.g. 600/min), or off")
    return RateLimit(int(count), _PERIODS[period.strip()])


_ENV_NAMES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "SLACK_API_URL",
    "database_url": "LEADROUTER_DATABASE_URL",
    "host": "LEADROUTER_HOST",
    "port": "LEADROUTER_PORT",
    "api_keys_text": "LEADROUTER_API_KEYS",
    "config_path": "LEADROUTER_CONFIG",
    "retention_days": "LEADROUTER_RETENTION_DAYS",
    "rate_limit_text": "LEADROUTER_RATE_LIMIT",
    "log_format": "LEADROUTER_LOG_FORMAT",
}


def load_settings() -> Settings:
    """Read the environment; a bad value becomes one SettingsError line (never echoing it)."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = _ENV_NAMES.get(str(first["loc"][0]), str(first["loc"][0]))
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name} {message}") from None
