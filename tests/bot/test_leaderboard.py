"""The weekly leaderboard is posted once per team and week at its hour, ranks reps by
speed and outcomes (not by how many leads they took), and shows missed offers, which
`/leadstats` shows per rep too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.leaderboard import LeaderboardService
from bot.services.leads import LeadActions
from bot.services.offers import OfferService
from bot.services.stats import StatsService
from bot.slack.leaderboard_views import leaderboard_message
from bot.slack.stats_views import report_view
from domain.config import load_config
from domain.lead import LeadInput
from domain.reports import Scope
from harness.storage import migrated
from storage import tables as t
from storage.uow import Database

UTC_ZONE = ZoneInfo("UTC")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CONFIG = load_config(
    """
reps: [{user: U0FAST}, {user: U0SLOW}]
teams:
  - name: inbound
    channel: C0INBOUND
    strategy: round_robin
    members: [{user: U0FAST}, {user: U0SLOW}]
    accept_within: 10m
    availability: {leaderboard: {day: mon, hour: 9}}
rules: [{name: all, then: {team: inbound}}]
slas: {mql: {respond_within: 1h}}
"""
)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        async with database.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", MONDAY, "test")
        yield database


async def test_the_leaderboard_ranks_speed_and_is_posted_once(db: Database) -> None:
    clock = [MONDAY]
    args = (db, ConfigService(), lambda: clock[0], lambda: None)
    intake, actions, offers = IntakeService(*args), LeadActions(*args), OfferService(*args)

    async def utc(_user: str) -> ZoneInfo:
        return ZoneInfo("UTC")

    board = LeaderboardService(*args, StatsService(*args, utc), leaderboard_message)
    owners: dict[str, list[str]] = {"U0FAST": [], "U0SLOW": []}
    for index in range(4):
        lead = (await intake.submit("web", LeadInput(email=f"l{index}@x.io"), None)).lead
        assert lead.owner is not None
        owners[lead.owner].append(lead.id)
    await offers.decline(owners["U0SLOW"][0], "U0SLOW")  # goes to U0FAST
    clock[0] = MONDAY + timedelta(minutes=2)
    for lead_id in [*owners["U0FAST"], owners["U0SLOW"][0]]:
        await actions.mark_contacted(lead_id, "U0FAST")
    clock[0] = MONDAY + timedelta(minutes=50)
    await actions.mark_contacted(owners["U0SLOW"][1], "U0SLOW")

    clock[0] = MONDAY + timedelta(days=7)  # next Monday 10:00, past the 09:00 hour
    assert await board.queue_due() == 1
    assert await board.queue_due() == 1  # queued again is the same row: one per week
    async with db.snapshot() as uow:
        rows = (
            await uow.connection.execute(
                select(t.outbox.c.target, t.outbox.c.payload).where(
                    t.outbox.c.dedup_key.like("leaderboard:%")
                )
            )
        ).all()
    assert len(rows) == 1 and rows[0].target == "C0INBOUND"
    body = rows[0].payload["blocks"][1]["text"]["text"]
    assert body.splitlines() == [
        "1. <@U0FAST> — 100% within SLA · median 2m · 0 won or opportunity · 3 leads",
        "2. <@U0SLOW> — 100% within SLA · median 50m · 0 won or opportunity · 1 leads"
        " · 1 offers missed",
    ]


async def test_leadstats_shows_each_reps_missed_offers(db: Database) -> None:
    clock = [MONDAY]
    args = (db, ConfigService(), lambda: clock[0], lambda: None)
    intake, offers = IntakeService(*args), OfferService(*args)

    async def utc(_user: str) -> ZoneInfo:
        return ZoneInfo("UTC")

    stats = StatsService(*args, utc)
    lead = (await intake.submit("web", LeadInput(email="m@x.io"), None)).lead
    await offers.decline(lead.id, "U0FAST")
    clock[0] += timedelta(minutes=1)
    for scope in (Scope("team", "inbound"), Scope("rep", "U0FAST")):
        report = await stats.report(scope, "7d", ZoneInfo("UTC"))
        missed = {line.key: line.offers_missed for line in report.reps}
        assert missed.get("U0FAST") == 1, scope
    text = json.dumps(report_view(await stats.report(Scope("team", "inbound"), "7d", UTC_ZONE)))
    assert "<@U0FAST> (weight 1): 0 leads" in text and "1 offers missed" in text
