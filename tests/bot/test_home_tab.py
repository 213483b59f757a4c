"""A burst of changes to one person's leads is one Home publish, changes that keep coming
are one publish per interval reusing recent figures, a change during a publish schedules
another, and closing drops what is not yet due."""

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

    def __init__(self) -> None:
        self.reads = 0

    async def home(self, user: str, limit: int, figures: Any = None) -> tuple[list[Any], Any]:
        if figures is not None:
            return [], figures
        self.reads += 1
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


async def test_changes_that_keep_coming_refresh_a_home_once_per_interval() -> None:
    with LocalSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[])
        figures = Figures()
        home = HomeTab(cast(Any, figures), client, quiet=0.01, refresh_every=0.6)
        home.touch("U0ANA")
        await slack.wait_for_async("views.publish")
        for _ in range(5):
            home.touch("U0ANA")
            await asyncio.sleep(0.05)
        assert len(slack.delivered("views.publish")) == 1, "too soon after the last refresh"
        await slack.wait_for_async("views.publish", count=2)
        await asyncio.sleep(0.1)
        assert len(slack.delivered("views.publish")) == 2, "the changes since, in one refresh"
        assert figures.reads == 1, "a refresh reuses the month's figures read a moment ago"
        await home.publish("U0ANA")
        assert figures.reads == 2, "opening the Home reads them afresh"
        await home.close()
