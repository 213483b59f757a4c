"""A small hand-worked month of leads through the stats queries, on SQLite and PostgreSQL.

Every expected figure below is worked out by hand in the comments, so a wrong GROUP BY,
a wrong rank or a backend difference fails here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select, update

from domain.lead import LeadInput, LeadStatus, Method
from domain.lifecycle import stage_reached
from domain.records import LeadRecord
from domain.reports import Report, Scope, build_report
from harness.storage import migrated
from storage import tables as t
from storage.migrate import _alembic_config, upgrade_to_head
from storage.uow import Database

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
DAY = timedelta(days=1)
S = timedelta(seconds=1)
WEIGHTS = {"U0A": 3, "U0B": 1, "U0C": 1, "U0D": 1}  # U0D is in the team and got nothing


def _lead(
    day: int,
    *,
    owner: str | None,
    source: str,
    lead_type: str,
    method: Method,
    rule: str,
    status: LeadStatus,
    sla: timedelta,
    contact_after: timedelta | None = None,
    claim_after: timedelta | None = None,
    team: str = "enterprise",
    created: datetime | None = None,
) -> LeadRecord:
    created_at = created or START + (day - 1) * DAY + timedelta(hours=10)
    assigned = claim_after if claim_after is not None else timedelta(0)
    return LeadRecord(
        id=uuid.uuid4().hex,
        created_at=created_at,
        submitter="webform",
        fields=LeadInput(email=f"{uuid.uuid4().hex[:8]}@x.io", source=source, lead_type=lead_type),
        status=status,
        owner=owner,
        team=team,
        method=method,
        decision={"rule": rule, "reasons": []},
        sla_due_at=created_at + sla,
        assigned_at=created_at + assigned if owner else None,
        contacted_at=created_at + contact_after if contact_after is not None else None,
        version=1,
    )


PUSH = {"method": Method.PUSH, "rule": "enterprise"}
M5, M15, H2, H24 = (timedelta(minutes=m) for m in (5, 15, 120, 1440))


def month() -> tuple[list[LeadRecord], list[dict[str, Any]]]:
    """Ten leads in the team in November, plus two that the team scope must leave out."""
    won = _lead(1, owner="U0A", source="web_form", lead_type="demo_request",
                status=LeadStatus.WON, sla=M5, contact_after=120 * S, **PUSH)  # fmt: skip
    missed = _lead(2, owner="U0A", source="web_form", lead_type="demo_request",
                   status=LeadStatus.CONTACTED, sla=M5, contact_after=600 * S, **PUSH)  # fmt: skip
    lost = _lead(3, owner="U0A", source="paid_ads", lead_type="demo_request",
                 status=LeadStatus.LOST, sla=M5, contact_after=240 * S, **PUSH)  # fmt: skip
    ignored = _lead(4, owner="U0A", source="paid_ads", lead_type="demo_request",
                    status=LeadStatus.ASSIGNED, sla=M5, **PUSH)  # fmt: skip
    lost_opp = _lead(5, owner="U0B", source="web_form", lead_type="demo_request",
                     status=LeadStatus.LOST, sla=M5, contact_after=60 * S, **PUSH)  # fmt: skip
    qualified = _lead(6, owner="U0B", source="referral", lead_type="referral",
                      status=LeadStatus.QUALIFIED, sla=M15, contact_after=1800 * S,
                      **PUSH)  # fmt: skip
    pulled = _lead(7, owner="U0C", source="web_form", lead_type="mql", method=Method.PULL,
                   rule="healthcare", status=LeadStatus.CONTACTED, sla=H2,
                   contact_after=900 * S, claim_after=300 * S)  # fmt: skip
    waiting_mql = _lead(20, owner=None, source="content", lead_type="mql", method=Method.PULL,
                        rule="healthcare", status=LeadStatus.QUEUED, sla=H2)  # fmt: skip
    waiting_event = _lead(25, owner=None, source="event", lead_type="event", method=Method.PULL,
                          rule="healthcare", status=LeadStatus.QUEUED, sla=H24)  # fmt: skip
    pooled = _lead(26, owner="U0C", source="referral", lead_type="demo_request",
                   method=Method.POOL, rule="pool", status=LeadStatus.ASSIGNED, sla=M5,
                   claim_after=1200 * S)  # fmt: skip
    october = _lead(0, owner="U0A", source="web_form", lead_type="demo_request",
                    status=LeadStatus.CONTACTED, sla=M5, contact_after=S,
                    created=START - timedelta(hours=1), **PUSH)  # fmt: skip
    other_team = _lead(10, owner="U0A", source="web_form", lead_type="mql", team="smb",
                       status=LeadStatus.CONTACTED, sla=H2, contact_after=30 * S,
                       **PUSH)  # fmt: skip
    leads = [won, missed, lost, ignored, lost_opp, qualified, pulled, waiting_mql,
             waiting_event, pooled, october, other_team]  # fmt: skip
    events: list[dict[str, Any]] = []

    def event(lead: LeadRecord, type_: str, at: datetime) -> None:
        events.append({"lead_id": lead.id, "at": at, "type": type_, "actor": "crm"})

    for lead in leads:
        event(lead, "created", lead.created_at)
        if lead.contacted_at:
            event(lead, "contacted", lead.contacted_at)
    # won: contacted -1h-> qualified -1d-> opportunity -5d-> won
    event(won, "qualified", won.contacted_at + 3600 * S)  # type: ignore[operator]
    event(won, "opportunity", won.contacted_at + 3600 * S + DAY)  # type: ignore[operator]
    event(won, "won", won.contacted_at + 3600 * S + 6 * DAY)  # type: ignore[operator]
    # lost: contacted -2h-> qualified -1d-> lost (never an opportunity)
    event(lost, "qualified", lost.contacted_at + 7200 * S)  # type: ignore[operator]
    event(lost, "lost", lost.contacted_at + 7200 * S + DAY)  # type: ignore[operator]
    # lost_opp: contacted -3d-> opportunity -2d-> lost
    event(lost_opp, "opportunity", lost_opp.contacted_at + 3 * DAY)  # type: ignore[operator]
    event(lost_opp, "lost", lost_opp.contacted_at + 5 * DAY)  # type: ignore[operator]
    # qualified: contacted -1h-> qualified, and still there
    event(qualified, "qualified", qualified.contacted_at + 3600 * S)  # type: ignore[operator]
    return leads, events


def _stage_times(events: list[dict[str, Any]]) -> dict[tuple[str, str], datetime]:
    """What the lead actions write on a lead as the events happen: each stage's first time."""
    times: dict[tuple[str, str], datetime] = {}
    for event in events:
        stage = stage_reached(event["type"])
        if stage is not None:
            key = (event["lead_id"], f"{stage}_at")
            times[key] = min(times.get(key, event["at"]), event["at"])
    return times


async def _report(url: str, scope: Scope) -> Report:
    leads, events = month()
    async with migrated(url) as db:
        async with db.transaction() as uow:
            await uow.leads.add_many([(lead, None, None) for lead in leads])
            await uow.events.add_many([{**e, "reason": None, "data": None} for e in events])
            for (lead_id, column), at in _stage_times(events).items():
                await uow.connection.execute(
                    update(t.leads).where(t.leads.c.id == lead_id).values({column: at})
                )
        async with db.snapshot() as uow:
            aggregates = await uow.stats.aggregates(scope, START, END, END)
    weights = WEIGHTS if scope.kind == "team" else None
    return build_report(scope, "30d", START, END, aggregates, weights)


async def test_team_month_matches_the_hand_computed_figures(db_url: str) -> None:
    report = await _report(db_url, Scope("team", "enterprise"))

    # Leads per rep: A 4, B 2, C 2, D 0. Gini of [0, 2, 2, 4]: mean |xi - xj| over all
    # 16 ordered pairs is 24/16 = 1.5; divided by twice the mean (2 * 2) = 0.375.
    assert [(r.key, r.tally.leads, r.weight) for r in report.reps] == [
        ("U0A", 4, 3), ("U0B", 2, 1), ("U0C", 2, 1), ("U0D", 0, 1),
    ]  # fmt: skip
    assert report.gini == pytest.approx(0.375)
    assert report.total.leads == 10 and report.unassigned == 2

    # Response times: 60, 120, 240, 600, 900, 1800 s. Median: halfway between 240 and 600
    # = 420. p90: rank 0.9 * 5 = 4.5, halfway between 900 and 1800 = 1350.
    assert (report.response.count, report.response.median, report.response.p90) == (6, 420, 1350)
    by_rep = {r.key: r for r in report.reps}
    # A: 120, 240, 600 -> median 240; p90 at rank 1.8 = 240 + 0.8 * 360 = 528.
    assert (by_rep["U0A"].response.median, by_rep["U0A"].response.p90) == (240, pytest.approx(528))
    # B: 60, 1800 -> median 930; p90 at rank 0.9 = 60 + 0.9 * 1740 = 1626.
    assert (by_rep["U0B"].response.median, by_rep["U0B"].response.p90) == (930, pytest.approx(1626))
    assert by_rep["U0C"].response.median == 900 and by_rep["U0D"].response.count == 0

    # SLA: decided = 6 contacted + 4 past due without contact; met = 120 s, 240 s, 60 s
    # (5 min SLAs) and 900 s (2 h SLA) = 4 of 10.
    assert report.total.sla_rate == pytest.approx(0.4)
    assert {r.key: (r.tally.sla_met, r.tally.sla_decided) for r in report.reps} == {
        "U0A": (2, 4), "U0B": (1, 2), "U0C": (1, 2), "U0D": (0, 0),
    }  # fmt: skip
    by_source = {s.key: s.tally for s in report.sources}
    assert by_source["web_form"].sla_rate == pytest.approx(0.75)  # 120, 60, 900 of 4
    assert by_source["paid_ads"].sla_rate == pytest.approx(0.5)
    assert by_source["referral"].sla_rate == 0.0
    assert by_source["web_form"].mean_response == pytest.approx(420)  # (120+600+60+900)/4
    assert by_source["content"].mean_response is None  # nobody contacted yet

    # Conversion: push 6 leads, 2 reached opportunity (won, and lost after opportunity),
    # 1 won -> 33% to opportunity, 50% win rate. Pull and pool: none.
    methods = {m.key: m.tally for m in report.methods}
    assert (methods["push"].leads, methods["push"].opportunities, methods["push"].won) == (6, 2, 1)
    assert methods["push"].opportunity_rate == pytest.approx(1 / 3)
    assert methods["push"].win_rate == pytest.approx(0.5)
    assert (methods["pull"].leads, methods["pull"].opportunity_rate) == (3, 0.0)
    assert methods["pool"].win_rate is None  # no opportunity: no data, not 0%
    assert [(r.key, r.tally.leads) for r in report.rules] == [
        ("enterprise", 6), ("healthcare", 3), ("pool", 1),
    ]  # fmt: skip

    # Queues: pull mql claimed after 300 s with one still waiting since Nov 20 10:00;
    # the pull event lead waits since Nov 25 10:00; pool demo claimed after 1200 s.
    queues = {(q.method, q.lead_type): q for q in report.queues}
    mql = queues[("pull", "mql")]
    assert (mql.claimed, mql.wait.median, mql.unclaimed) == (1, 300, 1)
    waiting_since = datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert mql.longest_unclaimed_seconds == (END - waiting_since).total_seconds()
    assert (queues[("pull", "event")].claimed, queues[("pull", "event")].unclaimed) == (0, 1)
    assert queues[("pool", "demo_request")].wait.median == 1200
    assert [q.lead_type for q in report.queues if q.method == "pull"] == ["mql", "event"]

    # Stages. Awaiting contact: 10 reached, 6 left after 3720 s in all (mean 620), 4 still
    # open. Contacted: 6 reached, 4 moved on after 1h, 2h, 3d and 1h (mean 68,400 s),
    # 2 still there. Qualified: 3 reached, 2 left after 1 day each, 1 still there.
    # Opportunity: 2 reached, both closed after 5 and 2 days (mean 3.5 days).
    assert [(s.stage, s.reached, s.left, s.mean_seconds, s.now_in) for s in report.stages] == [
        ("awaiting contact", 10, 6, 620, 4),
        ("contacted", 6, 4, 68_400, 2),
        ("qualified", 3, 2, 86_400, 1),
        ("opportunity", 2, 2, 3.5 * 86_400, 0),
    ]


async def test_response_time_distribution(db_url: str) -> None:
    leads, _ = month()
    async with migrated(db_url) as db:
        async with db.transaction() as uow:
            await uow.leads.add_many([(lead, None, None) for lead in leads])
        async with db.snapshot() as uow:
            counts = await uow.stats.response_histogram(Scope("team", "enterprise"), START, END)
    # Upper bounds are exclusive: 60, 120 and 240 s in "1-5m", 600 s in "5-15m", 900 s
    # in "15-30m", 1800 s in "30-60m".
    assert counts == [0, 3, 1, 1, 1, 0, 0, 0, 0]


async def test_rep_scope_follows_the_rep_across_teams(db_url: str) -> None:
    report = await _report(db_url, Scope("rep", "U0A"))
    # A's four November enterprise leads and the smb one; October is outside the period.
    assert report.total.leads == 5 and report.gini is None
    assert [r.key for r in report.reps] == ["U0A"]
    assert report.response.count == 4 and report.response.median == pytest.approx(180)


async def test_an_empty_scope_gives_no_data_rather_than_zeros(db_url: str) -> None:
    report = await _report(db_url, Scope("source", "billboard"))
    assert report.total.leads == 0 and report.total.sla_rate is None
    assert report.response.median is None and report.reps == [] and report.gini == 0.0
    assert all(stage.reached == 0 and stage.mean_seconds is None for stage in report.stages)


async def test_migration_0004_backfills_stage_times_from_the_events(db_url: str) -> None:
    """Leads stored before 0004 get their stage times from their events."""
    leads, events = month()
    db = Database(db_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "0003"))
        async with db.transaction() as uow:
            # The columns of 0003: today's repository writes ones an older schema lacks.
            await uow.connection.execute(insert(t.leads), [_row_0003(lead) for lead in leads])
            await uow.events.add_many([{**e, "reason": None, "data": None} for e in events])
        await upgrade_to_head(db.engine)
        async with db.snapshot() as uow:
            rows = await uow.connection.execute(
                select(t.leads.c.id, t.leads.c.qualified_at, t.leads.c.opportunity_at,
                       t.leads.c.closed_at)
            )  # fmt: skip
            stored = {
                (row.id, column): getattr(row, column)
                for row in rows
                for column in ("qualified_at", "opportunity_at", "closed_at")
                if getattr(row, column) is not None
            }
    finally:
        await db.dispose()
    assert stored == _stage_times(events) and len(stored) == 8


def _row_0003(lead: LeadRecord) -> dict[str, Any]:
    return {
        "id": lead.id,
        "created_at": lead.created_at,
        "updated_at": lead.created_at,
        "submitter": lead.submitter,
        "lead_type": lead.fields.lead_type,
        "fields": lead.fields.model_dump(mode="json", exclude_none=True),
        "status": str(lead.status),
        "owner": lead.owner,
        "team": lead.team,
        "method": str(lead.method),
        "decision": lead.decision,
        "version": lead.version,
    }
