"""Composition root: builds every part from Settings and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.api.intake_profile_routes import IntakeProfileApi
from bot.api.routes import IntakeApi
from bot.api.stats_routes import StatsApi
from bot.clock import SystemClock
from bot.http_limits import SLACK_MAX_BODY, BodyLimitMiddleware
from bot.logs import RequestIdMiddleware
from bot.metered_client import MeteredWebClient
from bot.metrics import OUTBOX_DEPTH, OUTBOX_OLDEST_AGE, REGISTRY
from bot.services.admin import AdminService
from bot.services.configuration import ConfigService
from bot.services.dead_letters import DeadLetterService
from bot.services.directory import is_workspace_admin, resolve_emails
from bot.services.intake import IntakeService
from bot.services.intake_profiles import IntakeProfileService
from bot.services.leads import LeadActions
from bot.services.privacy import PrivacyService
from bot.services.stats import StatsService, TimezoneCache
from bot.services.timers import TimerSweeper
from bot.services.webhook_tests import WebhookTests
from bot.services.weekly_digest import WeeklyDigestService
from bot.settings import Settings
from bot.slack.dedupe import DeliveryDedupe
from bot.slack.deps import SlackDeps
from bot.slack.registry import register_all
from bot.slack.stats_views import digest_message
from bot.worker.alarm import TimerAlarm
from bot.worker.outbox import OutboxDispatcher
from bot.worker.webhook_dispatcher import WebhookDispatcher
from domain.config import load_config
from storage.migrate import upgrade_to_head
from storage.uow import Database

log = logging.getLogger(__name__)
SLACK_API_URL = "https://slack.com/api/"
HOUSEKEEPING_EVERY = timedelta(minutes=10)  # retention erasure, old Slack delivery keys
DIGEST_CHECK_EVERY = timedelta(minutes=1)  # is a team's weekly digest hour here?


class Application:
    """One process: the Slack endpoint, the intake API and the background workers."""

    def __init__(self, settings: Settings, clock: SystemClock | None = None):
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.configs = ConfigService()
        self.client = MeteredWebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url or SLACK_API_URL,
            timeout=10,
        )
        self.dispatcher = OutboxDispatcher(
            self.db,
            self.client,
            self.clock.now,
            f"{socket.gethostname()}:{settings.port}",
            settings.slack_rate_scale,
        )
        self.webhooks = WebhookDispatcher(
            self.db, self.configs, self.clock.now, f"{socket.gethostname()}:{settings.port}"
        )
        self.db.on_webhooks = self.webhooks.wake
        self.dead_letters = DeadLetterService(
            self.db, self.configs, self.clock.now, self.dispatcher.wake
        )
        self.dispatcher.give_up = self.dead_letters.give_up
        self.intake = IntakeService(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.intake_profiles = IntakeProfileService(
            self.db, self.configs, self.clock.now, self.dispatcher.wake
        )
        self.actions = LeadActions(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.privacy = PrivacyService(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.timers = TimerSweeper(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.alarm = TimerAlarm(self.timers, self.clock.now)
        self.timezones = TimezoneCache(self.client, self.clock.now)
        self.stats = StatsService(
            self.db, self.configs, self.clock.now, self.dispatcher.wake, self.timezones.zone
        )
        self.weekly_digests = WeeklyDigestService(
            self.db,
            self.configs,
            self.clock.now,
            self.dispatcher.wake,
            self.stats,
            self.timezones.zone,
            digest_message,
        )
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=not settings.socket_mode,
        )
        self.dedupe = DeliveryDedupe(self.db, self.clock.now)
        if settings.socket_mode:
            self.bolt.use(self.dedupe.middleware)
        self.admin = AdminService(
            self.db,
            self.configs,
            self.clock.now,
            self.dispatcher.wake,
            lambda user: is_workspace_admin(self.client, user),
            lambda config: resolve_emails(config, self.client),
        )
        register_all(
            self.bolt,
            SlackDeps(
                self.actions,
                self.stats,
                self.admin,
                settings.slack_bot_token,
                WebhookTests(self.admin, self.clock.now),
            ),
        )
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

        intake_api = IntakeApi(self.settings, self.intake, self.actions, self.privacy)
        routes = [
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            *intake_api.routes(),
            *IntakeProfileApi(intake_api, self.intake_profiles).routes(),
            *StatsApi(self.settings, self.stats).routes(),
        ]
        return Starlette(
            routes=routes,
            lifespan=self._lifespan,
            middleware=[
                Middleware(RequestIdMiddleware),
                Middleware(BodyLimitMiddleware, path="/slack/events", limit=SLACK_MAX_BODY),
            ],
        )

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
        self._tasks.append(asyncio.create_task(self.webhooks.run(), name="webhooks"))
        self.alarm.start()
        self._periodic("weekly-digest", DIGEST_CHECK_EVERY, self.weekly_digests.queue_due)
        if self.settings.retention is not None:
            self._periodic(
                "retention", HOUSEKEEPING_EVERY, self.privacy.erase_expired, self.settings.retention
            )
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket_handler = AsyncSocketModeHandler(self.bolt, self.settings.slack_app_token)
            await self._socket_handler.connect_async()
            log.info("connected to Slack in Socket Mode")
            self._periodic("slack-deliveries", HOUSEKEEPING_EVERY, self.dedupe.forget_old)

    def _periodic(
        self, job_id: str, every: timedelta, job: Callable[..., Awaitable[Any]], *args: Any
    ) -> None:
        """Run `job` now and then every `every` on this replica (APScheduler logs a failure
        and the next run retries); every replica runs it, which is safe because each job
        claims its rows, or its outbox keys, in the database."""
        self.alarm.scheduler.add_job(
            job,
            "interval",
            args=list(args),
            seconds=every.total_seconds(),
            next_run_time=self.clock.now(),
            id=job_id,
            max_instances=1,
            coalesce=True,
        )

    async def stop_workers(self) -> None:
        self.alarm.stop()
        self.dispatcher.stop()
        self.webhooks.stop()
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
                oldest = await uow.outbox.oldest_pending_at()
            age = (self.clock.now() - oldest).total_seconds() if oldest else 0.0
            OUTBOX_OLDEST_AGE.set(max(age, 0.0))
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
