"""The review's counts, misroute reports and /leads why's recent decisions, on SQLite and
PostgreSQL: every figure below is counted by hand from the leads stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from domain.lead import LeadStatus
from domain.records import LeadRecord
from domain.reports import Tally
from harness.storage import T0, make_lead, migrated
from storage.misroutes import MisrouteRepository
from storage.review_queries import ReviewQueries
from storage.why_queries import WhyQueries

DAY = timedelta(days=1)


def _routed(rule: str, owner: str | None, team: str, days_ago: int, **changes: Any) -> LeadRecord:
    lead = make_lead(owner=owner, created_at=T0 - days_ago * DAY)
    decision = {"rule": rule, "owner": owner, "candidates": [owner] if owner else [], "skipped": []}
    return replace(lead, team=team, decision=decision, **changes)


async def test_review_counts_rules_team_shares_slices_and_misroutes(db_url: str) -> None:
    contacted = {"contacted_at": T0 - 80 * DAY + timedelta(minutes=2)}
    leads = [
        _routed("big", "U0ANN", "sales", 80, status=LeadStatus.CONTACTED, **contacted),
        _routed("big", "U0ANN", "sales", 70),
        _routed("big", "U0BEN", "sales", 10),
        _routed("others", None, "sdr", 5, status=LeadStatus.QUEUED),
        _routed("others", "U0BEN", "sales", 200),  # before the period
    ]
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await uow.leads.add_many([(lead, None, None) for lead in leads])
            misroutes = MisrouteRepository(uow.connection)
            assert await misroutes.record(leads[0].id, "U0ANN", T0, "big", "territory", None)
            assert not await misroutes.record(leads[0].id, "U0ANN", T0, "big", "other", "x")
            assert await misroutes.record(leads[2].id, "U0BEN", T0, "big", "product", None)
        async with db.snapshot() as uow:
            data = await ReviewQueries(uow.connection).review_data(T0 - 90 * DAY, T0 + DAY)
    assert data.rules["big"].leads == 3 and data.rules["others"].leads == 1
    assert data.rules["big"].contacted == 1 and data.rules["big"].sla_met == 1
    assert data.rules["big"] + data.rules["others"] == Tally(
        leads=4,
        contacted=1,
        sla_met=1,
        sla_decided=4,
        response_seconds=120.0,
    )
    assert data.team_leads == {"sales": {"U0ANN": 2, "U0BEN": 1}}
    assert [dict(counts) for _, counts in data.slices] == [
        {"U0ANN": 2},
        {},
        {"U0BEN": 1},
    ]
    assert sorted((m.rule, m.reason, m.count) for m in data.misroutes) == [
        ("big", "product", 1),
        ("big", "territory", 1),
    ]


async def test_recent_decisions_are_the_reps_own_and_their_teams_newest_first(
    db_url: str,
) -> None:
    mine = _routed("big", "U0ANN", "sales", 3)
    team = _routed("big", "U0BEN", "sales", 2)
    elsewhere = _routed("others", "U0CAT", "sdr", 1)
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await uow.leads.add_many([(lead, None, None) for lead in (mine, team, elsewhere)])
        async with db.snapshot() as uow:
            found = await WhyQueries(uow.connection).recent_decisions("U0ANN", ["sales"], 10)
    assert [lead_id for lead_id, _, _ in found] == [team.id, mine.id]
    assert found[1][2]["owner"] == "U0ANN"
