"""A local Slack workspace: the Web API the app calls, the state a person would see, the
faults Slack produces, and people acting on the app with signed requests.

Why in the product: ``leadrouter demo`` runs the real bot against it with no Slack
account, and every end-to-end test uses it as Slack's stand-in. One facade,
:class:`LocalSlack`, over parts with one job each: :mod:`.calls` (the record of requests),
:mod:`.faults` (injection), :mod:`.workspace` (state), :mod:`.webapi` (methods),
:mod:`.http` (serving), :mod:`.person` (acting), :mod:`.payloads` and :mod:`.signing`
(requests as Slack sends them).
"""

from .calls import SlackCall, SlackWaitTimeout
from .identity import APP_ID, BOT_ID, BOT_USER_ID, DEFAULT_TZ, TEAM_DOMAIN, TEAM_ID, TEAM_NAME
from .manifest import AppManifest
from .person import AppReply, Person
from .server import LocalSlack
from .workspace import Channel, dm_channel_id

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "DEFAULT_TZ",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "AppManifest",
    "AppReply",
    "Channel",
    "LocalSlack",
    "Person",
    "SlackCall",
    "SlackWaitTimeout",
    "dm_channel_id",
]
