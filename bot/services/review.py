"""The quarterly routing review: on demand (`leadrouter review`, `/leadrouter review`) and
as a DM to every admin on the first day of each quarter, once across replicas (the
outbox keeps one row per key `review:2026-Q4:ADMIN`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.services.base import ApplicationService
from bot.services.configuration import ConfigService
from domain.config import Config
from domain.errors import DomainError
from domain.review import Review, build_review
from domain.review_config import ReviewConfig
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
    ):
        super().__init__(db, configs, now, wake_outbox)
        self.slack_status = slack_status

    async def review(self, days: int | None = None) -> tuple[Config, Review]:
        async with self.db.snapshot() as uow:
            current = await self.configs.current(uow)
            config = current[1] if current else Config()
            settings = config.review or ReviewConfig()
            end = self.now()
            start = end - timedelta(days=days or settings.days)
            data = await ReviewQueries(uow.connection).review_data(start, end)
        if self.slack_status is not None:
            users = [rep.user for rep in config.reps if rep.user]
            data = replace(data, slack_status=await self.slack_status(users))
        return config, build_review(config, data)

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
