"""Every Slack listener module, registered on the Bolt app in one place.

A listener module exposes `register(app, deps)`; adding one is a line here."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import availability_listeners, listeners, stats_listeners
from bot.slack.admin import listeners as admin_listeners
from bot.slack.deps import SlackDeps

LISTENER_MODULES = (listeners, stats_listeners, admin_listeners, availability_listeners)


def register_all(app: AsyncApp, deps: SlackDeps) -> None:
    for module in LISTENER_MODULES:
        module.register(app, deps)
