"""The quarterly routing review: on demand (`leadrouter review`, `/leadrouter review`) and
as a DM to every admin on the first day of each quarter, once across replicas (the
outbox keeps one row per key `routing_review:2026-Q4:ADMIN`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.services.base import ApplicationService
from bot.services.configuration import ConfigService
from domain.config import Config
from domain.errors import DomainError
from domain.messages import RoutingReview
from domain.review import Review, build_review
from domain.review_config import ReviewConfig, quarter_due
from storage.misroutes import MisrouteRepository
from storage.review_queries import ReviewQueries
from storage.uow import Database

log = logging.getLogger(__name__)
SlackStatus = Callable[[Iterable[str]], Awaitable[dict[str, str]]]


class ReviewService(ApplicationService):
    """`slack_status` asks Slack which reps are gone (None: no Slack, e.g. the CLI
    without a token; that finding is then left out and the review says so)."""

    def __init__(
        self,
        db: Database,
        configs: ConfigService,
        now: Callable[[], datetime],
        wake_outbox: Callable[[], None],
        slack_status: SlackStatus | None = None,
        render: Callable[[Review], dict[str, Any]] | None = None,
    ):
        super().__init__(db, configs, now, wake_outbox)
        self.slack_status = slack_status
        self.render = render
        self._queued: set[str] = set()  # this process's memory; the outbox key is the truth

    async def review(self, days: int | None = None) -> tuple[Config, Review]:
        async with self.db.snapshot() as uow:
            current = await self.configs.current(uow)
            config = current[1] if current else Config()
            settings = config.review or ReviewConfig()
            end = self.now()
            start = end - timedelta(days=days or settings.days)
            data = await ReviewQueries(uow.connection).review_data(start, end)
            if config.scoring is not None:
                data = replace(data, scored=await uow.scoring.rows(start, end, None))
        if self.slack_status is not None:
            users = [rep.user for rep in config.reps if rep.user]
            data = replace(data, slack_status=await self.slack_status(users))
        return config, build_review(config, data)

    async def queue_quarterly(self) -> int:
        """Queue this quarter's review DM to each admin once its day and hour have come
        (domain.review_config.quarter_due); returns how many were queued here."""
        if self.render is None:
            return 0
        async with self.db.snapshot() as uow:
            config = await self.configs.config(uow)
            first = await ReviewQueries(uow.connection).configured_since()
        if config is None or first is None or not config.admins:
            return 0
        quarter = quarter_due(config.review or ReviewConfig(), self.now(), first)
        if quarter is None or quarter in self._queued:
            return 0
        _, review = await self.review()
        message = self.render(review)
        async with self.db.transaction() as uow:
            await uow.outbox.queue(
                [RoutingReview(quarter, admin, message) for admin in config.admins], self.now()
            )
        self._queued.add(quarter)
        self.wake_outbox()
        return len(config.admins)

    async def record_misroute(
        self, lead_id: str, reporter: str, reason: str, text: str | None
    ) -> bool:
        """A rep's "Wrong routing?" report, filed under the rule that routed the lead;
        False when they had already reported it. Never changes the lead."""
        async with self.db.transaction() as uow:
            lead = await uow.leads.get(lead_id)
            if lead is None:
                raise DomainError("That lead no longer exists.")
            rule = lead.decision.get("rule")
            return await MisrouteRepository(uow.connection).record(
                lead_id, reporter, self.now(), rule, reason, text
            )
