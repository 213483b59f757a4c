"""What every application service is given by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.configuration import ConfigService
from storage.uow import Database


class ApplicationService:
    """The database, the live configuration, the clock (injected, so tests set the time)
    and the outbox's doorbell (rung after a commit that queued Slack messages)."""

    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
    ):
        self.db = db
        self.configs = configs
        self.now = now
        self.wake_outbox = wake_outbox


class SlackCallingService(ApplicationService):
    """A service that also asks Slack itself (membership, availability): the Web API
    client beside the usual four."""

    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
        client: AsyncWebClient,
    ):
        super().__init__(db, configs, now, wake_outbox)
        self.client = client
