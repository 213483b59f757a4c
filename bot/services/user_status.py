"""Which reps Slack says are gone, for the review: `users.info` per rep.

A deactivated account answers with `"deleted": true` in its user object
(https://api.slack.com/types/user); an id the workspace no longer knows fails with
`user_not_found`. Any other failure leaves the rep out of the finding rather than
guessing."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


async def gone_from_slack(client: AsyncWebClient, users: Iterable[str]) -> dict[str, str]:
    """`{user: "deactivated" | "deleted"}` for the reps Slack no longer has active."""
    gone: dict[str, str] = {}
    for user in users:
        try:
            answer = await client.users_info(user=user)
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                gone[user] = "deleted"
            else:
                log.warning("users.info for %s failed (%s); not judged", user, error)
            continue
        if answer["user"].get("deleted"):
            gone[user] = "deactivated"
    return gone
