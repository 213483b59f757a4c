"""A burst of changes to one person's leads is one Home publish, a change during a
publish schedules another, and closing drops what is not yet due."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from slack_sdk.web.async_client import AsyncWebClient

from bot.localslack import LocalSlack
from bot.slack.home_tab import HomeTab
from domain.reports import Aggregates, Ranked, Scope, build_report

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


class Figures:
    """The two things HomeTab asks of the stats service: a person's leads and figures."""

    async def home(self, user: str, limit: int) -> tuple[list[Any], Any]:
        empty = Aggregates([], {}, Ranked(0, {}), [], [])
        return [], build_report(Scope("rep", user), "30d", NOW - timedelta(days=30), NOW, empty)

    def now(self) -> datetime:
        return NOW


async def test_a_burst_is_one_publish_and_close_drops_the_rest() -> None:
    with LocalSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[])
        home = HomeTab(cast(Any, Figures()), client, quiet=0.2)
        for _ in range(5):
            home.touch("U0ANA", None, "U0BEN")
        await slack.wait_for_async("views.publish", count=2)
        await asyncio.sleep(0.3)
        published = sorted(c.params["user_id"] for c in slack.delivered("views.publish"))
        assert published == ["U0ANA", "U0BEN"]
        assert slack.home_view("U0ANA") is not None
        home.touch("U0ANA")
        await home.close()
        await asyncio.sleep(0.3)
        assert len(slack.delivered("views.publish")) == 2
