"""The Slack Web API client, counting every failed call by method and error code.

Why wrap the client rather than each caller: the outbox, App Home, modals and
directory lookups all call Slack; one place sees every error, whoever made the call.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import SLACK_ERRORS


class MeteredWebClient(AsyncWebClient):
    async def api_call(self, api_method: str, *args: Any, **kwargs: Any) -> AsyncSlackResponse:
        try:
            return await super().api_call(api_method, *args, **kwargs)
        except SlackApiError as error:
            response = error.response
            code = response.get("error") if isinstance(response.data, dict) else None
            SLACK_ERRORS.labels(api_method, str(code or response.status_code)).inc()
            raise
        except (aiohttp.ClientError, TimeoutError, OSError):
            SLACK_ERRORS.labels(api_method, "network").inc()
            raise
