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

from bot.api.access import KeyGate
from bot.api.intake_profile_routes import IntakeProfileApi
from bot.api.routes import IntakeApi
from bot.api.stats_routes import StatsApi
from bot.bounded_files import read_text_limited
from bot.clock import SystemClock
from bot.http_limits import SLACK_MAX_BODY, BodyLimitMiddleware
from bot.logs import RequestIdMiddleware
from bot.metered_client import MeteredWebClient
from bot.metrics import OUTBOX_DEPTH, OUTBOX_OLDEST_AGE, REGISTRY
from bot.services.activity import ActivityService
from bot.services.admin import AdminService
from bot.services.away import AwayService
from bot.services.channel_membership import ChannelMembershipService
from bot.services.configuration import ConfigService
from bot.services.dead_letters import DeadLetterService
from bot.services.directory import is_workspace_admin, resolve_emails
from bot.services.experiments import ExperimentService
from bot.services.intake import IntakeService
from bot.services.intake_profiles import IntakeProfileService
from bot.services.leaderboard import LeaderboardService
from bot.services.leads import LeadActions
from bot.services.offers import OfferService
from bot.services.privacy import PrivacyService
from bot.services.pulls import PullService
from bot.services.qualification import Qualification
from bot.services.review import ReviewService
from bot.services.slack_availability import SlackAvailabilityRefresher
from bot.services.stats import StatsService, TimezoneCache
from bot.services.timers import TimerSweeper
from bot.services.user_status import gone_from_slack
from bot.services.webhook_tests import WebhookTests
from bot.services.weekly_digest import WeeklyDigestService
from bot.services.why import WhyService
from bot.settings import Settings
from bot.slack.availability_commands import controls
from bot.slack.dedupe import DeliveryDedupe
from bot.slack.deps import SlackDeps
from bot.slack.evidence_views import review_message
from bot.slack.home_tab import HomeTab
from bot.slack.leaderboard_views import leaderboard_message
from bot.slack.registry import register_all
from bot.slack.request_gate import SlackRequestGate
from bot.slack.stats_views import digest_message
from bot.worker.alarm import TimerAlarm
from bot.worker.outbox import OutboxDispatcher
from bot.worker.webhook_dispatcher import WebhookDispatcher
from domain.config import MAX_CONFIG_BYTES, load_config
from storage.migrate import upgrade_to_head
from storage.uow import Database

log = logging.getLogger(__name__)
SLACK_API_URL = "https://slack.com/api/"
HOUSEKEEPING_EVERY = timedelta(minutes=10)  # retention erasure, old Slack delivery keys
DIGEST_CHECK_EVERY = timedelta(minutes=1)  # is a team's weekly digest hour here?
# Is a rep's Slack availability due for a refresh (its own `refresh_every`), has a queued
# lead someone who can take it now (backfill)?
AVAILABILITY_EVERY = timedelta(seconds=5)
EVIDENCE_CHECK_EVERY = timedelta(minutes=10)  # guardrail breaches; the quarterly review DM


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
            # slack_sdk's default handler sends a request again after a connection reset,
            # so a post whose answer was lost went out twice. The outbox treats every lost
            # answer as "maybe sent" and looks it up before posting again instead.
            retry_handlers=[],
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
        self.qualification = Qualification(
            self.db, self.configs, self.clock.now, self.dispatcher.wake
        )
        self.activities = ActivityService(
            self.db, self.configs, self.clock.now, self.dispatcher.wake
        )
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
        self.leaderboards = LeaderboardService(
            self.db,
            self.configs,
            self.clock.now,
            self.dispatcher.wake,
            self.stats,
            leaderboard_message,
        )
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=not settings.socket_mode,
        )
        self.dedupe = DeliveryDedupe(self.db, self.clock.now)
        if settings.socket_mode:
            self.bolt.use(self.dedupe.middleware)
        self.offers = OfferService(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.away = AwayService(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        self.slack_availability = SlackAvailabilityRefresher(
            self.db, self.configs, self.clock.now, self.dispatcher.wake, self.client
        )
        self.admin = AdminService(
            self.db,
            self.configs,
            self.clock.now,
            self.dispatcher.wake,
            lambda user: is_workspace_admin(self.client, user),
            lambda config: resolve_emails(config, self.client),
        )
        self.membership = ChannelMembershipService(
            self.db, self.configs, self.clock.now, self.dispatcher.wake, self.client
        )
        self.home = HomeTab(
            self.stats, self.client, controls=lambda user, view: controls(self.away, user, view)
        )
        self.dispatcher.cards_changed = self.home.touch
        self.experiments = ExperimentService(
            self.db, self.configs, self.clock.now, self.dispatcher.wake
        )
        self.review = ReviewService(
            self.db,
            self.configs,
            self.clock.now,
            self.dispatcher.wake,
            lambda users: gone_from_slack(self.client, users),
            review_message,
        )
        self.why = WhyService(self.db, self.configs, self.clock.now, self.dispatcher.wake)
        register_all(
            self.bolt,
            SlackDeps(
                self.actions,
                self.stats,
                self.admin,
                settings.slack_bot_token,
                self.offers,
                self.away,
                PullService(self.actions),
                self.slack_availability,
                self.home,
                self.membership,
                self.qualification,
                self.experiments,
                self.review,
                self.why,
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
        text = await asyncio.to_thread(read_text_limited, Path(path), MAX_CONFIG_BYTES)
        config = load_config(text)
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
        slack_gate = SlackRequestGate(
            self.settings.slack_signing_secret or "", self.db, self.clock.now
        )

        async def slack_events(request: Request) -> Response:
            refusal = await slack_gate.refusal(request.headers, await request.body())
            return refusal or await handler.handle(request)

        key_gate = KeyGate(self.settings)  # one count of wrong keys for every API route
        intake_api = IntakeApi(
            self.settings, self.intake, self.actions, self.privacy, self.activities, key_gate
        )
        routes = [
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            *intake_api.routes(),
            *IntakeProfileApi(intake_api, self.intake_profiles).routes(),
            *StatsApi(self.settings, self.stats, self.experiments, key_gate).routes(),
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
        self._periodic("slack-availability", AVAILABILITY_EVERY, self.slack_availability.refresh)
        self._periodic("backfill", AVAILABILITY_EVERY, self.away.backfill)
        self._periodic("leaderboard", DIGEST_CHECK_EVERY, self.leaderboards.queue_due)
        self._periodic("channel-membership", HOUSEKEEPING_EVERY, self.membership.ensure_all)
        self._periodic("guardrails", EVIDENCE_CHECK_EVERY, self.experiments.watch_guardrails)
        self._periodic("quarterly-review", EVIDENCE_CHECK_EVERY, self.review.queue_quarterly)
        if self.settings.retention is not None:
            self._periodic(
                "retention", HOUSEKEEPING_EVERY, self.privacy.erase_expired, self.settings.retention
            )
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket_handler = AsyncSocketModeHandler(self.bolt, self.settings.slack_app_token)
            await self._socket_handler.connect_async()
            log.info("connected to Slack in Socket Mode")
        # Socket Mode's delivery keys and HTTP mode's seen signatures (bot.slack.request_gate)
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
        await self.home.close()
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
