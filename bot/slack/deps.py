"""What the Slack listeners are given by the composition root: the application services
they call, and the bot token for the few Web API calls a listener makes itself."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.admin import AdminService
from bot.services.away import AwayService
from bot.services.channel_membership import ChannelMembershipService
from bot.services.experiments import ExperimentService
from bot.services.leads import LeadActions
from bot.services.offers import OfferService
from bot.services.pulls import PullService
from bot.services.qualification import Qualification
from bot.services.review import ReviewService
from bot.services.slack_availability import SlackAvailabilityRefresher
from bot.services.stats import StatsService
from bot.services.webhook_tests import WebhookTests
from bot.services.why import WhyService
from bot.slack.home_tab import HomeTab


@dataclass(frozen=True)
class SlackDeps:
    actions: LeadActions
    stats: StatsService
    admin: AdminService
    bot_token: str | None
    offers: OfferService
    away: AwayService
    pulls: PullService
    slack_facts: SlackAvailabilityRefresher
    home: HomeTab
    membership: ChannelMembershipService
    qualification: Qualification
    experiments: ExperimentService
    review: ReviewService
    why: WhyService
    webhook_tests: WebhookTests | None = None
