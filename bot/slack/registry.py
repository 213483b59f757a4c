"""Every Slack listener module, registered on the Bolt app in one place.

A listener module exposes `register(app, deps)`; adding one is a line here."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import (
    evidence_listeners,
    first_run,
    listeners,
    qualification_listeners,
    stats_listeners,
)
from bot.slack.admin import listeners as admin_listeners
from bot.slack.deps import SlackDeps

# evidence_listeners first: its subcommand listeners must be tried before the commands'.
# first_run before stats_listeners: its Home tab answers only while there is no
# configuration, and Bolt runs the first listener whose matchers pass.
LISTENER_MODULES = (
    evidence_listeners,
    first_run,
    listeners,
    stats_listeners,
    admin_listeners,
    qualification_listeners,
)


def register_all(app: AsyncApp, deps: SlackDeps) -> None:
    for module in LISTENER_MODULES:
        module.register(app, deps)
