"""The reps' own controls through the services: away stops new leads with the reason,
back hands them the queued ones at once, Next lead claims the oldest lead of their
teams and the claim cap refuses with when it frees up; Decline passes an offer on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.services.away import AwayService
from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.leads import LeadActions, NotAllowed
from bot.services.offers import OfferNotYours, OfferService
from bot.services.pulls import PullService
from bot.slack.availability_commands import home_controls
from domain.config import load_config
from domain.errors import DomainError
from domain.lead import LeadInput
from domain.signals import AwayToggle
from harness.storage import migrated
from storage.uow import Database

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
CONFIG = load_config(
    """
reps: [{user: U0ANA, timezone: Europe/Berlin}, {user: U0BEN}]
teams:
  - {name: push, channel: C0PUSH, members: [{user: U0ANA}], availability: {backfill: true},
     accept_within: 5m}
  - {name: pool, channel: C0POOL, method: pull, members: [{user: U0ANA}, {user: U0BEN}],
     caps: {claims_per_hour: 2}}
rules:
  - {name: pool, when: {source: pool}, then: {team: pool}}
  - {name: all, then: {team: push}}
"""
)


class Services:
    def __init__(self, db: Database):
        self.clock = [NOW]
        args = (db, ConfigService(), lambda: self.clock[0], lambda: None)
        self.intake = IntakeService(*args)
        self.actions = LeadActions(*args)
        self.away = AwayService(*args)
        self.offers = OfferService(*args)
        self.pulls = PullService(self.actions)
        self.made = 0

    async def lead(self, source: str = "web") -> str:
        self.made += 1
        self.clock[0] += timedelta(seconds=1)  # created one after the other
        fields = LeadInput(email=f"lead{self.made}@x.io", source=source)
        return (await self.intake.submit("web", fields, None)).lead.id


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await ConfigService().save(uow, CONFIG, "test", NOW, "test")
        yield Services(db)


async def test_away_stops_leads_and_back_hands_over_the_queued_ones(services: Services) -> None:
    said = await services.away.away("U0ANA", ["until", "17:30"])
    assert said.startswith("You are away until 17:30:")  # Berlin time
    lead_id = await services.lead()
    queued = await services.actions.get(lead_id)
    assert queued.owner is None
    assert "Skipped U0ANA: away until 17:30 (their own toggle)" in queued.decision["reasons"]
    assert await services.away.back("U0ANA") == "Welcome back: 1 queued lead came to you."
    handed = await services.actions.get(lead_id)
    assert handed.owner == "U0ANA"
    assert [event.type for event in handed.events][-2:] == ["assigned", "offer_made"]


async def test_an_expired_away_ends_by_itself_and_backfill_follows(services: Services) -> None:
    await services.away.away("U0ANA", ["for", "30m"])
    lead_id = await services.lead()
    assert (await services.actions.get(lead_id)).owner is None
    services.clock[0] += timedelta(minutes=31)
    assert [lead.id for lead, _ in await services.away.backfill()] == [lead_id]
    assert await services.away.away_toggle("U0ANA") is None


async def test_next_lead_claims_the_oldest_and_the_claim_cap_refuses_with_when(
    services: Services,
) -> None:
    first, second, third = [await services.lead("pool") for _ in range(3)]
    claimed = await services.pulls.next_lead("U0BEN")
    assert claimed.lead.id == first and claimed.lead.owner == "U0BEN"
    services.clock[0] += timedelta(minutes=10)
    assert (await services.pulls.next_lead("U0BEN")).lead.id == second
    with pytest.raises(
        NotAllowed,
        match=r"at the claim cap of pool \(2 claims in the last hour; "
        r"free again at 16:00\)",
    ):
        await services.pulls.next_lead("U0BEN")
    services.clock[0] += timedelta(minutes=51)
    assert (await services.pulls.next_lead("U0BEN")).lead.id == third
    with pytest.raises(DomainError, match="No unclaimed leads"):
        await services.pulls.next_lead("U0ANA")


async def test_decline_passes_the_offer_on_and_a_stale_accept_is_refused(
    services: Services,
) -> None:
    lead_id = await services.lead()
    with pytest.raises(OfferNotYours, match="went to <@U0ANA>"):
        await services.offers.accept(lead_id, "U0BEN")
    assert await services.offers.decline(lead_id, "U0ANA") == (
        "Declined: the lead goes to the next rep."
    )
    after = await services.actions.get(lead_id)
    assert after.owner is None  # nobody else in the team: the channel has it
    assert after.events[-1].type == "declined"
    with pytest.raises(OfferNotYours, match="back to the team channel"):
        await services.offers.accept(lead_id, "U0ANA")


def test_app_home_gets_the_toggle_and_next_lead_beside_its_buttons() -> None:
    view = {"type": "home", "blocks": [{"type": "actions", "block_id": "pto", "elements": []}]}
    taking = home_controls(view, None)
    assert [b["action_id"] for b in taking["blocks"][0]["elements"]] == [
        "toggle_away",
        "next_lead",
    ]
    away = home_controls(view, AwayToggle(since=NOW, until=NOW + timedelta(hours=2)))
    assert away["blocks"][0]["text"]["text"].startswith(":double_vertical_bar: You are away until")
    assert away["blocks"][1]["elements"][0]["text"]["text"] == "I'm back"
