"""The tests' Slack: the product's local workspace (:mod:`bot.localslack`) under the name
the tests have always used."""

from bot.localslack import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    SlackCall,
    SlackWaitTimeout,
)
from bot.localslack import LocalSlack as FakeSlack

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "FakeSlack",
    "SlackCall",
    "SlackWaitTimeout",
]
