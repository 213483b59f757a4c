"""Who the local workspace is: the ids Slack would give the team, the bot and the app.

Why one module: the Web API answers (``auth.test``), the payloads a person sends
(``team``, ``api_app_id``) and the tests must all agree on them.
"""

from __future__ import annotations

TEAM_ID = "T0TEST"
TEAM_NAME = "Leadrouter Test"
TEAM_DOMAIN = "leadrouter-test"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0LEADROUTER"
DEFAULT_TZ = "America/New_York"
