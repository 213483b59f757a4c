"""Composition root: builds every part from Settings and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.api.routes import IntakeApi
from bot.clock import SystemClock
from bot.metrics import OUTBOX_DEPTH, REGISTRY
from bot.services.configuration import ConfigService
from bot.services.directory import resolve_emails
from bot.services.intake import IntakeService
from bot.services.leads import LeadActions
from bot.settings import Settings
from bot.slack.listeners import (
    register_lead_buttons,
    register_queue_command,
    register_reassign,
)
from bot.worker.alarm import TimerAlarm
from bot.worker.outbox import OutboxDispatcher
from bot.worker.timers import TimerSweeper
from domain.config import load_config
from storage.migrate import upgrade_to_head
from storage.uow import Database

log = logging.getLogger(__name__)
SLACK_API_URL = "https://slack.com/api/"


class Application:
    """One process: the Slack endpoint, the intake API and the background workers."""

    def __init__(self, settings: Settings, clock: SystemClock | None = None):
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.configs = ConfigService()
        self.client = AsyncWebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url or SLACK_API_URL,
            timeout=10,
        )
        self.dispatcher = OutboxDispatcher(
            self.db, self.client, self.clock.now, f"{socket.gethostname()}:{settings.port}"
        )
        self.intake = IntakeService(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.actions = LeadActions(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.timers = TimerSweeper(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.alarm = TimerAlarm(self.timers, self.clock.now)
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=not settings.socket_mode,
        )
        register_lead_buttons(self.bolt, self.actions)
        register_reassign(self.bolt, self.actions)
        register_queue_command(self.bolt, self.actions)
        self._tasks: list[asyncio.Task[Any]] = []
        self._socket_handler: Any = None

    async def prepare(self) -> None:
        """Migrate, and load LEADROUTER_CONFIG when the database has no configuration."""
        await upgrade_to_head(self.db.engine)
        path = self.settings.config_path
        if path is None:
            return
        config = load_config(await asyncio.to_thread(Path(path).read_text, encoding="utf-8"))
        config = await resolve_emails(config, self.client)
        async with self.db.transaction() as uow:
            await uow.configs.lock()
            if await uow.configs.latest_id() is not None:
                return
            version = await self.configs.save(
                uow, config, "LEADROUTER_CONFIG", self.clock.now(), f"loaded from {path}"
            )
        log.info("loaded configuration version %s from %s", version, path)

    def http_app(self) -> Starlette:
        handler = AsyncSlackRequestHandler(self.bolt)

        async def slack_events(request: Request) -> Response:
            return await handler.handle(request)

        routes = [
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            *IntakeApi(self.settings, self.intake, self.actions).routes(),
        ]
        return Starlette(routes=routes, lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        await self.start_workers()
        try:
            yield
        finally:
            await self.stop_workers()

    async def start_workers(self) -> None:
        # One connection pool for every Slack call; without it slack_sdk opens a new
        # session (and TCP/TLS connection) per call.
        self.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.client.timeout)
        )
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="outbox"))
        self.alarm.start()
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket_handler = AsyncSocketModeHandler(self.bolt, self.settings.slack_app_token)
            await self._socket_handler.connect_async()
            log.info("connected to Slack in Socket Mode")

    async def stop_workers(self) -> None:
        self.alarm.stop()
        self.dispatcher.stop()
        if self._socket_handler is not None:
            await self._socket_handler.close_async()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        if self.client.session is not None:
            await self.client.session.close()
        await self.db.dispose()

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, _request: Request) -> Response:
        try:
            async with self.db.snapshot() as uow:
                await uow.connection.execute(text("SELECT 1"))
                OUTBOX_DEPTH.set(await uow.outbox.depth())
        except Exception as error:
            return JSONResponse({"status": "unavailable", "error": type(error).__name__}, 503)
        return JSONResponse({"status": "ready"})

    async def metrics(self, _request: Request) -> Response:
        with contextlib.suppress(Exception):
            async with self.db.snapshot() as uow:
                OUTBOX_DEPTH.set(await uow.outbox.depth())
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
