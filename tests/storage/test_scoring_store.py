"""Scoring on each backend: a nurture lead is stored with its score and pages nobody;
concurrent activities route it exactly once; Qualified and Disqualify at once leave one
outcome; the report reads what was stored; erasure drops what senders said.

Why both backends: "routed once" and "one outcome" rest on the routing lock and the
lead's compare-and-set, which SQLite and PostgreSQL provide by different means."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.services.activity import ActivityService
from bot.services.configuration import ConfigService
from bot.services.intake import IntakeService
from bot.services.privacy import PrivacyService
from bot.services.qualification import Qualification
from domain.activity import parse_activity
from domain.config import validate_config
from domain.errors import DomainError
from domain.handoff import HandOff
from domain.lead import LeadStatus, parse_lead
from harness.storage import T0, migrated
from storage import tables as t
from storage.uow import Database

CONFIG = {
    "reps": [{"user": "U0ALICE"}, {"user": "U0BOB"}],
    "teams": [
        {
            "name": "inbound",
            "manager": "U0BOSS",
            "members": [{"user": "U0ALICE"}, {"user": "U0BOB"}],
        }
    ],
    "rules": [{"name": "everyone", "then": {"team": "inbound"}}],
    "scoring": {
        "decides": "model",
        "fit": [{"label": "500+ employees", "when": {"employees": {"gte": 500}}, "points": 30}],
        "engagement": [{"label": "webinar", "activity": "webinar_attended", "points": 20}],
        "mql_at": 50,
        "always_route": ["demo_request"],
        "disqualify_reasons": ["no budget", "spam"],
    },
}


@dataclass
class Stack:
    db: Database
    intake: IntakeService
    activities: ActivityService
    qualification: Qualification
    privacy: PrivacyService


@pytest.fixture
async def stack(db_url: str) -> AsyncIterator[Stack]:
    async with migrated(db_url) as db:
        configs = ConfigService()
        async with db.transaction() as uow:
            await configs.save(uow, validate_config(CONFIG), "test", T0, "scoring test")
        services = [
            kind(db, configs, lambda: T0 + timedelta(minutes=1), lambda: None)
            for kind in (IntakeService, ActivityService, Qualification, PrivacyService)
        ]
        yield Stack(db, *services)  # type: ignore[arg-type]


async def _count(db: Database, table: t.Table, *where: object) -> int:
    async with db.snapshot() as uow:
        query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int((await uow.connection.execute(query)).scalar_one())


async def test_concurrent_activity_routes_a_nurture_lead_exactly_once(stack: Stack) -> None:
    lead = parse_lead({"email": "cto@big.io", "employees": 900})
    stored = (await stack.intake.submit("web", lead, None)).lead
    assert stored.status is LeadStatus.NURTURE and stored.scoring is not None
    assert await _count(stack.db, t.outbox) == 0 and await _count(stack.db, t.deadlines) == 0

    webinar = parse_activity({"type": "webinar_attended"}, T0)
    results = await asyncio.gather(
        *(stack.activities.record(stored.id, webinar, "crm") for _ in range(8))
    )
    final = await stack.activities.get(stored.id)
    assert final.status is LeadStatus.ASSIGNED and final.owner in ("U0ALICE", "U0BOB")
    assert final.scoring is not None and final.scoring.engagement == 160
    assert all(result.status is LeadStatus.ASSIGNED for result in results[-1:])
    assert [event.type for event in final.events].count("routed") == 1
    assert await _count(stack.db, t.outbox, t.outbox.c.kind == "lead_card") == 1
    assert await _count(stack.db, t.lead_activities) == 8
    assert await _count(stack.db, t.deadlines, t.deadlines.c.lead_id == stored.id) > 0


async def test_many_concurrent_activities_on_a_worked_lead_all_land(stack: Stack) -> None:
    """Activities always apply (they add up): sixteen at once on one assigned lead are
    all stored and scored, none refused as "changing too fast"."""
    lead = parse_lead({"email": "jo@x.io", "lead_type": "demo_request"})
    stored = (await stack.intake.submit("web", lead, None)).lead
    opened = parse_activity({"type": "email_opened"}, T0)
    await asyncio.gather(*(stack.activities.record(stored.id, opened, "crm") for _ in range(16)))
    final = await stack.activities.get(stored.id)
    assert [event.type for event in final.events].count("activity") == 16
    assert await _count(stack.db, t.lead_activities) == 16


async def test_qualified_and_disqualify_at_once_leave_one_outcome(stack: Stack) -> None:
    lead = parse_lead({"email": "jo@x.io", "lead_type": "demo_request"})
    stored = (await stack.intake.submit("web", lead, None)).lead
    owner = stored.owner
    assert owner is not None

    async def press(action: HandOff, user: str, reason: str | None) -> str:
        try:
            await stack.qualification.hand_off(stored.id, user, action, reason, None)
        except DomainError as error:
            return f"refused: {error}"
        return "done"

    answers = await asyncio.gather(
        press(HandOff.QUALIFY, owner, None), press(HandOff.DISQUALIFY, "U0BOSS", "spam")
    )
    assert sorted(answer.split(":")[0] for answer in answers) == ["done", "refused"]
    final = await stack.activities.get(stored.id)
    outcomes = [e.type for e in final.events if e.type in ("qualified", "disqualified")]
    assert len(outcomes) == 1 and final.status.value == outcomes[0]
    assert final.contacted_at is not None  # an answer counts as contact: the SLA stops
    assert await _count(stack.db, t.deadlines, t.deadlines.c.state == "pending") == 0


async def test_only_owner_manager_or_admin_answer_and_recycle_stops_the_clock(
    stack: Stack,
) -> None:
    lead = parse_lead({"email": "amy@x.io", "lead_type": "demo_request"})
    stored = (await stack.intake.submit("web", lead, None)).lead
    stranger = "U0BOB" if stored.owner == "U0ALICE" else "U0ALICE"
    with pytest.raises(DomainError, match="only its owner"):
        await stack.qualification.hand_off(stored.id, stranger, HandOff.QUALIFY, None, None)
    reason = "just researching"
    await stack.qualification.hand_off(stored.id, "U0BOSS", HandOff.RECYCLE, reason, "call in Q3")
    back = await stack.qualification.get(stored.id)
    assert back.status is LeadStatus.NURTURE and back.owner is None
    assert back.events[-1].data == {"reason": reason, "from": stored.owner}
    assert await _count(stack.db, t.deadlines, t.deadlines.c.state == "pending") == 0


async def test_the_report_reads_grades_outcomes_and_reasons(stack: Stack) -> None:
    hot = (
        await stack.intake.submit(
            "web",
            parse_lead({"email": "a@x.io", "employees": 900, "lead_type": "demo_request"}),
            None,
        )
    ).lead
    cold = (await stack.intake.submit("web", parse_lead({"email": "b@gmail.com"}), None)).lead
    assert hot.owner is not None
    await stack.qualification.hand_off(hot.id, hot.owner, HandOff.DISQUALIFY, "no budget", None)
    async with stack.db.snapshot() as uow:
        rows = {row.grade: row for row in await uow.scoring.rows(T0, T0 + timedelta(hours=1), None)}
    assert rows[hot.scoring.grade].disqualified_reason == "no budget"  # type: ignore[union-attr]
    assert rows[hot.scoring.grade].routed and rows[hot.scoring.grade].contacted  # type: ignore[union-attr]
    assert not rows[cold.scoring.grade].routed  # type: ignore[union-attr]
    assert rows[hot.scoring.grade].lead_type == "demo_request"  # type: ignore[union-attr]


async def test_erasure_drops_what_a_sender_said_about_an_activity(stack: Stack) -> None:
    stored = (await stack.intake.submit("web", parse_lead({"email": "c@x.io"}), None)).lead
    said = parse_activity({"type": "page_view", "attributes": {"note": "Jo Smith, CFO"}}, T0)
    await stack.activities.record(stored.id, said, "crm")
    await stack.privacy.erase(stored.id, "gdpr")
    async with stack.db.snapshot() as uow:
        kept = (
            await uow.connection.execute(
                select(t.lead_activities.c.kind, t.lead_activities.c.attributes)
            )
        ).all()
    assert [(kind, attributes) for kind, attributes in kept] == [("page_view", None)]


async def test_the_owner_hears_each_threshold_once(stack: Stack) -> None:
    lead = parse_lead({"email": "dee@x.io", "lead_type": "demo_request"})
    stored = (await stack.intake.submit("web", lead, None)).lead
    webinar = parse_activity({"type": "webinar_attended"}, T0)
    for _ in range(4):
        await stack.activities.record(stored.id, webinar, "crm")
    async with stack.db.snapshot() as uow:
        notices = (
            await uow.connection.execute(
                select(t.outbox.c.target, t.outbox.c.payload)
                .where(t.outbox.c.dedup_key.like(f"notice:{stored.id}:heat:%"))
                .order_by(t.outbox.c.id)
            )
        ).all()
    assert [target for target, _ in notices] == [stored.owner] * 3
    texts = [payload["text"] for _, payload in notices]
    assert "engagement is warm" in texts[0] and "engagement is hot" in texts[1]
    assert "crossed the MQL line (50)" in texts[2]
