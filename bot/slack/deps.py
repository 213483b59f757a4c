"""What the Slack listeners are given by the composition root: the application services
they call, and the bot token for the few Web API calls a listener makes itself."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.admin import AdminService
from bot.services.experiments import ExperimentService
from bot.services.leads import LeadActions
from bot.services.review import ReviewService
from bot.services.stats import StatsService
from bot.services.why import WhyService


@dataclass(frozen=True)
class SlackDeps:
    actions: LeadActions
    stats: StatsService
    admin: AdminService
    bot_token: str | None
    experiments: ExperimentService
    review: ReviewService
    why: WhyService
