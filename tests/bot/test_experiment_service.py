"""Experiments through the application layer on SQLite and PostgreSQL: intake records the
arm with the lead, the report reads outcomes from the closed loop, a guardrail breach
alerts each admin exactly once however often the watch runs, and promotion is a new
configuration version whose note links the saved report."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.services.configuration import ConfigService
from bot.services.experiments import ExperimentService
from bot.services.intake import IntakeService
from bot.services.leads import LeadActions
from domain.config import validate_config
from domain.lead import parse_lead
from harness.storage import migrated
from storage import tables as t

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
CONFIG = validate_config(
    {
        "admins": ["U0ADMIN", "U0BOSS"],
        "reps": [{"user": u} for u in ("U0ANN", "U0BEN", "U0CAT", "U0DAN")],
        "teams": [
            {"name": "inbound", "members": [{"user": "U0ANN"}, {"user": "U0BEN"}]},
            {"name": "seniors", "members": [{"user": "U0CAT"}, {"user": "U0DAN"}]},
        ],
        "rules": [{"name": "everyone else", "then": {"team": "inbound"}}],
        "experiments": [
            {
                "name": "seniors",
                "segment": {"employees": {"gte": 50}},
                "arms": [{"name": "A"}, {"name": "B", "team": "seniors"}],
                "guardrails": [{"metric": "contacted_within_sla", "max_drop": 5}],
                "end": "2026-12-31",
            }
        ],
    }
)


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at


async def test_arms_outcomes_guardrail_alerts_and_promotion(db_url: str) -> None:
    clock = Clock()
    async with migrated(db_url) as db:
        configs = ConfigService()
        async with db.transaction() as uow:
            await configs.save(uow, CONFIG, "test", NOW, "test")
        intake = IntakeService(db, configs, clock.now, lambda: None)
        actions = LeadActions(db, configs, clock.now, lambda: None)
        experiments = ExperimentService(db, configs, clock.now, lambda: None)
        leads = [
            (
                await intake.submit(
                    "web", parse_lead({"email": f"l{i}@x.io", "employees": 90}), None
                )
            ).lead
            for i in range(160)
        ]
        arms = Counter(lead.decision["arm"] for lead in leads)
        assert set(arms) == {"A", "B"}
        async with db.snapshot() as uow:
            stored = Counter(
                row.arm
                for row in await uow.connection.execute(
                    select(t.leads.c.arm).where(t.leads.c.experiment == "seniors")
                )
            )
        assert stored == arms
        # A contacts every lead within its 2h SLA; B lets every other lead breach.
        for index, lead in enumerate(leads):
            late = lead.decision["arm"] == "B" and index % 2
            at = NOW + (timedelta(hours=3) if late else timedelta(minutes=10))
            clock.at = max(clock.at, at)
            await actions.record_event(lead.id, "contacted", "crm", at, None)
        report = await experiments.report("seniors")
        assert [figures.leads for figures in report.arms] == [arms["A"], arms["B"]]
        assert report.arms[0].rates["contacted_within_sla"].value == 1.0
        assert [breach.arm for breach in report.breaches] == ["B"]

        assert await experiments.watch_guardrails() == 1
        assert await experiments.watch_guardrails() == 1
        async with db.snapshot() as uow:
            alerts = (
                await uow.connection.execute(
                    select(t.outbox.c.target).where(t.outbox.c.dedup_key.like("guardrail:%"))
                )
            ).all()
        assert sorted(row.target for row in alerts) == ["U0ADMIN", "U0BOSS"]

        version, note = await experiments.promote("seniors", "A", "U0ADMIN")
        async with db.snapshot() as uow:
            saved = (
                await uow.connection.execute(
                    select(t.config_versions.c.note).where(t.config_versions.c.id == version)
                )
            ).scalar_one()
        assert saved.startswith(note) and note.startswith("Promoted arm A of experiment seniors")
        report_id = int(saved.rsplit("#", 1)[1])
        kept = await experiments.saved_report(report_id)
        assert kept is not None and kept["report"]["experiment"] == "seniors"
        assert await experiments.watch_guardrails() == 0  # promoted: no longer watched
